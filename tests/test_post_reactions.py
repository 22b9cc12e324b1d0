"""Reactions through the webhook that are repeated within one second or malformed change
nothing (the everyday cases are in test_reactions.py)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from stadtbote.broadcasts import actions as posts
from stadtbote.broadcasts import reactions
from stadtbote.broadcasts import tasks as sending
from stadtbote.broadcasts.models import Delivery, Post, PostReaction
from stadtbote.channels.models import InboundWebhook
from stadtbote.channels.sending import SendLoop
from stadtbote.dialogue import tasks
from stadtbote.subscribers import actions as subscribers
from tests.helpers import ALICE, BOB, active_subscriber, compact, envelope, post_webhook

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def network(monkeypatch):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)
    monkeypatch.setattr(
        SendLoop, "send_many", lambda self, items: [f"wamid.SENT{next(_ids)}" for _ in items]
    )


@pytest.fixture
def post(django_user_model) -> Post:
    """A post sent to Alice and Bob."""
    active_subscriber(ALICE)
    active_subscriber(BOB)
    editor = django_user_model.objects.create(username="editor")
    editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_post", "change_post", "approve_post"])
    )
    approver = django_user_model.objects.create(username="approver")
    approver.user_permissions.add(*Permission.objects.filter(codename="approve_post"))
    editor = django_user_model.objects.get(pk=editor.pk)
    approver = django_user_model.objects.get(pk=approver.pk)
    created = posts.create_post(editor, title="Baustelle", text="Die Hauptstraße ist gesperrt.")
    posts.submit(created, editor)
    posts.approve(created, approver)
    while sending.dispatch_once():
        pass
    return created


def message_of(post: Post, number: str) -> str:
    subscriber = subscribers.find(number)
    return Delivery.objects.get(post=post, subscriber=subscriber).message_id or ""


def react(
    sender: str,
    target: Any,
    emoji: Any,
    *,
    seconds: int = 0,
    message_id: str | None = None,
    name: str | None = None,
) -> str:
    """One reaction webhook; `name` adds the contacts block (another body, same message)."""
    message_id = message_id or f"wamid.REACT{next(_ids)}"
    reaction: dict[str, Any] = {"emoji": emoji}
    if target is not ...:
        reaction["message_id"] = target
    value: dict[str, Any] = {
        "messages": [
            {
                "from": sender,
                "id": message_id,
                "timestamp": str(int((AT + timedelta(seconds=seconds)).timestamp())),
                "type": "reaction",
                "reaction": reaction,
            }
        ]
    }
    if name:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": sender}]
    assert post_webhook(Client(), compact(envelope(value))).status_code == 200
    tasks.apply_inbound_once()
    return message_id


def test_a_repeated_webhook_does_not_undo_a_later_reaction_of_the_same_second(post):
    target = message_of(post, ALICE)
    first = react(ALICE, target, "👍", seconds=5)
    react(ALICE, target, "❤️", seconds=5)  # changed within the same second
    # Meta repeats the first in another body (the intake's content hash cannot catch it).
    react(ALICE, target, "👍", seconds=5, message_id=first, name="Alice")
    assert reactions.counts(post) == {"❤️": 1}


@pytest.mark.parametrize(
    ("target", "emoji"),
    [(None, "👍"), (..., "👍"), (7, "👍"), ("{target}", 7), ("{target}", ["👍"])],
    ids=["no-message", "missing-message", "number-message", "number-emoji", "list-emoji"],
)
def test_a_malformed_reaction_changes_nothing(post, django_user_model, target, emoji):
    # A post still on its way to Alice: a reaction naming no message must not land there.
    editor = django_user_model.objects.get(username="editor")
    queued = posts.create_post(editor, title="Später", text="Noch nicht gesendet.")
    posts.submit(queued, editor)
    posts.approve(queued, django_user_model.objects.get(username="approver"))
    assert Delivery.objects.filter(post=queued, message_id=None).exists()
    if target == "{target}":
        target = message_of(post, ALICE)
    react(ALICE, target, emoji)
    assert not PostReaction.objects.exists()
    # Malformed, the webhook is kept to look at; it does not fail the worker.
    assert not InboundWebhook.objects.filter(state=InboundWebhook.State.FAILED).exists()
