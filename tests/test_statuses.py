"""Statuses arrive at least once, in any order, sometimes without `delivered`."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Delivery
from stadtbote.channels import statuses
from stadtbote.channels.models import SendState, StatusEvent
from stadtbote.channels.types import DeliveryStatus, StatusUpdate
from stadtbote.dialogue.models import Reply
from tests.helpers import active_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(django_user_model) -> Delivery:
    active_subscriber()
    post = actions.create_post(
        django_user_model.objects.create(username="editor"), title="T", text="News"
    )
    actions.send_post(post)
    Delivery.objects.update(state=SendState.ACCEPTED, message_id="wamid.D1")
    return Delivery.objects.get()


def update(state: str, message_id: str = "wamid.D1", **extra) -> StatusUpdate:
    return StatusUpdate(
        message_id=message_id,
        status=DeliveryStatus(state),
        timestamp=timezone.now(),
        recipient="491701234567",
        **extra,
    )


def state_of(delivery: Delivery) -> SendState:
    delivery.refresh_from_db()
    return SendState(delivery.state)


def test_it_moves_forward_through_sent_delivered_read(delivery):
    for state, expected in [
        ("sent", SendState.SENT),
        ("delivered", SendState.DELIVERED),
        ("read", SendState.READ),
    ]:
        statuses.record([update(state)])
        assert state_of(delivery) == expected
    assert delivery.sent_at and delivery.delivered_at and delivery.read_at


def test_a_late_delivered_does_not_undo_read(delivery):
    statuses.record([update("read")])
    statuses.record([update("delivered")])
    statuses.record([update("sent")])
    assert state_of(delivery) == SendState.READ


def test_read_without_delivered_is_read(delivery):
    statuses.record([update("sent"), update("read")])
    assert state_of(delivery) == SendState.READ
    assert delivery.delivered_at is None


def test_a_repeated_status_is_recorded_once(delivery):
    statuses.record([update("delivered")])
    statuses.record([update("delivered")])
    assert StatusEvent.objects.filter(message_id="wamid.D1").count() == 1


def test_a_failure_keeps_metas_code_and_title(delivery):
    statuses.record([update("failed", error_code=131047, error_title="Re-engagement message")])
    assert state_of(delivery) == SendState.FAILED
    assert delivery.error_code == 131047
    assert delivery.last_error == "Re-engagement message"


def test_a_status_that_arrives_before_the_message_id_is_applied_later(delivery):
    statuses.record([update("delivered", message_id="wamid.EARLY")])
    Delivery.objects.update(message_id="wamid.EARLY")
    statuses.apply_known(["wamid.EARLY"])
    assert state_of(delivery) == SendState.DELIVERED


def test_a_status_for_an_unknown_message_changes_nothing(delivery):
    statuses.record([update("read", message_id="wamid.UNKNOWN")])
    assert state_of(delivery) == SendState.ACCEPTED


def test_reconcile_catches_up_a_message_that_missed_its_status(delivery):
    statuses.record([update("read", message_id="wamid.RACE")])  # no row had this id yet
    Delivery.objects.update(message_id="wamid.RACE")  # the sender's commit, a moment later
    assert statuses.reconcile() == 1
    assert state_of(delivery) == SendState.READ
    assert statuses.reconcile() == 0


# --- the set-based path: one batch holds many statuses, in any order --------------------------

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
STATES = ("sent", "delivered", "read")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def timed(state: str, minutes: int, message_id: str = "wamid.D1", **extra) -> StatusUpdate:
    return StatusUpdate(
        message_id=message_id,
        status=DeliveryStatus(state),
        timestamp=at(minutes),
        recipient="491701234567",
        **extra,
    )


def billable(category: str = "marketing") -> dict:
    return {"pricing_category": category, "billable": True}


@pytest.fixture
def many(django_user_model):
    """Deliveries of one post without subscribers (they play no part here), ACCEPTED."""

    def make(count: int) -> list[str]:
        post = actions.create_post(
            django_user_model.objects.create(username="many"), title="T", text="News"
        )
        ids = [f"wamid.M{i:05d}" for i in range(count)]
        Delivery.objects.bulk_create(
            Delivery(post=post, state=SendState.ACCEPTED, message_id=mid) for mid in ids
        )
        return ids

    return make


def test_all_three_in_one_batch_set_each_stamp_from_its_own_status(delivery):
    statuses.record([timed("sent", 1), timed("delivered", 2), timed("read", 3)])
    assert state_of(delivery) == SendState.READ
    assert (delivery.sent_at, delivery.delivered_at, delivery.read_at) == (at(1), at(2), at(3))


def test_read_before_sent_in_one_batch_leaves_sent_out(delivery):
    statuses.record([timed("read", 3), timed("sent", 1)])
    assert state_of(delivery) == SendState.READ
    assert (delivery.sent_at, delivery.read_at) == (None, at(3))


def test_read_before_sent_in_two_batches_leaves_sent_out(delivery):
    statuses.record([timed("read", 3)])
    statuses.record([timed("sent", 1)])
    assert state_of(delivery) == SendState.READ
    assert delivery.sent_at is None


def test_delivered_after_read_in_one_batch_changes_nothing(delivery):
    statuses.record([timed("sent", 1), timed("read", 3), timed("delivered", 2)])
    assert state_of(delivery) == SendState.READ
    assert (delivery.sent_at, delivery.delivered_at, delivery.read_at) == (at(1), None, at(3))


def test_a_repeat_within_one_batch_keeps_the_first(delivery):
    statuses.record([timed("delivered", 2), timed("delivered", 5)])
    assert state_of(delivery) == SendState.DELIVERED
    assert delivery.delivered_at == at(2)
    event = StatusEvent.objects.get(message_id="wamid.D1")
    assert event.occurred_at == at(2)


def test_a_repeat_in_a_later_batch_changes_nothing(delivery):
    statuses.record([timed("delivered", 2)])
    statuses.record([timed("delivered", 5), timed("delivered", 6)])
    assert state_of(delivery) == SendState.DELIVERED
    assert delivery.delivered_at == at(2)
    assert StatusEvent.objects.get(message_id="wamid.D1").occurred_at == at(2)


def test_failed_after_delivered_fails_and_keeps_what_was_known(delivery):
    statuses.record([timed("sent", 1), timed("delivered", 2)])
    statuses.record([timed("failed", 4, error_code=131026, error_title="Message undeliverable")])
    assert state_of(delivery) == SendState.FAILED
    assert (delivery.delivered_at, delivery.failed_at) == (at(2), at(4))
    assert (delivery.error_code, delivery.last_error) == (131026, "Message undeliverable")


def test_failed_is_final_within_a_batch_and_after_it(delivery):
    statuses.record([timed("failed", 4, error_code=131047, error_title="Re-engagement")])
    statuses.record([timed("read", 5), timed("failed", 6, error_code=1, error_title="Other")])
    assert state_of(delivery) == SendState.FAILED
    assert (delivery.read_at, delivery.failed_at) == (None, at(4))
    assert (delivery.error_code, delivery.last_error) == (131047, "Re-engagement")


def test_a_read_after_a_failure_in_the_same_batch_changes_nothing(delivery):
    statuses.record([timed("failed", 4, error_code=131047), timed("read", 5)])
    assert state_of(delivery) == SendState.FAILED
    assert delivery.read_at is None


def test_unknown_message_ids_are_recorded_and_the_known_ones_applied(many):
    ids = many(3)
    unknown = [f"wamid.UNKNOWN{i}" for i in range(3)]
    statuses.record([timed("delivered", 2, mid) for mid in [*unknown, *ids]])
    assert Delivery.objects.filter(state=SendState.DELIVERED).count() == 3
    assert StatusEvent.objects.filter(message_id__in=unknown).count() == 3


def test_a_reply_in_the_chat_moves_forward_too():
    subscriber = active_subscriber()
    reply = Reply.objects.create(
        subscriber=subscriber, content={"text": "Hallo"}, state=SendState.ACCEPTED
    )
    Reply.objects.filter(pk=reply.pk).update(message_id="wamid.R1")
    statuses.record([timed("delivered", 2, "wamid.R1", **billable("service"))])
    reply.refresh_from_db()
    assert (reply.state, reply.delivered_at, reply.billed_category) == (
        SendState.DELIVERED,
        at(2),
        "SERVICE",
    )


def test_early_statuses_are_applied_later_in_the_order_they_arrived(delivery):
    statuses.record([timed("read", 3, "wamid.EARLY", **billable())])
    statuses.record([timed("sent", 1, "wamid.EARLY"), timed("delivered", 2, "wamid.EARLY")])
    Delivery.objects.update(message_id="wamid.EARLY")
    statuses.apply_known(iter(["wamid.EARLY", "wamid.EARLY", "wamid.OTHER"]))
    assert state_of(delivery) == SendState.READ
    assert (delivery.sent_at, delivery.delivered_at, delivery.read_at) == (None, None, at(3))
    assert delivery.billed_category == "MARKETING"


def test_an_early_failure_is_applied_with_its_code_later(delivery):
    statuses.record([timed("failed", 4, "wamid.EARLY", error_code=131050, error_title="Stop")])
    Delivery.objects.update(message_id="wamid.EARLY")
    statuses.apply_known(["wamid.EARLY"])
    assert state_of(delivery) == SendState.FAILED
    assert (delivery.error_code, delivery.last_error, delivery.failed_at) == (
        131050,
        "Stop",
        at(4),
    )


# --- what Meta bills ------------------------------------------------------------------------------


def test_a_billable_status_stores_its_category_in_capitals(delivery):
    statuses.record([timed("sent", 1, **billable("marketing"))])
    assert state_of(delivery) == SendState.SENT
    assert delivery.billed_category == "MARKETING"


def test_a_status_that_is_not_billable_stores_no_category(delivery):
    statuses.record(
        [
            timed("sent", 1, pricing_category="service", billable=False),
            timed("delivered", 2, pricing_category="utility"),  # billable not said
        ]
    )
    assert state_of(delivery) == SendState.DELIVERED
    assert delivery.billed_category == ""


def test_the_category_is_set_once_and_kept(delivery):
    statuses.record([timed("sent", 1, **billable("utility"))])
    statuses.record([timed("delivered", 2, **billable("marketing"))])
    assert state_of(delivery) == SendState.DELIVERED
    assert delivery.billed_category == "UTILITY"


def test_a_late_billable_status_still_stores_the_category(delivery):
    statuses.record([timed("read", 3)])
    statuses.record([timed("sent", 1, **billable("utility"))])
    assert state_of(delivery) == SendState.READ
    assert (delivery.sent_at, delivery.billed_category) == (None, "UTILITY")


def test_the_longest_category_meta_has_fits_and_a_longer_one_is_cut_not_refused(delivery):
    statuses.record([timed("sent", 1, **billable("authentication_international"))])
    assert state_of(delivery) == SendState.SENT
    assert delivery.billed_category == "AUTHENTICATION_INTERNATIONAL"
    statuses.record([timed("sent", 2, "wamid.LONG", **billable("x" * 60))])


def test_reconcile_catches_up_a_category_that_missed_its_message(delivery):
    statuses.record([timed("sent", 1, "wamid.RACE", **billable())])
    Delivery.objects.update(message_id="wamid.RACE", state=SendState.SENT)
    assert statuses.reconcile() == 1
    assert state_of(delivery) == SendState.SENT
    assert delivery.billed_category == "MARKETING"
    assert statuses.reconcile() == 0


# --- batches larger than one statement may carry ------------------------------------------------


@pytest.fixture
def few_parameters(monkeypatch):
    """Seven rows per statement, and on SQLite at most 100 parameters per statement (a limit
    set per connection), far fewer than the statuses and message ids below."""
    monkeypatch.setattr(statuses, "MAX_ROWS_PER_STATEMENT", 7)
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)
    try:
        yield
    finally:
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)


def test_a_batch_larger_than_the_parameter_limit_is_applied_in_full(many, few_parameters):
    ids = many(250)
    updates = [
        timed(state, step, mid, **billable()) for step, state in enumerate(STATES) for mid in ids
    ]
    statuses.record(updates)
    assert StatusEvent.objects.count() == 3 * 250
    read = Delivery.objects.filter(state=SendState.READ, billed_category="MARKETING")
    assert read.filter(sent_at=at(0), delivered_at=at(1), read_at=at(2)).count() == 250


def test_more_early_statuses_than_the_parameter_limit_are_applied_later(many, few_parameters):
    ids = many(250)
    early = [f"wamid.EARLY{i:05d}" for i in range(250)]
    statuses.record([timed("read", 3, mid) for mid in early])
    for mid, new in zip(ids, early, strict=True):
        Delivery.objects.filter(message_id=mid).update(message_id=new)
    statuses.apply_known(early)
    assert Delivery.objects.filter(state=SendState.READ, read_at=at(3)).count() == 250
