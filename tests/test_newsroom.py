"""The newsroom: the press office writes with a live preview, audience and cost, submits;
an approver approves or sends back with a comment; sending is followed, paused, resumed or
cancelled; the calendar shows what is scheduled and what went out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import ChannelPosting, Post, Template
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import Topic
from tests.helpers import (
    ALICE,
    BOB,
    active_subscriber,
    emulator_server,
    staff_with_roles,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(django_user_model):
    return staff_with_roles(
        django_user_model,
        erika=Role.EDITOR,
        paula=Role.APPROVER,
        vera=Role.VIEWER,
        gerd=Role.AGENT,
    )


FORM = {
    "title": "Stadtfest",
    "text": "Am *Samstag* auf dem Marktplatz.",
    "link": "",
    "language": "",
    "template": "",
    "publish_at": "",
    "share_footer": "on",
    "on_website": "on",
}


def test_a_stranger_is_sent_to_the_login(client):
    assert client.get("/redaktion/").url.startswith("/staff/login/")


def test_every_role_that_reads_posts_sees_the_newsroom(as_, people):
    post = actions.create_post(people["erika"], title="Fest", text="x")
    for name in ("erika", "paula", "vera", "gerd"):
        page = as_(people[name]).get("/redaktion/")
        assert page.status_code == 200 and "Fest" in page.content.decode(), name
    assert as_(people["vera"]).get(f"/redaktion/{post.pk}/").status_code == 200


def test_who_may_not_write_cannot_open_the_compose_page(as_, people):
    for name in ("vera", "gerd"):
        assert as_(people[name]).get("/redaktion/neu/").status_code == 403
        assert as_(people[name]).post("/redaktion/neu/", FORM).status_code == 403
    assert not Post.objects.exists()


def test_an_editor_writes_a_post_and_sees_its_page(as_, people):
    topic = Topic.objects.create(name="Veranstaltungen", slug="veranstaltungen")
    client = as_(people["erika"])
    assert client.get("/redaktion/neu/").status_code == 200
    response = client.post("/redaktion/neu/", FORM | {"topics": ["veranstaltungen"]})
    post = Post.objects.get()
    assert response.url == f"/redaktion/{post.pk}/"
    assert (post.author, list(post.topics.all())) == (people["erika"], [topic])
    page = client.get(response.url).content.decode()
    assert (
        "<strong>Samstag</strong>" in page and "Submit for approval" in page
    ) or "Zur Freigabe" in page


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"title": ""}, "title"),
        ({"text": "x" * 4097}, "text"),
        ({"link": "keine url"}, "link"),
        ({"topics": ["gibt-es-nicht"]}, "topics"),
    ],
)
def test_a_bad_post_is_shown_again_with_what_is_wrong(as_, people, change, problem):
    response = as_(people["erika"]).post("/redaktion/neu/", FORM | change)
    assert response.status_code == 200
    assert response.context["form"].errors, problem
    assert 'role="alert"' in response.content.decode()
    assert not Post.objects.exists()


def test_the_live_preview_shows_the_phone_the_audience_and_the_cost(as_, people, settings):
    Template.objects.create(
        name=settings.POST_TEMPLATE,
        language="de",
        body="Neues aus der Stadt: {{1}}",
        status=Template.Status.APPROVED,
    )
    active_subscriber(ALICE)
    active_subscriber(BOB, wrote_just_now=False)
    answer = as_(people["erika"]).post("/redaktion/vorschau/", FORM | {"text": "<b>x</b> *fett*"})
    data = answer.json()
    assert data["problem"] is None
    assert "<strong>fett</strong>" in data["html"] and "&lt;b&gt;" in data["html"]
    assert (data["recipients"], data["free"], data["charged"]) == (2, 1, 1)
    assert data["cost"] == "0,11 €"  # one template message at the marketing price, in German
    assert data["shown"] == {"recipients": "2", "free": "1", "charged": "1"}
    assert "Neues aus der Stadt" in data["template_html"]
    assert not Post.objects.exists() and not AuditEntry.objects.filter(action="post.created")


def test_the_live_preview_says_what_is_wrong(as_, people):
    client = as_(people["erika"])
    assert client.post("/redaktion/vorschau/", FORM | {"text": "x" * 5000}).json()["problem"]
    assert client.post("/redaktion/vorschau/", FORM | {"language": "xx"}).json()["problem"]
    assert client.get("/redaktion/vorschau/").status_code == 405
    assert as_(people["vera"]).post("/redaktion/vorschau/", FORM).status_code == 403


def test_a_draft_is_changed_and_a_submitted_post_is_not(as_, people):
    client = as_(people["erika"])
    post = actions.create_post(people["erika"], title="Fest", text="Samstag")
    page = client.get(f"/redaktion/{post.pk}/bearbeiten/")
    assert page.status_code == 200 and "Samstag" in page.content.decode()
    client.post(f"/redaktion/{post.pk}/bearbeiten/", FORM | {"title": "Stadtfest 2027"})
    post.refresh_from_db()
    assert post.title == "Stadtfest 2027"
    actions.submit(post, people["erika"])
    assert client.get(f"/redaktion/{post.pk}/bearbeiten/").url == f"/redaktion/{post.pk}/"


def test_submit_approve_follow_pause_resume_and_cancel(as_, people):
    active_subscriber(ALICE)
    post = actions.create_post(people["erika"], title="Fest", text="Samstag")
    editor = as_(people["erika"])
    editor.post(f"/redaktion/{post.pk}/submit/")
    post.refresh_from_db()
    assert post.status == Post.Status.SUBMITTED
    # The editor may not approve; the page does not offer it and the step refuses it.
    assert "/approve/" not in editor.get(f"/redaktion/{post.pk}/").content.decode()
    editor.post(f"/redaktion/{post.pk}/approve/")
    post.refresh_from_db()
    assert post.status == Post.Status.SUBMITTED
    approver = as_(people["paula"])
    assert (
        f"/redaktion/{post.pk}/approve/" in approver.get(f"/redaktion/{post.pk}/").content.decode()
    )
    approver.post(f"/redaktion/{post.pk}/approve/")
    post.refresh_from_db()
    assert post.status == Post.Status.SENDING
    page = approver.get(f"/redaktion/{post.pk}/").content.decode()
    assert "<progress" in page and 'http-equiv="refresh"' in page
    approver.post(f"/redaktion/{post.pk}/pause/")
    post.refresh_from_db()
    assert post.status == Post.Status.PAUSED
    approver.post(f"/redaktion/{post.pk}/resume/")
    approver.post(f"/redaktion/{post.pk}/cancel/")
    post.refresh_from_db()
    assert post.status == Post.Status.CANCELLED
    assert {"post.approved", "post.paused", "post.resumed", "post.cancelled"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )


def test_sending_back_needs_a_comment_which_the_author_sees(as_, people):
    post = actions.create_post(people["erika"], title="Fest", text="Samstag")
    actions.submit(post, people["erika"])
    approver = as_(people["paula"])
    approver.post(f"/redaktion/{post.pk}/reject/", {"comment": " "})
    post.refresh_from_db()
    assert post.status == Post.Status.SUBMITTED
    approver.post(f"/redaktion/{post.pk}/reject/", {"comment": "Bitte die Uhrzeit nennen."})
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT
    page = as_(people["erika"]).get(f"/redaktion/{post.pk}/").content.decode()
    assert "Bitte die Uhrzeit nennen." in page


def test_an_editor_cannot_pause_or_cancel(as_, people):
    post = actions.create_post(people["erika"], title="Fest", text="Samstag")
    actions.submit(post, people["erika"])
    actions.approve(post, people["paula"])
    editor = as_(people["erika"])
    for name in ("pause", "cancel"):
        editor.post(f"/redaktion/{post.pk}/{name}/")
    post.refresh_from_db()
    assert post.status in (Post.Status.SENDING, Post.Status.SENT)


def test_an_unknown_step_or_post_is_404_and_steps_need_post(as_, people):
    post = actions.create_post(people["erika"], title="Fest", text="Samstag")
    client = as_(people["erika"])
    assert client.post(f"/redaktion/{post.pk}/explode/").status_code == 404
    assert client.post("/redaktion/999999/submit/").status_code == 404
    assert client.get(f"/redaktion/{post.pk}/submit/").status_code == 405


def test_the_channel_posting_is_recorded_from_the_post_page(as_, people):
    post = actions.create_post(people["erika"], title="Fest", text="Am *Samstag*.")
    actions.submit(post, people["erika"])
    actions.approve(post, people["paula"])
    client = as_(people["erika"])
    page = client.get(f"/redaktion/{post.pk}/").content.decode()
    assert "*Fest*" in page  # the copy for the Channel
    client.post(f"/redaktion/{post.pk}/channel/")
    assert ChannelPosting.objects.filter(post=post, posted_by=people["erika"]).exists()
    assert AuditEntry.objects.filter(action="post.posted_to_channel").exists()


def test_the_calendar_shows_scheduled_posts_and_what_went_out(as_, people):
    later = timezone.now() + timedelta(days=2)
    scheduled = actions.create_post(people["erika"], title="Markt", text="x", publish_at=later)
    actions.submit(scheduled, people["erika"])
    actions.approve(scheduled, people["paula"])
    sent = actions.create_post(people["erika"], title="Fest", text="x")
    actions.submit(sent, people["erika"])
    actions.approve(sent, people["paula"])
    page = as_(people["vera"]).get("/redaktion/kalender/").content.decode()
    assert "Markt" in page and "Fest" in page and 'aria-current="date"' in page
    far = as_(people["vera"]).get("/redaktion/kalender/?ab=2020-01-06").content.decode()
    assert "Markt" not in far
    assert as_(people["vera"]).get("/redaktion/kalender/?ab=kaputt").status_code == 200


def test_an_approver_reaches_the_newsroom_only_with_the_second_factor(client, people):
    client.force_login(people["paula"])
    assert client.get("/redaktion/").url.startswith("/staff/second-factor/")


def test_subscribing_changes_the_live_count(as_, people):
    topic = Topic.objects.create(name="Baustellen", slug="baustellen", opt_in_only=True)
    client = as_(people["erika"])
    form = FORM | {"topics": ["baustellen"]}
    assert client.post("/redaktion/vorschau/", form).json()["recipients"] == 0
    alice = active_subscriber(ALICE)
    subscribers.toggle_topic(alice, topic)
    assert client.post("/redaktion/vorschau/", form).json()["recipients"] == 1


@pytest.fixture
def administrator(django_user_model):
    return staff_with_roles(django_user_model, ida=Role.ADMINISTRATOR)["ida"]


def test_only_administrators_see_the_settings(as_, people, administrator):
    for name in ("erika", "paula", "vera", "gerd"):
        assert as_(people[name]).get("/redaktion/einstellungen/").status_code == 403
    page = as_(administrator).get("/redaktion/einstellungen/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "100000000000001" in html  # the phone number id
    assert "test-token" not in html and "test-app-secret" not in html  # secrets never shown


def test_testing_the_whatsapp_connection(as_, administrator):
    client = as_(administrator)
    with emulator_server():
        answer = client.post("/redaktion/einstellungen/").content.decode()
    assert 'role="status"' in answer and 'role="alert"' not in answer
    # Nothing listens on the configured address outside the block: a clear failure.
    failed = client.post("/redaktion/einstellungen/").content.decode()
    assert 'role="alert"' in failed and "test-token" not in failed
    results = list(
        AuditEntry.objects.filter(action="whatsapp.connection_tested").values_list(
            "details__ok", flat=True
        )
    )
    assert sorted(results) == [False, True]


def test_opt_outs_in_the_24_hours_after_a_post_are_shown(as_, people):
    from stadtbote.broadcasts import reports

    alice, bob = active_subscriber(ALICE), active_subscriber(BOB)
    post = actions.create_post(people["erika"], title="Fest", text="x")
    actions.submit(post, people["erika"])
    actions.approve(post, people["paula"])
    subscribers.unsubscribe(alice, wording="Stop")
    subscribers.unsubscribe(bob, wording="Stop")
    now = timezone.now()
    # Started an hour ago: both opt-outs are inside its 24 hours.
    Post.objects.filter(pk=post.pk).update(send_started_at=now - timedelta(hours=1))
    post.refresh_from_db()
    assert reports.opt_outs_after(post) == 2
    page = as_(people["vera"]).get(f"/redaktion/{post.pk}/")
    assert page.context["funnel"]["opt_outs_24h"] == 2
    # Started 30 hours ago: the opt-outs came after its window; not started: none.
    Post.objects.filter(pk=post.pk).update(send_started_at=now - timedelta(hours=30))
    post.refresh_from_db()
    assert reports.opt_outs_after(post) == 0
    draft = actions.create_post(people["erika"], title="Markt", text="x")
    assert reports.opt_outs_after(draft) == 0


def test_an_erasure_counts_as_one_opt_out_and_a_system_erasure_as_none(people):
    from stadtbote.broadcasts import reports

    carla, dora, emil = (
        active_subscriber(n) for n in ("+4915100000301", "+4915100000302", "+4915100000303")
    )
    stopped_long_ago = active_subscriber("+4915100000304")
    subscribers.unsubscribe(stopped_long_ago, wording="Stop")
    post = actions.create_post(people["erika"], title="Fest", text="x")
    Post.objects.filter(pk=post.pk).update(send_started_at=timezone.now())
    post.refresh_from_db()
    # Erased in the chat while subscribed: an opt-out without a "withdrawn" line.
    subscribers.erase(carla, wording="Löschen")
    # Stop, then "Löschen": one person, one opt-out.
    subscribers.unsubscribe(dora, wording="Stop")
    subscribers.erase(dora, wording="Löschen")
    # Erased on request by staff: an opt-out too.
    subscribers.erase(emil, wording="erased on request", channel="staff")
    # The retention period ending after an earlier Stop is no new opt-out.
    subscribers.erase(stopped_long_ago, wording="retention", channel="system")
    assert reports.opt_outs_after(post) == 3
