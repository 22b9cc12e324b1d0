"""draft → submitted → approved → scheduled or sending → sent; four eyes; urgent alone with a
reason; cancel, pause and resume while sending; urgent posts go first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from stadtbote.broadcasts import actions, tasks
from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.models import SendState
from stadtbote.channels.sending import SendLoop
from tests.helpers import ALICE, BOB, active_subscriber, staff_login

pytestmark = pytest.mark.django_db


def user_with(django_user_model, name, *codenames):
    user = django_user_model.objects.create(username=name)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return django_user_model.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def editor(django_user_model):
    return user_with(django_user_model, "editor", "add_post", "change_post")


@pytest.fixture
def approver(django_user_model):
    return user_with(django_user_model, "approver", "approve_post")


@pytest.fixture
def duty_officer(django_user_model):
    return user_with(
        django_user_model, "duty", "add_post", "change_post", "approve_post", "send_urgent_alone"
    )


@pytest.fixture(autouse=True)
def network(monkeypatch):
    sent = []
    monkeypatch.setattr(
        SendLoop,
        "send_many",
        lambda self, items: [sent.append(i) or f"wamid.W{len(sent)}" for i in items],
    )
    return sent


def test_a_post_goes_out_after_another_person_approves_it(editor, approver):
    active_subscriber()
    post = actions.create_post(editor, title="T", text="x")
    actions.submit(post, editor)
    assert post.status == Post.Status.SUBMITTED
    actions.approve(post, approver)
    assert post.status == Post.Status.SENDING
    assert (post.approved_by, Delivery.objects.count()) == (approver, 1)


def test_the_author_cannot_approve_her_own_post(editor, duty_officer):
    post = actions.create_post(duty_officer, title="T", text="x")
    actions.submit(post, duty_officer)
    with pytest.raises(actions.NotAllowed, match="other than its author"):
        actions.approve(post, duty_officer)
    assert Post.objects.get().status == Post.Status.SUBMITTED


def test_someone_without_the_right_cannot_approve(editor, django_user_model):
    viewer = user_with(django_user_model, "viewer", "view_post")
    post = actions.create_post(editor, title="T", text="x")
    actions.submit(post, editor)
    with pytest.raises(actions.NotAllowed):
        actions.approve(post, viewer)


def test_an_urgent_post_may_go_alone_with_a_recorded_reason(duty_officer):
    active_subscriber()
    post = actions.create_post(duty_officer, title="Unwetter", text="Sturm!", urgent=True)
    with pytest.raises(actions.PostError, match="reason"):
        actions.approve(post, duty_officer)
    actions.approve(post, duty_officer, alone_reason="Unwetterwarnung, niemand erreichbar")
    assert post.status == Post.Status.SENDING
    assert post.urgent_reason == "Unwetterwarnung, niemand erreichbar"


def test_sending_alone_needs_the_right_and_an_urgent_post(editor, django_user_model):
    lone = user_with(django_user_model, "lone", "add_post", "approve_post")
    urgent = actions.create_post(lone, title="T", text="x", urgent=True)
    with pytest.raises(actions.NotAllowed):
        actions.approve(urgent, lone, alone_reason="because")


def test_a_rejected_post_goes_back_to_draft_with_the_comment(editor, approver):
    post = actions.create_post(editor, title="T", text="x")
    actions.submit(post, editor)
    actions.reject(post, approver, comment="Bitte kürzer")
    assert (post.status, post.review_comment) == (Post.Status.DRAFT, "Bitte kürzer")
    with pytest.raises(actions.PostError):
        actions.approve(post, approver)


def test_a_post_with_a_publish_time_waits_until_then(editor, approver):
    active_subscriber()
    post = actions.create_post(
        editor, title="T", text="x", publish_at=timezone.now() + timedelta(hours=2)
    )
    actions.submit(post, editor)
    actions.approve(post, approver)
    assert post.status == Post.Status.SCHEDULED
    assert actions.release_due_posts() == 0
    Post.objects.update(publish_at=timezone.now() - timedelta(seconds=1))
    assert actions.release_due_posts() == 1
    post.refresh_from_db()
    assert post.status == Post.Status.SENDING
    assert actions.release_due_posts() == 0


def test_pause_holds_the_rest_and_resume_goes_on(editor, approver, network):
    active_subscriber(ALICE)
    active_subscriber(BOB)
    post = actions.create_post(editor, title="T", text="x")
    actions.submit(post, editor)
    actions.approve(post, approver)
    actions.pause(post)
    assert tasks.dispatch_once() == 0
    assert network == []
    actions.resume(post)
    while tasks.dispatch_once():
        pass
    assert len(network) == 2


def test_cancel_withdraws_what_is_still_queued(editor, approver, network):
    active_subscriber(ALICE)
    post = actions.create_post(editor, title="T", text="x")
    actions.submit(post, editor)
    actions.approve(post, approver)
    assert actions.cancel(post) == 1
    assert tasks.dispatch_once() == 0
    assert network == []
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_error) == (SendState.FAILED, "cancelled")
    with pytest.raises(actions.PostError):
        actions.cancel(post)


def test_urgent_deliveries_are_claimed_before_everything_else(editor, duty_officer, network):
    for n in range(3):
        active_subscriber(f"49170000000{n}")
    normal = actions.create_post(editor, title="Fest", text="Stadtfest")
    actions.send_post(normal)
    urgent = actions.create_post(duty_officer, title="Warnung", text="Sturm", urgent=True)
    actions.approve(urgent, duty_officer, alone_reason="Sturm")
    tasks.dispatch_once(batch=3)
    assert [i.message.text for i in network] == ["Sturm"] * 3


@pytest.mark.parametrize("action", ["pause", "resume", "cancel"])
def test_state_changes_on_a_draft_are_refused(editor, action):
    post = actions.create_post(editor, title="T", text="x")
    with pytest.raises(actions.PostError):
        getattr(actions, action)(post)


def test_the_staff_area_submits_and_approves_with_four_eyes(client, django_user_model):
    author = django_user_model.objects.create_superuser("autorin", "a@example.org", "x" * 16)
    second = django_user_model.objects.create_superuser("zweite", "z@example.org", "x" * 16)
    active_subscriber()
    post = actions.create_post(author, title="T", text="x")
    staff_login(client, author)
    client.post("/admin/broadcasts/post/", {"action": "submit", "_selected_action": [post.pk]})
    client.post("/admin/broadcasts/post/", {"action": "approve", "_selected_action": [post.pk]})
    post.refresh_from_db()
    assert post.status == Post.Status.SUBMITTED  # not by the author
    staff_login(client, second)
    client.post("/admin/broadcasts/post/", {"action": "approve", "_selected_action": [post.pk]})
    post.refresh_from_db()
    assert (post.status, post.approved_by) == (Post.Status.SENDING, second)
