"""Statuses arrive at least once, in any order, sometimes without `delivered`."""

from __future__ import annotations

import pytest
from django.utils import timezone

from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Delivery
from stadtbote.channels import statuses
from stadtbote.channels.models import SendState, StatusEvent
from stadtbote.channels.types import DeliveryStatus, StatusUpdate
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
