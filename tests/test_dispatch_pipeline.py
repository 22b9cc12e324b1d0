"""The dispatch pipeline: claims and builds the next batch while earlier ones are in flight,
records finished batches in bulk, sends every delivery once however many dispatchers run, and
lets an urgent post overtake a big one already queued. The network is a stand-in; the
database is the real one (threads commit, so some tests use real transactions)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future

import pytest
from django.db import connection
from django.utils import timezone

from stadtbote.broadcasts import actions, delivering, tasks
from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels import dispatch
from stadtbote.channels.models import SendState
from stadtbote.channels.sending import BULK, URGENT, Interrupted, SendLoop
from stadtbote.channels.types import TransportError
from stadtbote.lib import crypto
from stadtbote.subscribers.models import Subscriber
from tests.conftest import BACKEND
from tests.e2e.stack import wait_until
from tests.test_dispatch_send_loop import Phone, Slots, paced_by

# SQLite's test database lives in memory, where a second writing connection fails at once
# instead of waiting for the lock as it does on the file in production: threads that write
# while others do are tested on PostgreSQL.
concurrent_writers = pytest.mark.skipif(
    BACKEND != "postgres", reason="concurrent writers need PostgreSQL in the test setup"
)


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create(username="editor")


def subscribers(count: int) -> list[Subscriber]:
    """Active subscribers inside the 24-hour window, created in one go."""
    now = timezone.now()
    numbers = [f"4917100{n:05d}" for n in range(count)]
    return Subscriber.objects.bulk_create(
        Subscriber(
            phone_index=crypto.blind_index(number),
            phone_encrypted=crypto.encrypt(number),
            status=Subscriber.Status.ACTIVE,
            confirmed_at=now,
            last_inbound_at=now,
        )
        for number in numbers
    )


def started(editor, title: str, *, urgent: bool = False) -> Post:
    post = actions.create_post(editor, title=title, text=title, urgent=urgent)
    actions.send_post(post)
    return post


class FakeLoop:
    """The send loop's interface without a network: each batch finishes a moment later, in
    another thread, in any order, and every tracker is counted."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self._open = 0
        self._lock = threading.Lock()

    def submit(self, items, priority: int = BULK) -> Future:
        future: Future = Future()
        with self._lock:
            self._open += len(items)
            self.sent.update(i.message.tracker for i in items)

        def finish() -> None:
            time.sleep(random.random() / 100)
            with self._lock:
                self._open -= len(items)
            future.set_result([f"wamid.{i.message.tracker}" for i in items])

        threading.Thread(target=finish, daemon=True).start()
        return future

    def waiting(self, up_to: int = BULK) -> int:
        return self._open


@pytest.fixture
def fake_loop(monkeypatch) -> FakeLoop:
    fake = FakeLoop()
    monkeypatch.setattr(SendLoop, "instance", classmethod(lambda cls: fake))
    return fake


@pytest.mark.django_db
def test_a_batch_is_recorded_in_one_go_and_each_outcome_kept(editor):
    subscribers(4)
    post = started(editor, "Baustelle")
    ids = dispatch.claim(Delivery.objects.filter(post=post).order_by("id"), 10)
    rows = delivering.load_claimed(ids)
    sendable = dispatch.prepare(rows, delivering.build_batch)
    results = [
        "wamid.OK",
        TransportError("Rate limit hit", permanent=False, retry_after=30, code=130429),
        TransportError("Recipient not on WhatsApp", permanent=True, code=131026),
        Interrupted(),
    ]
    recorded = dispatch.record(Delivery, sendable, results)
    assert (recorded.accepted, recorded.retry_in) == (1, 30)
    accepted, throttled, failed, unknown = Delivery.objects.order_by("id")
    assert (accepted.state, accepted.message_id) == (SendState.ACCEPTED, "wamid.OK")
    assert accepted.dispatched_at is not None and not accepted.via_template
    assert (throttled.state, throttled.error_code) == (SendState.QUEUED, 130429)
    assert throttled.next_attempt_at > timezone.now()
    assert throttled.attempts == 0  # a throttle gives its attempt back
    assert failed.attempts == 1
    assert (failed.state, failed.error_code) == (SendState.FAILED, 131026)
    # Meta may have accepted it: it stays claimed, and the sweeper fails it, never resends it.
    assert unknown.state == SendState.SENDING


@pytest.mark.django_db
def test_claiming_returns_due_rows_in_order_and_counts_the_attempt(editor):
    subscribers(5)
    post = started(editor, "Fest")
    later = timezone.now() + timezone.timedelta(hours=1)
    first, second, third, fourth, fifth = Delivery.objects.order_by("id")
    Delivery.objects.filter(pk=second.pk).update(state=SendState.HELD, next_attempt_at=later)
    Delivery.objects.filter(pk=third.pk).update(next_attempt_at=later)
    Delivery.objects.filter(pk=fourth.pk).update(
        state=SendState.HELD, next_attempt_at=timezone.now()
    )
    ids = dispatch.claim(Delivery.objects.filter(post=post).order_by("id"), 10)
    assert ids == [first.pk, fourth.pk, fifth.pk]
    claimed = Delivery.objects.filter(pk__in=ids)
    assert {(d.state, d.attempts) for d in claimed} == {(SendState.SENDING, 1)}
    assert all(d.claimed_at is not None for d in claimed)


def test_batches_are_small_when_the_pace_is_slow(settings):
    settings.WHATSAPP_MESSAGES_PER_SECOND = 80
    assert tasks.batch_size() == 20
    settings.WHATSAPP_MESSAGES_PER_SECOND = 1000
    assert tasks.batch_size() == tasks.BATCH
    settings.WHATSAPP_MESSAGES_PER_SECOND = 0
    assert tasks.batch_size() == tasks.BATCH


@pytest.mark.django_db
def test_the_pipeline_sends_everything_once_and_marks_the_post_sent(editor, fake_loop):
    subscribers(450)
    post = started(editor, "Stadtfest")
    assert tasks.dispatch_all() == 450
    assert set(fake_loop.sent.values()) == {1} and len(fake_loop.sent) == 450
    assert set(Delivery.objects.values_list("state", flat=True)) == {SendState.ACCEPTED}
    post.refresh_from_db()
    assert post.status == Post.Status.SENT


@concurrent_writers
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_in_parallel_send_every_delivery_exactly_once(editor, fake_loop):
    subscribers(600)
    started(editor, "Baustelle")
    started(editor, "Sperrung")
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            tasks.dispatch_all()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(fake_loop.sent) == 1200
    assert set(fake_loop.sent.values()) == {1}
    assert Delivery.objects.exclude(state=SendState.ACCEPTED).count() == 0


@pytest.fixture
def slow_slots(settings) -> Iterator[tuple[Slots, Phone]]:
    """The process's send loop with a pacer whose slots the test opens."""
    settings.WHATSAPP_MESSAGES_PER_SECOND = 40  # batches of 10, 20 messages kept queued
    slots, phone = Slots(), Phone()
    SendLoop.shutdown()
    SendLoop._instance = paced_by(slots, phone)
    yield slots, phone
    slots.open()
    SendLoop.shutdown()


@pytest.mark.parametrize("told", [True, False], ids=["woken", "found by looking"])
@pytest.mark.django_db(transaction=True)
def test_an_urgent_post_overtakes_a_big_post_already_queued(editor, slow_slots, told):
    slots, phone = slow_slots
    subscribers(60)
    started(editor, "Stadtfest")
    wake = threading.Event()
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            tasks.dispatch_all(wake)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=dispatcher)
    thread.start()
    loop = SendLoop.instance()
    wait_until(lambda: loop.waiting() == 20, timeout=30, what="the big post queued")
    started(editor, "Unwetter", urgent=True)
    if told:  # the approval's job wakes the dispatcher; without it, it looks by itself
        wake.set()
    wait_until(lambda: loop.waiting(URGENT) == 20, timeout=30, what="the urgent post queued")
    slots.open()
    thread.join(timeout=120)
    assert errors == []
    assert phone.sent[:20] == ["Unwetter"] * 20
    assert Counter(phone.sent) == {"Unwetter": 60, "Stadtfest": 60}


@concurrent_writers
@pytest.mark.django_db(transaction=True)
def test_the_dispatcher_thread_runs_until_done_and_a_wake_up_is_not_lost(editor, fake_loop):
    subscribers(30)
    first = started(editor, "Erster")
    tasks.Dispatcher.wake()
    second = started(editor, "Zweiter")
    tasks.Dispatcher.wake()  # while the first pass may still run

    def both_sent() -> bool:
        return (
            Post.objects.filter(pk__in=[first.pk, second.pk], status=Post.Status.SENT).count() == 2
        )

    wait_until(both_sent, timeout=60, what="both posts sent")
    wait_until(lambda: not tasks.Dispatcher._running, timeout=30, what="the dispatcher to end")
    assert len(fake_loop.sent) == 60 and set(fake_loop.sent.values()) == {1}


@pytest.mark.django_db
def test_the_claimer_goes_on_where_it_stopped_and_comes_back_for_rows_due_again(editor):
    subscribers(5)
    post = started(editor, "Baustelle")
    one, two, three, four, five = Delivery.objects.order_by("id").values_list("id", flat=True)
    claimer = tasks.Claimer()
    assert claimer(2).ids == [one, two]
    Delivery.objects.filter(pk=one).update(state=SendState.QUEUED)  # a retry, due now
    assert claimer(2).ids == [three, four]
    assert claimer(2).ids == [five]  # the end of the post: back to its start next time
    assert claimer(2).ids == [one]
    assert claimer(2) is None
    assert post.pk == delivering.sending_posts(timezone.now())[0][0]


@pytest.mark.django_db
def test_an_urgent_post_is_claimed_first_even_in_the_middle_of_another(editor):
    subscribers(4)
    normal = started(editor, "Fest")
    claimer = tasks.Claimer()
    assert claimer(2).priority == BULK
    urgent = started(editor, "Sturm", urgent=True)
    work = claimer(10)
    assert work.priority == URGENT
    assert set(Delivery.objects.filter(pk__in=work.ids).values_list("post", flat=True)) == {
        urgent.pk
    }
    rest = Delivery.objects.filter(post=normal, state=SendState.QUEUED).order_by("id")
    expected = list(rest.values_list("id", flat=True))
    assert len(expected) == 2
    assert claimer(10).ids == expected


class FlakyLoop(FakeLoop):
    """Every message's first send is throttled by Meta with a short `retry_after`."""

    def __init__(self) -> None:
        super().__init__()
        self.tried: set[str] = set()

    def submit(self, items, priority: int = BULK) -> Future:
        future: Future = Future()
        results: list = []
        for item in items:
            tracker = item.message.tracker
            if tracker in self.tried:
                self.sent[tracker] += 1
                results.append(f"wamid.{tracker}")
            else:
                self.tried.add(tracker)
                results.append(
                    TransportError("Rate limit hit", permanent=False, retry_after=0.2, code=130429)
                )
        future.set_result(results)
        return future


@pytest.mark.django_db(transaction=True)
def test_a_pipeline_waits_for_retries_due_soon_instead_of_leaving_them_to_the_sweep(
    editor, monkeypatch
):
    monkeypatch.setattr(tasks, "RECHECK", 0.1)
    monkeypatch.setattr(dispatch, "RETRY_POLL", 0.05)
    flaky = FlakyLoop()
    monkeypatch.setattr(SendLoop, "instance", classmethod(lambda cls: flaky))
    subscribers(6)
    post = started(editor, "Baustelle")
    assert tasks.dispatch_all() == 6  # in one run: the retries went out when they were due
    assert len(flaky.sent) == 6 and set(flaky.sent.values()) == {1}
    assert set(Delivery.objects.filter(post=post).values_list("attempts", flat=True)) == {1}
    post.refresh_from_db()
    assert post.status == Post.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_a_pipeline_leaves_retries_far_ahead_to_the_sweep(editor, monkeypatch):
    monkeypatch.setattr(dispatch, "RETRY_WAIT", 0.0)
    flaky = FlakyLoop()
    monkeypatch.setattr(SendLoop, "instance", classmethod(lambda cls: flaky))
    subscribers(3)
    started(editor, "Baustelle")
    assert tasks.dispatch_all() == 0
    assert Delivery.objects.filter(state=SendState.QUEUED, error_code=130429).count() == 3


@pytest.mark.django_db(transaction=True)
def test_finished_batches_are_recorded_while_claiming_goes_on(editor, monkeypatch):
    # A send loop that never fills up: the pipeline claims on every pass. Batches that are
    # done must still be recorded as it goes, not only when there is nothing left to claim.
    fake = FakeLoop()
    monkeypatch.setattr(FakeLoop, "waiting", lambda self, up_to=BULK: 0)
    monkeypatch.setattr(SendLoop, "instance", classmethod(lambda cls: fake))
    subscribers(40)
    post = started(editor, "Baustelle")
    recorded_while_claiming: list[int] = []
    claimer = tasks.Claimer()

    def slow_claim(limit: int, before: int = dispatch.ANY):
        time.sleep(0.03)  # long enough for earlier batches to finish
        recorded_while_claiming.append(
            Delivery.objects.filter(post=post, state=SendState.ACCEPTED).count()
        )
        return claimer(limit, before)

    pipeline = dispatch.Pipeline(
        slow_claim, delivering.load_claimed, delivering.build_batch, batch=4, ahead=8
    )
    assert pipeline.run() == 40
    assert max(recorded_while_claiming[:-1]) > 0


@pytest.mark.skipif(BACKEND != "postgres", reason="planner statistics are PostgreSQL's")
@pytest.mark.django_db
def test_a_large_fan_out_refreshes_the_planner_statistics(editor, monkeypatch):
    monkeypatch.setattr(actions, "ANALYZE_AFTER", 3)
    subscribers(3)
    started(editor, "Baustelle")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE relname = %s", [Delivery._meta.db_table]
        )
        assert cursor.fetchone()[0] == 3
