"""Polls in the public archive: the question and its answers; the results only once the
results post has gone out, never before; caching that notices when results appear or
change; lists and feeds that keep working with polls among the posts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.models import SendState
from stadtbote.polls import actions, voting
from stadtbote.polls.models import IgnoredTap, Poll
from tests.helpers import ALICE, BOB, active_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create(username="erika")


def went_out(post: Post, hours_ago: int = 1) -> None:
    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.SENT, send_started_at=timezone.now() - timedelta(hours=hours_ago)
    )


@pytest.fixture
def poll(editor):
    poll = actions.create_poll(
        editor, title="Radweg", question="Soll der Radweg *kommen*?", answers=["Ja", "Nein"]
    )
    went_out(poll.post, hours_ago=3)
    alice, bob = active_subscriber(ALICE), active_subscriber(BOB)
    for subscriber, position in ((alice, 0), (bob, 0)):
        Delivery.objects.create(post=poll.post, subscriber=subscriber, state=SendState.READ)
        option = poll.options.get(position=position)
        voting.on_tap(subscriber, f"poll:{poll.pk}:{option.key}", timezone.now())
    return Poll.objects.select_related("post").get(pk=poll.pk)


def publish(poll: Poll, editor, *, sent: bool = True) -> Post:
    result = actions.publish_results(poll, editor, title="So wurde abgestimmt")
    if sent:
        went_out(result)
    return result


def page(client, poll: Poll, **headers: str):
    return client.get(f"/archiv/{poll.post_id}/", follow=True, **headers)


def test_a_poll_shows_its_question_and_answers_and_no_results_before_they_are_public(client, poll):
    html = page(client, poll).content.decode()
    assert "Soll der Radweg <strong>kommen</strong>?" in html
    assert "Antworten zur Wahl" in html and "<li>Ja</li><li>Nein</li>" in html
    assert "Stimmen" not in html and "abgestimmt" not in html and "<svg" not in html


def test_a_results_post_that_is_only_a_draft_does_not_make_them_public(client, poll, editor):
    publish(poll, editor, sent=False)
    html = page(client, poll).content.decode()
    assert "Antworten zur Wahl" in html and "abgestimmt" not in html


def test_once_the_results_post_went_out_the_results_are_shown(client, poll, editor):
    publish(poll, editor)
    html = page(client, poll).content.decode()
    assert "2 Personen haben abgestimmt." in html
    assert '<th scope="row">Ja</th><td>2</td><td>100\u00a0%</td>' in html
    assert '<th scope="row">Nein</th><td>0</td><td>0\u00a0%</td>' in html
    assert '<svg class="chart" role="img"' in html and ">Stimmen je Antwort</title>" in html
    assert "Antworten zur Wahl" not in html


def test_public_results_say_nothing_about_reach_or_refused_taps(client, poll, editor):
    IgnoredTap.objects.bulk_create(
        IgnoredTap(poll=poll, kind=kind)
        for kind in [IgnoredTap.Kind.REJECTED] * 7 + [IgnoredTap.Kind.LATE] * 5
    )
    publish(poll, editor)
    html = page(client, poll).content.decode()
    assert "Erreicht" not in html and "Abgewiesen" not in html and "Beteiligung" not in html


def test_the_page_of_a_poll_is_revalidated_when_its_results_appear_and_change(client, poll, editor):
    before = page(client, poll)
    etag = before["ETag"]
    assert (
        client.get(f"/archiv/{poll.post_id}/", follow=True, HTTP_IF_NONE_MATCH=etag).status_code
        == 304
    )
    result = publish(poll, editor)
    shown = page(client, poll, HTTP_IF_NONE_MATCH=etag)
    assert shown.status_code == 200 and shown["ETag"] != etag
    # Results can change without a time to compare with: no Last-Modified to rely on.
    assert "Last-Modified" not in shown
    stale = client.get(
        f"/archiv/{poll.post_id}/",
        follow=True,
        HTTP_IF_MODIFIED_SINCE=before["Last-Modified"],
    )
    assert stale.status_code == 200
    carol = active_subscriber("491705550000")
    Delivery.objects.create(post=poll.post, subscriber=carol, state=SendState.READ)
    voting.on_tap(carol, f"poll:{poll.pk}:{poll.options.get(position=1).key}", timezone.now())
    changed = page(client, poll, HTTP_IF_NONE_MATCH=shown["ETag"])
    assert changed.status_code == 200 and "3 Personen haben abgestimmt." in changed.content.decode()
    assert page(client, poll, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 304
    assert result.pk != poll.post_id


def test_the_list_marks_polls_and_notices_when_results_appear(client, poll, editor):
    first = client.get("/archiv/")
    html = first.content.decode()
    assert html.count('class="mark"') == 1 and "mit Ergebnissen" not in html
    publish(poll, editor)
    second = client.get("/archiv/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200 and second["ETag"] != first["ETag"]
    html = second.content.decode()
    assert "Umfrage · mit Ergebnissen" in html
    assert "So wurde abgestimmt" in html  # the results post is in the archive itself


def test_feeds_and_widget_keep_working_with_polls(client, poll, editor):
    publish(poll, editor)
    rss = client.get("/archiv/rss/")
    assert rss.status_code == 200
    body = rss.content.decode()
    assert "Soll der Radweg *kommen*?\n\n– Ja\n– Nein" in body
    assert client.get("/archiv/atom/").status_code == 200
    assert client.get("/widget/").status_code == 200


def test_a_draft_poll_is_not_in_the_archive(client, editor):
    poll = actions.create_poll(editor, title="Geheim", question="Q?", answers=["Ja", "Nein"])
    assert client.get(f"/archiv/{poll.post_id}/").status_code == 404
    assert "Geheim" not in client.get("/archiv/").content.decode()


def test_a_poll_off_the_website_stays_off_with_its_results(client, poll, editor):
    Post.objects.filter(pk=poll.post_id).update(on_website=False)
    publish(poll, editor)
    assert client.get(f"/archiv/{poll.post_id}/").status_code == 404
