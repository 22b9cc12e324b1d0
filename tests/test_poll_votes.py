"""Votes through the webhook: buttons, lists and template quick replies; one vote per
subscriber, changeable until closing; forged, late, duplicate and reordered taps."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from stadtbote import retention
from stadtbote.broadcasts import actions as posts
from stadtbote.broadcasts import tasks as sending
from stadtbote.broadcasts.models import Delivery, Template
from stadtbote.channels.models import InboundWebhook, SendState
from stadtbote.channels.sending import SendLoop
from stadtbote.dialogue import tasks
from stadtbote.dialogue.models import Reply
from stadtbote.polls import actions, results
from stadtbote.polls import retention as poll_retention
from stadtbote.polls.models import Poll, Vote
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.export import export
from stadtbote.subscribers.models import District
from tests.helpers import (
    ALICE,
    BOB,
    active_subscriber,
    compact,
    envelope,
    post_webhook,
    text_message,
    wamid,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


@pytest.fixture
def network(monkeypatch):
    sent = []
    monkeypatch.setattr(
        SendLoop,
        "send_many",
        lambda self, items: [sent.append(i) or f"wamid.POLL{len(sent)}" for i in items],
    )
    return sent


@pytest.fixture
def editor(django_user_model):
    user = django_user_model.objects.create(username="editor")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_post", "change_post", "approve_post"])
    )
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def approver(django_user_model):
    user = django_user_model.objects.create(username="approver")
    user.user_permissions.add(*Permission.objects.filter(codename="approve_post"))
    return django_user_model.objects.get(pk=user.pk)


def sent_poll(editor, approver, answers=("Ja", "Nein"), **fields) -> Poll:
    poll = actions.create_poll(
        editor, title="Radweg", question="Soll der Radweg kommen?", answers=answers, **fields
    )
    posts.submit(poll.post, editor)
    posts.approve(poll.post, approver)
    while sending.dispatch_once():
        pass
    poll.refresh_from_db()
    return poll


def tap(sender, choice_id, *, kind="button_reply", at=None, message_id=None) -> str:
    message_id = message_id or wamid()
    at = at or int(time.time())
    if kind == "button":
        message = {"type": "button", "button": {"payload": choice_id, "text": "Ja"}}
    else:
        message = {
            "type": "interactive",
            "interactive": {"type": kind, kind: {"id": choice_id, "title": "x"}},
        }
    payload = envelope(
        {"messages": [{"from": sender, "id": message_id, "timestamp": str(at), **message}]}
    )
    assert post_webhook(Client(), compact(payload)).status_code == 200
    tasks.apply_inbound_once()
    return message_id


def option_id(poll: Poll, position: int) -> str:
    return f"poll:{poll.pk}:{poll.options.get(position=position).key}"


def last_reply_text() -> str:
    return Reply.objects.order_by("-id").first().content["text"]


def counts(poll: Poll) -> list[int]:
    return [o.votes for o in results.results(poll).options]


def test_a_poll_of_two_answers_goes_out_as_reply_buttons(editor, approver, network):
    active_subscriber()
    poll = sent_poll(editor, approver)
    message = network[0].message
    assert [b.title for b in message.buttons] == ["Ja", "Nein"]
    assert [b.id for b in message.buttons] == [option_id(poll, 0), option_id(poll, 1)]
    assert message.text.startswith("Soll der Radweg kommen?")
    assert message.tracker == f"d{Delivery.objects.get().pk}"


def test_a_poll_of_more_than_three_answers_goes_out_as_a_list(editor, approver, network):
    active_subscriber()
    answers = [f"Antwort {n}" for n in range(1, 8)]
    poll = sent_poll(editor, approver, answers=answers)
    menu = network[0].message.menu
    assert [r.title for r in menu.rows] == answers
    assert menu.rows[6].id == option_id(poll, 6)


def test_a_vote_is_counted_and_confirmed(editor, approver, network):
    active_subscriber()
    poll = sent_poll(editor, approver)
    tap(ALICE, option_id(poll, 0))
    assert counts(poll) == [1, 0]
    assert "Ihre Stimme ist gezählt: *Ja*" in last_reply_text()


def test_a_new_tap_changes_the_vote_and_an_older_one_arriving_late_does_not(
    editor, approver, network
):
    active_subscriber()
    poll = sent_poll(editor, approver)
    now = int(time.time())
    tap(ALICE, option_id(poll, 0), at=now - 60)
    tap(ALICE, option_id(poll, 1), at=now - 30)
    assert counts(poll) == [0, 1]
    replies = Reply.objects.count()
    tap(ALICE, option_id(poll, 0), at=now - 45)  # tapped between, delivered last
    assert counts(poll) == [0, 1]
    assert Reply.objects.count() == replies  # nothing to confirm
    assert Vote.objects.count() == 1


def test_the_same_webhook_twice_counts_once(editor, approver, network):
    active_subscriber()
    poll = sent_poll(editor, approver, answers=("Radweg", "Parkplatz", "Bäume"), multiple=True)
    message_id = tap(ALICE, option_id(poll, 2))
    tap(ALICE, option_id(poll, 2), message_id=message_id)  # Meta repeats; a toggle would undo
    assert counts(poll) == [0, 0, 1]


def test_several_answers_toggle_one_tap_at_a_time(editor, approver, network):
    active_subscriber()
    poll = sent_poll(editor, approver, answers=("Radweg", "Parkplatz", "Bäume"), multiple=True)
    tap(ALICE, option_id(poll, 0))
    tap(ALICE, option_id(poll, 2))
    assert counts(poll) == [1, 0, 1]
    assert "Ihre Auswahl: *Radweg, Bäume*" in last_reply_text()
    tap(ALICE, option_id(poll, 0))
    assert counts(poll) == [0, 0, 1]
    found = results.results(poll)
    assert (found.voters, found.options[2].share) == (1, 1.0)


def test_a_list_row_votes_like_a_button(editor, approver, network):
    active_subscriber()
    poll = sent_poll(editor, approver, answers=[f"A{n}" for n in range(5)])
    tap(ALICE, option_id(poll, 4), kind="list_reply")
    assert counts(poll) == [0, 0, 0, 0, 1]


@pytest.mark.parametrize(
    "forged",
    [
        "poll:{pk}:ffffffff",
        "poll:{other}:{key}",
        "poll:{pk}:",
        "poll:abc:{key}",
        "poll:{pk}:" + "k" * 40,
        "poll:²:{key}",  # a digit to isdigit(), not to int()
        "poll:" + "9" * 30 + ":{key}",
    ],
)
def test_a_forged_or_unknown_answer_changes_nothing_and_is_counted_as_rejected(
    editor, approver, network, forged
):
    active_subscriber()
    poll = sent_poll(editor, approver)
    replies = Reply.objects.count()
    tap(ALICE, forged.format(pk=poll.pk, other=poll.pk + 1000, key=poll.options.first().key))
    assert counts(poll) == [0, 0]
    assert Reply.objects.count() == replies
    poll.refresh_from_db()
    well_formed_for_this_poll = forged.startswith("poll:{pk}:f")
    assert results.results(poll).rejected == (1 if well_formed_for_this_poll else 0)
    assert list(InboundWebhook.objects.values_list("state", flat=True)) == ["applied"]


def test_a_tap_from_someone_the_poll_was_not_sent_to_is_rejected(editor, approver, network):
    active_subscriber(ALICE)
    poll = sent_poll(editor, approver)
    active_subscriber(BOB)
    tap(BOB, option_id(poll, 0))
    poll.refresh_from_db()
    assert (counts(poll), results.results(poll).rejected) == ([0, 0], 1)


def test_a_vote_after_closing_gets_a_polite_answer_and_is_not_counted(editor, approver, network):
    active_subscriber()
    poll = sent_poll(editor, approver, closes_at=timezone.now() + timedelta(hours=1))
    Poll.objects.update(closes_at=timezone.now() - timedelta(minutes=1))
    tap(ALICE, option_id(poll, 0))
    poll.refresh_from_db()
    assert (counts(poll), results.results(poll).late) == ([0, 0], 1)
    assert "Umfrage ist seit" in last_reply_text()


def test_a_tap_before_closing_that_arrives_after_it_still_counts(editor, approver, network):
    active_subscriber()
    poll = sent_poll(editor, approver, closes_at=timezone.now() + timedelta(hours=1))
    Poll.objects.update(closes_at=timezone.now() - timedelta(minutes=1))
    tap(ALICE, option_id(poll, 1), at=int(time.time()) - 300)
    assert counts(poll) == [0, 1]


def test_closing_by_hand_stops_the_counting(editor, approver, network):
    active_subscriber()
    poll = sent_poll(editor, approver)
    actions.close(poll, editor)
    tap(ALICE, option_id(poll, 0), at=int(time.time()) + 1)  # Meta's clock has whole seconds
    assert counts(poll) == [0, 0]


def test_an_erased_subscribers_vote_leaves_the_results(editor, approver, network):
    alice = active_subscriber(ALICE)
    active_subscriber(BOB)
    poll = sent_poll(editor, approver)
    tap(ALICE, option_id(poll, 0))
    tap(BOB, option_id(poll, 0))
    assert counts(poll) == [2, 0]
    subscribers.erase(alice, wording="bye")
    assert counts(poll) == [1, 0]


def test_results_by_district_when_the_poll_went_to_districts(editor, approver, network):
    north = District.objects.create(name="Nord", slug="nord", position=1)
    south = District.objects.create(name="Süd", slug="sued", position=2)
    alice, bob = active_subscriber(ALICE), active_subscriber(BOB)
    alice.districts.add(north)
    bob.districts.add(south)
    poll = sent_poll(editor, approver, districts=["nord", "sued"])
    tap(ALICE, option_id(poll, 0))
    tap(BOB, option_id(poll, 1))
    found = results.results(poll)
    assert [(d.name, d.voters, [o.votes for o in d.options]) for d in found.by_district] == [
        ("Nord", 1, [1, 0]),
        ("Süd", 1, [0, 1]),
    ]
    assert (found.voters, found.reached, found.participation) == (2, 2, 1.0)
    csv = results.as_csv(found, "Radweg")
    assert "Radweg,Süd,Nein,1,1.0000" in csv


def test_outside_the_window_a_template_with_one_button_opens_the_poll(editor, approver, network):
    Template.objects.create(
        name="umfrage", body="Neue Umfrage: {{1}}", buttons=["Abstimmen"], status="APPROVED"
    )
    active_subscriber(wrote_just_now=False)
    poll = sent_poll(editor, approver, template="umfrage")
    template = network[0].message.template
    assert (template.name, template.quick_replies) == ("umfrage", (f"poll:{poll.pk}:open",))
    tap(ALICE, f"poll:{poll.pk}:open", kind="button")
    asked = Reply.objects.order_by("-id").first().content
    assert [b["id"] for b in asked["buttons"]] == [option_id(poll, 0), option_id(poll, 1)]
    assert counts(poll) == [0, 0]


def test_a_template_whose_buttons_are_the_answers_votes_directly(editor, approver, network):
    Template.objects.create(
        name="ja_nein", body="Frage der Stadt: {{1}}", buttons=["Ja", "Nein"], status="APPROVED"
    )
    active_subscriber(wrote_just_now=False)
    poll = sent_poll(editor, approver, template="ja_nein")
    payloads = network[0].message.template.quick_replies
    assert payloads == (option_id(poll, 0), option_id(poll, 1))
    tap(ALICE, payloads[1], kind="button")
    assert counts(poll) == [0, 1]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (["Ja"], "between 2 and 10"),
        ([f"A{n}" for n in range(11)], "between 2 and 10"),
        (["Ja", " ja "], "different"),
        (["Ja", "x" * 21], "at most 20 characters"),
        (["A", "B", "C", "x" * 25], "at most 24 characters"),
    ],
)
def test_answers_that_cannot_be_sent_are_refused(editor, answers, message):
    with pytest.raises(actions.PollError, match=message):
        actions.create_poll(editor, title="T", question="Q?", answers=answers)
    assert not Poll.objects.exists()


def test_a_template_that_does_not_fit_the_answers_is_refused(editor):
    Template.objects.create(name="ja_nein", body="{{1}}", buttons=["Ja", "Nein"], status="APPROVED")
    with pytest.raises(actions.PollError, match="does not fit"):
        actions.create_poll(
            editor, title="T", question="Q?", answers=["Rot", "Grün"], template="ja_nein"
        )


def test_a_poll_whose_closing_time_passed_cannot_be_submitted(editor):
    poll = actions.create_poll(
        editor, title="T", question="Q?", answers=["Ja", "Nein"],
        closes_at=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip
    Poll.objects.update(closes_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(actions.PollError, match="closing time has passed"):
        posts.submit(poll.post, editor)


def test_a_data_export_lists_the_subscribers_own_votes_only(editor, approver, network):
    alice = active_subscriber(ALICE)
    active_subscriber(BOB)
    poll = sent_poll(editor, approver)
    tap(ALICE, option_id(poll, 1))
    tap(BOB, option_id(poll, 0))
    votes = export(alice)["poll_votes"]
    assert [(v["poll"], v["answer"]) for v in votes] == [("Radweg", "Nein")]


def test_after_the_retention_period_votes_are_cut_loose_and_the_results_stay(
    editor, approver, network
):
    north = District.objects.create(name="Nord", slug="nord")
    alice, bob = active_subscriber(ALICE), active_subscriber(BOB)
    alice.districts.add(north)
    bob.districts.add(north)
    poll = sent_poll(
        editor, approver, answers=("A", "B", "C"), multiple=True, districts=["nord"],
        closes_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    tap(ALICE, option_id(poll, 0))
    tap(ALICE, option_id(poll, 1))
    tap(BOB, option_id(poll, 1))
    before = results.results(poll)
    assert poll_retention.anonymise_closed_polls(timedelta(days=30)) == 0  # still open
    Poll.objects.update(closes_at=timezone.now() - timedelta(days=31))
    assert poll_retention.anonymise_closed_polls(timedelta(days=30)) == 1
    assert poll_retention.anonymise_closed_polls(timedelta(days=30)) == 0  # once
    assert not Vote.objects.filter(subscriber__isnull=False).exists()
    poll.refresh_from_db()
    after = results.results(poll)
    assert (after.options, after.voters, after.by_district) == (
        before.options,
        before.voters,
        before.by_district,
    )
    assert after.voters == 2
    assert export(alice)["poll_votes"] == []
    subscribers.erase(alice, wording="bye")  # no longer linked: the results stay
    poll.refresh_from_db()
    assert results.results(poll).options == before.options


def test_the_nightly_retention_run_anonymises_polls(editor, approver, network, settings):
    active_subscriber()
    poll = sent_poll(editor, approver, closes_at=timezone.now() + timedelta(hours=1))
    tap(ALICE, option_id(poll, 0))
    Poll.objects.update(
        closes_at=timezone.now() - timedelta(days=settings.RETENTION_VOTES_DAYS + 1)
    )
    assert retention.apply_retention().anonymised_polls == 1
    assert counts(poll) == [1, 0]


def test_daten_in_the_chat_counts_the_citizens_votes(editor, approver, network):
    active_subscriber()
    poll = sent_poll(editor, approver)
    tap(ALICE, option_id(poll, 1))
    post_webhook(Client(), compact(text_message(ALICE, "Daten")))
    tasks.apply_inbound_once()
    assert "Ihre Antworten in Umfragen: 1" in last_reply_text()


def test_a_cancelled_poll_counts_as_closed(editor, approver, network):
    active_subscriber()
    poll = sent_poll(editor, approver)
    posts.cancel(poll.post)
    poll.refresh_from_db()
    assert not results.results(poll).is_open
    tap(ALICE, option_id(poll, 0))
    assert counts(poll) == [0, 0]
    assert "Umfrage ist beendet" in last_reply_text()


@pytest.mark.parametrize("kind", ["button_reply", "list_reply", "button"])
@pytest.mark.parametrize(
    "choice", [7, None, ["poll:1:a"], ""], ids=["number", "null", "list", "empty"]
)
def test_a_tap_whose_id_is_not_text_is_malformed_and_changes_nothing(
    editor, approver, network, kind, choice
):
    active_subscriber()
    poll = sent_poll(editor, approver)
    tap(ALICE, choice, kind=kind)
    poll.refresh_from_db()
    assert (counts(poll), results.results(poll).rejected) == ([0, 0], 0)
    # Kept to look at, without failing the worker or answering.
    assert list(InboundWebhook.objects.values_list("state", flat=True)) == ["malformed"]


def test_reach_comes_from_the_posts_figures_once_they_are_counted(editor, approver, network):
    from stadtbote.dashboards import rollup

    active_subscriber(ALICE)
    active_subscriber(BOB)
    poll = sent_poll(editor, approver)
    assert results.results(poll).reached == 2  # counted from the deliveries
    rollup.refresh(timezone.now())
    Delivery.objects.update(state=SendState.FAILED)  # not yet recounted: the figures say 2
    assert results.results(poll).reached == 2


def test_an_answer_that_looks_like_a_formula_stays_text_in_the_csv(editor, approver, network):
    active_subscriber()
    poll = sent_poll(editor, approver, answers=("=1+1", "@SUM(A1)", "Nein"))
    tap(ALICE, option_id(poll, 0))
    csv = results.as_csv(results.results(poll), "=Radweg")
    assert "'=Radweg,,'=1+1,1,1.0000" in csv
    assert "'@SUM(A1)" in csv
    assert ",Nein,0," in csv
