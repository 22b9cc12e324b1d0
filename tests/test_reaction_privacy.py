"""A subscriber's reactions in the data-subject export (theirs only, taken-back ones too), and
their erasure: the reactions go, the posts' counters forget them at once, the webhook bodies
that carried them are emptied, and what stays counted names nobody."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import reactions
from stadtbote.broadcasts.models import Delivery, PostReaction
from stadtbote.channels.models import InboundWebhook
from stadtbote.dashboards import rollup
from stadtbote.dashboards.models import PostFigures, ReactionDay
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.export import export
from tests.helpers import ALICE, BOB, active_subscriber, staff_with_roles
from tests.reaction_support import message_id, react, sent_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


@pytest.fixture
def posts(django_user_model):
    erika = staff_with_roles(django_user_model, erika=Role.EDITOR)["erika"]
    people = [active_subscriber(ALICE), active_subscriber(BOB)]
    return sent_post(erika, people, title="Stadtfest"), sent_post(erika, people, title="Baustelle")


def test_the_export_lists_the_subscribers_reactions_and_only_theirs(posts):
    fest, bau = posts
    now = int(time.time())
    react(ALICE, message_id(fest, 0), "👍", at=now - 60)
    react(ALICE, message_id(bau, 0), "❤️", at=now - 50)
    react(ALICE, message_id(bau, 0), None, at=now - 40)  # taken back: still stored
    react(BOB, message_id(fest, 1), "😮", at=now - 30)
    data = export(subscribers.find(ALICE))
    assert data["post_reactions"] == [
        {
            "post": "Stadtfest",
            "emoji": "👍",
            "reacted_at": datetime.fromtimestamp(now - 60, UTC).isoformat(),
        },
        {
            "post": "Baustelle",
            "emoji": None,
            "reacted_at": datetime.fromtimestamp(now - 40, UTC).isoformat(),
        },
    ]
    json.dumps(data)  # machine-readable as it is


def test_a_subscriber_without_reactions_gets_an_empty_list(posts):
    assert export(subscribers.find(BOB))["post_reactions"] == []


def test_erasure_removes_the_reactions_and_the_counters_forget_them_at_once(posts):
    fest, _ = posts
    react(ALICE, message_id(fest, 0), "👍")
    react(BOB, message_id(fest, 1), "👍")
    rollup.refresh(timezone.now())
    assert PostFigures.objects.get(post=fest).reactions == {"👍": 2}
    alice = subscribers.find(ALICE)
    subscribers.erase(alice, wording="Löschen")
    assert not PostReaction.objects.filter(subscriber_id=alice.pk).exists()
    assert PostReaction.objects.count() == 1
    assert reactions.counts(fest) == {"👍": 1}
    # Without waiting for the rollup, which would not look at this post again.
    assert PostFigures.objects.get(post=fest).reactions == {"👍": 1}
    # The delivery stays for the funnel, anonymous.
    assert Delivery.objects.filter(post=fest, subscriber=None).count() == 1


def test_erasure_by_the_cascade_alone_removes_them_too(posts):
    """The subscriber row's deletion takes the reactions with it, also where the erasure
    signal's receivers did not run (a row deleted in the admin, say)."""
    fest, _ = posts
    react(ALICE, message_id(fest, 0), "👍")
    subscribers.find(ALICE).delete()
    assert PostReaction.objects.count() == 0


def test_after_erasure_nothing_stored_names_the_person(posts):
    fest, _ = posts
    react(ALICE, message_id(fest, 0), "👍")
    rollup.refresh(timezone.now())
    subscribers.erase(subscribers.find(ALICE), wording="Löschen")
    rollup.refresh(timezone.now())
    bodies = b"".join(bytes(b) for b in InboundWebhook.objects.values_list("body", flat=True))
    assert ALICE.encode() not in bodies
    stored = json.dumps(
        [list(ReactionDay.objects.values()), list(PostFigures.objects.values())], default=str
    )
    assert ALICE not in stored and message_id(fest, 0) not in stored
