"""The subscriber life cycle as a state machine, against the real database: whatever a citizen
does in whatever order, the stored state is what the model says, and the ledger proves it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from stadtbote.channels.types import Choice, ChoiceSource, InboundText
from stadtbote.dialogue import router, texts
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import ConsentEvent, Subscriber

pytestmark = pytest.mark.django_db

_numbers = itertools.count(491600000000)
_ids = itertools.count()
START_OF_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def text(number: str, body: str, at: datetime) -> InboundText:
    return InboundText(sender=number, message_id=f"wamid.s{next(_ids)}", timestamp=at, text=body)


def tap(number: str, choice: str, at: datetime) -> Choice:
    return Choice(
        sender=number,
        message_id=f"wamid.s{next(_ids)}",
        timestamp=at,
        choice_id=choice,
        title="",
        source=ChoiceSource.BUTTON,
    )


class LifeCycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.number = str(next(_numbers))  # a fresh citizen per run: the ledger is never emptied
        self.now = START_OF_TIME
        self.expected: str | None = None  # None: no row (never wrote, or erased)
        self.ledger_seen = 0

    def tick(self) -> datetime:
        self.now += timedelta(seconds=5)
        return self.now

    def deliver(self, event: InboundText | Choice) -> None:
        router.handle(event)

    @rule()
    def start(self) -> None:
        self.deliver(text(self.number, "Start", self.tick()))
        if self.expected != "active":
            self.expected = "pending"

    @rule()
    def confirm(self) -> None:
        self.deliver(tap(self.number, texts.CONFIRM_BUTTON, self.tick()))
        if self.expected == "pending":
            self.expected = "active"
        elif self.expected is None:
            self.expected = "contact"

    @rule()
    def decline(self) -> None:
        self.deliver(tap(self.number, texts.DECLINE_BUTTON, self.tick()))
        if self.expected in ("pending", None):
            self.expected = "contact"

    @rule(word=st.sampled_from(["Stop", "stopp!", "Abmelden", "ENDE"]))
    def stop(self, word: str) -> None:
        self.deliver(text(self.number, word, self.tick()))
        # Recorded even from someone who never subscribed (a late "Start" must not win).
        self.expected = "unsubscribed"

    @rule()
    def chat(self) -> None:
        self.deliver(text(self.number, "Wann kommt die Müllabfuhr?", self.tick()))
        if self.expected is None:
            self.expected = "contact"

    @rule()
    def erase(self) -> None:
        self.deliver(tap(self.number, texts.ERASE_CONFIRM, self.tick()))
        self.expected = None

    @invariant()
    def stored_state_is_the_expected_one(self) -> None:
        subscriber = subscribers.find(self.number)
        assert (subscriber.status if subscriber else None) == self.expected

    @invariant()
    def the_ledger_only_grows_and_backs_every_subscription(self) -> None:
        from stadtbote.lib import crypto

        lines = list(
            ConsentEvent.objects.filter(subscriber_ref__in=crypto.blind_indexes(self.number))
            .order_by("id")
            .values_list("action", flat=True)
        )
        assert len(lines) >= self.ledger_seen
        self.ledger_seen = len(lines)
        decisions = [a for a in lines if a in ("requested", "confirmed", "withdrawn", "erased")]
        if self.expected == "active":
            assert decisions[-1] == "confirmed"
        if self.expected == "unsubscribed":
            assert decisions[-1] == "withdrawn"

    @invariant()
    def nobody_is_active_without_a_confirmation_time(self) -> None:
        assert not Subscriber.objects.filter(status="active", confirmed_at=None).exists()


def test_the_life_cycle_holds_in_any_sequence(monkeypatch):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)
    run_state_machine_as_test(
        LifeCycle,
        settings=settings(
            max_examples=40,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(st.sampled_from(["Start", "confirm", "Stop"]), min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
)
def test_when_the_citizen_last_said_stop_they_end_unsubscribed_whatever_the_arrival_order(
    monkeypatch, steps, order
):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)
    number = str(next(_numbers))
    events = []
    for n, step in enumerate([*steps, "Stop"]):
        at = START_OF_TIME + timedelta(seconds=10 * n)
        if step == "confirm":
            events.append(tap(number, texts.CONFIRM_BUTTON, at))
        else:
            events.append(text(number, step, at))
    order.shuffle(events)
    for event in events:
        router.handle(event)
    subscriber = subscribers.find(number)
    assert subscriber.status in ("unsubscribed", "contact")
