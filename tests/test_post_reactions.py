"""Emoji reactions on a post's message through the webhook: counted per post, replaced, taken
back; reactions to other messages, from other people, late, repeated or malformed change
nothing."""

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
from stadtbote.channels.models import InboundWebhook, SendState
from stadtbote.channels.sending import SendLoop
from stadtbote.dialogue import tasks
from stadtbote.dialogue.models import Reply
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


def test_a_reaction_is_counted_replaced_and_taken_back(post):
    react(ALICE, message_of(post, ALICE), "👍", seconds=1)
    react(BOB, message_of(post, BOB), "👍", seconds=1)
    assert reactions.counts(post) == {"👍": 2}
    react(ALICE, message_of(post, ALICE), "❤️", seconds=2)
    assert reactions.counts(post) == {"👍": 1, "❤️": 1}
    react(BOB, message_of(post, BOB), "", seconds=3)
    assert reactions.counts(post) == {"❤️": 1}
    assert PostReaction.objects.count() == 2  # one current reaction per delivery


def test_the_most_frequent_reaction_comes_first(post):
    react(ALICE, message_of(post, ALICE), "🙏🏽")
    react(BOB, message_of(post, BOB), "🙏🏽")
    assert list(reactions.counts(post).items()) == [("🙏🏽", 2)]
    react(BOB, message_of(post, BOB), "😂", seconds=1)
    assert list(reactions.counts(post)) == ["😂", "🙏🏽"]  # a tie: in the emoji's order


def test_a_reaction_to_a_chat_answer_or_an_unknown_message_is_ignored(post):
    alice = subscribers.find(ALICE)
    Reply.objects.create(
        subscriber=alice, content={"text": "Danke"}, state=SendState.SENT, message_id="wamid.A"
    )
    react(ALICE, "wamid.A", "👍")
    react(ALICE, "wamid.NEVER_SENT", "👍")
    assert reactions.counts(post) == {}
    assert not PostReaction.objects.exists()


def test_a_reaction_from_someone_the_message_did_not_go_to_is_ignored(post):
    react(BOB, message_of(post, ALICE), "👍")
    react("491700000099", message_of(post, ALICE), "👍")  # not subscribed at all
    assert reactions.counts(post) == {}


def test_an_older_reaction_arriving_late_does_not_replace_a_newer_one(post):
    target = message_of(post, ALICE)
    react(ALICE, target, "❤️", seconds=20)
    react(ALICE, target, "👍", seconds=10)  # made first, delivered last
    assert reactions.counts(post) == {"❤️": 1}
    react(ALICE, target, "", seconds=30)
    react(ALICE, target, "😂", seconds=25)  # a reaction taken back stays taken back
    assert reactions.counts(post) == {}


def test_a_repeated_webhook_does_not_undo_a_later_reaction_of_the_same_second(post):
    target = message_of(post, ALICE)
    first = react(ALICE, target, "👍", seconds=5)
    react(ALICE, target, "❤️", seconds=5)  # changed within the same second
    # Meta repeats the first in another body (the intake's content hash cannot catch it).
    react(ALICE, target, "👍", seconds=5, message_id=first, name="Alice")
    assert reactions.counts(post) == {"❤️": 1}


@pytest.mark.parametrize(
    "emoji",
    ["x" * 33, "👍" * 40],
    ids=["text", "too-many"],
)
def test_something_too_long_for_an_emoji_is_ignored(post, emoji):
    react(ALICE, message_of(post, ALICE), emoji)
    assert not PostReaction.objects.exists()


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


def test_an_erased_subscribers_reaction_leaves_the_counts_and_a_later_one_is_ignored(post):
    target = message_of(post, ALICE)
    react(ALICE, target, "👍")
    react(BOB, message_of(post, BOB), "👍")
    subscribers.erase(subscribers.find(ALICE), wording="bye")
    assert reactions.counts(post) == {"👍": 1}
    react(ALICE, target, "❤️", seconds=10)
    assert reactions.counts(post) == {"👍": 1}
