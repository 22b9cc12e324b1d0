from __future__ import annotations

from concurrent.futures import Future

import pytest

from stadtbote.broadcasts import actions, tasks
from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels import dispatch
from stadtbote.channels.models import SendState
from stadtbote.channels.sending import SendLoop
from stadtbote.channels.types import TransportError
from stadtbote.subscribers import actions as subscribers
from tests.helpers import ALICE, BOB, active_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create(username="editor")


@pytest.fixture
def post(editor) -> Post:
    return actions.create_post(editor, title="Baustelle", text="Die Hauptstraße ist gesperrt.")


class FakeSend:
    """Stands in for the network only: records who would have been sent what."""

    def __init__(self, results=None):
        self.sent: list[tuple[str, str]] = []
        self.results = results

    def __call__(self, items):
        self.sent.extend((i.to, i.message.text) for i in items)
        if self.results is not None:
            return [self.results(i) for i in items]
        return [f"wamid.{len(self.sent)}.{n}" for n, _ in enumerate(items)]


def done(results) -> Future:
    future: Future = Future()
    future.set_result(results)
    return future


@pytest.fixture
def network(monkeypatch) -> FakeSend:
    fake = FakeSend()
    monkeypatch.setattr(SendLoop, "send_many", lambda self, items: fake(items))
    monkeypatch.setattr(SendLoop, "submit", lambda self, items, priority=0: done(fake(items)))
    monkeypatch.setattr(SendLoop, "waiting", lambda self, up_to=2: 0)
    return fake


def test_a_post_goes_to_every_confirmed_subscriber_once(post, network):
    active_subscriber(ALICE)
    active_subscriber(BOB)
    subscribers.find_or_create("491700000001")  # wrote once, never subscribed
    assert actions.send_post(post) == 2
    while tasks.dispatch_once():
        pass
    assert sorted(to for to, _ in network.sent) == sorted([ALICE, BOB])
    assert set(Delivery.objects.values_list("state", flat=True)) == {SendState.ACCEPTED}


def test_a_post_cannot_be_sent_twice(post):
    active_subscriber()
    actions.send_post(post)
    with pytest.raises(actions.PostError):
        actions.send_post(post)
    assert Delivery.objects.count() == 1


def test_fan_out_is_idempotent_per_subscriber(post):
    active_subscriber()
    actions._fan_out(post)
    assert actions._fan_out(post) == 0
    assert Delivery.objects.count() == 1


def test_a_subscriber_who_stopped_after_fan_out_is_not_sent_to(post, network):
    subscriber = active_subscriber()
    actions.send_post(post)
    subscribers.unsubscribe(subscriber, wording="bye")
    tasks.dispatch_once()
    assert network.sent == []
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_error) == (SendState.FAILED, "unsubscribed")


def test_a_transient_error_is_retried_later_and_a_permanent_one_fails(post, monkeypatch):
    active_subscriber(ALICE)
    active_subscriber(BOB)
    bob_index = subscribers.find(BOB).pk

    def results(item):
        if item.to == ALICE:
            return TransportError("Rate limit hit", permanent=False, retry_after=1.0, code=130429)
        return TransportError("Invalid parameter", permanent=True, code=100)

    fake = FakeSend(results)
    monkeypatch.setattr(SendLoop, "send_many", lambda self, items: fake(items))
    actions.send_post(post)
    tasks.dispatch_once()
    alice = Delivery.objects.exclude(subscriber_id=bob_index).get()
    bob = Delivery.objects.get(subscriber_id=bob_index)
    assert alice.state == SendState.QUEUED and alice.next_attempt_at and alice.error_code == 130429
    assert bob.state == SendState.FAILED and bob.error_code == 100
    assert tasks.dispatch_once() == 0  # not due yet


def test_after_the_last_attempt_a_transient_error_fails(post, monkeypatch):
    active_subscriber()
    fake = FakeSend(lambda item: TransportError("down", permanent=False, code=131016))
    monkeypatch.setattr(SendLoop, "send_many", lambda self, items: fake(items))
    actions.send_post(post)
    for _ in range(dispatch.MAX_ATTEMPTS):
        Delivery.objects.update(next_attempt_at=None)
        tasks.dispatch_once()
    assert Delivery.objects.get().state == SendState.FAILED
    assert len(fake.sent) == dispatch.MAX_ATTEMPTS


def test_meta_throttling_does_not_use_up_the_attempts(post, monkeypatch):
    active_subscriber()
    fake = FakeSend(
        lambda item: TransportError("Rate limit hit", permanent=False, retry_after=1.0, code=130429)
    )
    monkeypatch.setattr(SendLoop, "send_many", lambda self, items: fake(items))
    actions.send_post(post)
    for _ in range(dispatch.MAX_ATTEMPTS + 2):
        Delivery.objects.update(next_attempt_at=None)
        tasks.dispatch_once()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (SendState.QUEUED, 0)
    assert len(fake.sent) == dispatch.MAX_ATTEMPTS + 2


def test_a_claim_left_by_a_killed_worker_is_not_resent(post, network):
    from datetime import timedelta

    from django.utils import timezone

    active_subscriber()
    actions.send_post(post)
    dispatch.claim(Delivery.objects.order_by("id"), 10)  # the worker dies after claiming
    Delivery.objects.update(claimed_at=timezone.now() - timedelta(hours=1))
    assert dispatch.release_stale_claims(Delivery) == 1
    assert tasks.dispatch_once() == 0
    assert network.sent == []
    assert Delivery.objects.get().state == SendState.FAILED


def test_two_claims_never_take_the_same_row(post):
    for n in range(5):
        active_subscriber(f"49170000000{n}")
    actions.send_post(post)
    first = dispatch.claim(Delivery.objects.order_by("id"), 3)
    second = dispatch.claim(Delivery.objects.order_by("id"), 3)
    assert len(first) == 3 and len(second) == 2
    assert not set(first) & set(second)


def test_a_post_is_marked_sent_when_nothing_is_left_in_the_queue(post, network):
    active_subscriber()
    actions.send_post(post)
    tasks.dispatch_all()
    post.refresh_from_db()
    assert post.status == Post.Status.SENT


@pytest.mark.parametrize(("title", "text"), [("", "x"), ("x", ""), ("x", "y" * 4097), ("  ", "  ")])
def test_it_refuses_an_empty_or_too_long_post(editor, title, text):
    with pytest.raises(actions.PostError):
        actions.create_post(editor, title=title, text=text)


def test_counts_by_state(post, network):
    active_subscriber(ALICE)
    active_subscriber(BOB)
    actions.send_post(post)
    counts = actions.delivery_counts(post)
    assert counts["queued"] == 2 and counts["total"] == 2
