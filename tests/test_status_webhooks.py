"""Status webhooks from storage to the delivery rows: one status per body or many, good and bad
bodies in one batch of the worker."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.db import OperationalError

from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Delivery
from stadtbote.channels import statuses
from stadtbote.channels.models import InboundWebhook, SendState, StatusEvent
from stadtbote.channels.types import Unhandled
from stadtbote.channels.whatsapp import parser
from stadtbote.dialogue import router, tasks
from stadtbote.subscribers.models import Subscriber
from tests.helpers import ALICE, BOB, active_subscriber, compact, envelope

pytestmark = pytest.mark.django_db

PRICING = {"billable": True, "pricing_model": "PMP", "category": "marketing", "type": "regular"}


def item(message_id: str, state: str, at: int = 1790000000, **extra: Any) -> dict[str, Any]:
    return {
        "id": message_id,
        "status": state,
        "timestamp": str(at),
        "recipient_id": ALICE,
        "pricing": PRICING,
        **extra,
    }


def stored(*items: dict[str, Any]) -> int:
    """A body with these statuses, stored as the webhook view stores it."""
    body = compact(envelope({"statuses": list(items)}))
    return InboundWebhook.objects.create(
        body=body, content_hash=hashlib.sha256(body).hexdigest()
    ).pk


def apply_all() -> None:
    while tasks.apply_inbound_once():
        pass


def state(pk: int) -> tuple[str, str]:
    row = InboundWebhook.objects.get(pk=pk)
    return row.state, row.error


@pytest.fixture
def sent_post(django_user_model) -> list[str]:
    """Two subscribers got a post; Meta accepted both messages."""
    active_subscriber(ALICE)
    active_subscriber(BOB)
    post = actions.create_post(
        django_user_model.objects.create(username="editor"), title="T", text="News"
    )
    actions.send_post(post)
    ids = []
    for n, delivery in enumerate(Delivery.objects.order_by("id")):
        delivery.message_id, delivery.state = f"wamid.P{n}", SendState.ACCEPTED
        delivery.save()
        ids.append(delivery.message_id)
    return ids


def test_one_status_per_body_moves_every_delivery_and_empties_the_bodies(sent_post):
    rows = [stored(item(mid, s)) for s in ("sent", "delivered", "read") for mid in sent_post]
    apply_all()
    assert all(state(pk) == ("applied", "") for pk in rows)
    assert not InboundWebhook.objects.exclude(body=b"").exists()
    done = Delivery.objects.filter(state=SendState.READ, billed_category="MARKETING")
    assert done.count() == len(sent_post)


def test_a_malformed_status_among_good_ones_leaves_only_itself_out(sent_post):
    good, other = sent_post
    pk = stored(item(good, "delivered"), {"status": "read", "timestamp": "1"}, item(other, "read"))
    apply_all()
    row = InboundWebhook.objects.get(pk=pk)
    assert (row.state, row.error) == ("malformed", "status left out: unexpected shape: KeyError")
    assert bytes(row.body)  # kept for inspection
    states = dict(Delivery.objects.values_list("message_id", "state"))
    assert states == {good: SendState.DELIVERED, other: SendState.READ}


def test_a_malformed_body_in_a_batch_is_marked_and_the_others_apply(sent_post):
    first = stored(item(sent_post[0], "read"))
    bad = InboundWebhook.objects.create(body=b"not json", content_hash="x" * 64).pk
    last = stored(item(sent_post[1], "read"))
    apply_all()
    assert [state(pk)[0] for pk in (first, bad, last)] == ["applied", "malformed", "applied"]
    assert Delivery.objects.filter(state=SendState.READ).count() == 2


def test_a_body_whose_handling_raises_fails_alone_and_leaves_no_trace(sent_post, monkeypatch):
    handle = router.handle

    def fussy(event):
        handle(event)
        if getattr(event, "message_id", None) == "wamid.P1":
            raise RuntimeError("boom")

    monkeypatch.setattr("stadtbote.dialogue.router.handle", fussy)
    good = stored(item("wamid.P0", "read"))
    bad = stored(item("wamid.P1", "read"))
    apply_all()
    assert state(good) == ("applied", "")
    assert state(bad) == ("failed", "RuntimeError")
    states = dict(Delivery.objects.values_list("message_id", "state"))
    assert states == {"wamid.P0": SendState.READ, "wamid.P1": SendState.ACCEPTED}
    assert not StatusEvent.objects.filter(message_id="wamid.P1").exists()


class _Deadlock(Exception):
    sqlstate = "40P01"  # as psycopg's DeadlockDetected carries it


def test_a_body_that_meets_a_deadlock_stays_pending_and_is_applied_later(sent_post, monkeypatch):
    handle = router.handle
    deadlocks = [1, 1]  # the batch together, then the body alone

    def unlucky(event):
        handle(event)
        if getattr(event, "message_id", None) == "wamid.P1" and deadlocks:
            deadlocks.pop()
            raise OperationalError("deadlock detected") from _Deadlock()

    monkeypatch.setattr("stadtbote.dialogue.router.handle", unlucky)
    good = stored(item("wamid.P0", "read"))
    unlucky_one = stored(item("wamid.P1", "read"))
    assert tasks.apply_inbound_once() == 2
    assert (state(good), state(unlucky_one)) == (("applied", ""), ("pending", ""))
    assert tasks.apply_inbound_once() == 1  # the next batch takes it again
    assert state(unlucky_one) == ("applied", "")
    assert Delivery.objects.filter(state=SendState.READ).count() == 2


def test_another_database_error_still_fails_the_body(sent_post, monkeypatch):
    handle = router.handle

    def broken(event):
        handle(event)
        if getattr(event, "message_id", None) == "wamid.P1":
            raise OperationalError("no such table")

    monkeypatch.setattr("stadtbote.dialogue.router.handle", broken)
    bad = stored(item("wamid.P1", "read"))
    apply_all()
    assert state(bad) == ("failed", "OperationalError")


def test_a_failure_among_many_statuses_still_marks_the_person(sent_post):
    stored(
        item(sent_post[0], "read"),
        item(sent_post[1], "failed", errors=[{"code": 131026, "title": "Undeliverable"}]),
    )
    apply_all()
    failed = Delivery.objects.get(message_id=sent_post[1])
    assert (failed.state, failed.error_code) == (SendState.FAILED, 131026)
    assert failed.subscriber is not None
    assert failed.subscriber.unreachable_code == 131026
    assert Subscriber.objects.filter(unreachable_code__isnull=True).count() == 1


def test_a_stream_of_one_status_bodies_larger_than_a_batch_is_applied(sent_post, monkeypatch):
    monkeypatch.setattr(statuses, "MAX_ROWS_PER_STATEMENT", 3)
    rows = [stored(item(sent_post[n % 2], "sent", at=1790000000 + n)) for n in range(150)]
    apply_all()
    assert InboundWebhook.objects.filter(pk__in=rows, state="applied").count() == 150
    first = Delivery.objects.get(message_id=sent_post[0])
    assert (first.state, first.sent_at.timestamp()) == (SendState.SENT, 1790000000)


# --- the parser's two modes -----------------------------------------------------------------


def test_strict_parsing_still_refuses_the_whole_body():
    body = compact(envelope({"statuses": [item("wamid.A", "read"), {"status": "read"}]}))
    with pytest.raises(parser.MalformedWebhook, match="unexpected shape: KeyError"):
        parser.parse(body)


def test_tolerant_parsing_keeps_the_good_statuses_and_names_the_left_out():
    bad = {"id": "wamid.B", "status": "read", "timestamp": "soon", "recipient_id": ALICE}
    body = compact(envelope({"statuses": [bad, item("wamid.A", "read"), {"id": "x"}]}))
    parsed = parser.parse_tolerant(body)
    assert [e.message_id for e in parsed.events] == ["wamid.A"]  # type: ignore[union-attr]
    assert parsed.problem == "status left out: unexpected shape: ValueError (and 1 more)"


def test_tolerant_parsing_gives_what_strict_parsing_gives_for_a_good_body(shared):
    for name in ("message_status", "message", "system", "user_marketing_preferences"):
        for body in _fixture_bodies(shared, name):
            assert parser.parse_tolerant(body) == parser.Parsed(parser.parse(body))


def test_a_status_value_that_is_no_string_is_unhandled_as_before():
    body = compact(envelope({"statuses": [item("wamid.A", ["read"])]}))
    assert parser.parse(body)[0] == Unhandled(kind="status:['read']")


def _fixture_bodies(shared, name: str) -> list[bytes]:
    cases = json.loads((shared / "whatsapp" / "fixtures" / "pywa" / f"{name}.json").read_text())
    return [compact(payload) for payload in cases.values()]
