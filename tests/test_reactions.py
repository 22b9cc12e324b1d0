"""Emoji reactions on posts, through the signed webhook: a citizen's current emoji is counted
once per post they received; a new one replaces it, taking it back removes it, an older one
arriving late changes nothing, the same webhook twice counts once. Reactions to chat answers,
to unknown messages, by someone else, or that are no emoji are ignored; nothing crashes."""

from __future__ import annotations

import logging
import time

import pytest

from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import reactions
from stadtbote.broadcasts.models import Delivery, PostReaction
from stadtbote.channels.models import InboundWebhook, SendState
from stadtbote.dialogue.models import Reply
from stadtbote.subscribers import actions as subscribers
from tests.helpers import (
    ALICE,
    BOB,
    active_subscriber,
    compact,
    envelope,
    post_webhook,
    staff_with_roles,
)
from tests.reaction_support import deliver, message_id, react, reaction_body, sent_post

pytestmark = pytest.mark.django_db

CAROL = "491705550000"


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


@pytest.fixture
def post(django_user_model):
    erika = staff_with_roles(django_user_model, erika=Role.EDITOR)["erika"]
    return sent_post(erika, [active_subscriber(ALICE), active_subscriber(BOB)])


def test_a_reaction_is_counted_on_its_post(post):
    react(ALICE, message_id(post, 0), "👍")
    react(BOB, message_id(post, 1), "👍")
    assert reactions.counts(post) == {"👍": 2}
    stored = PostReaction.objects.get(delivery__message_id=message_id(post, 0))
    assert stored.emoji == "👍" and stored.post_id == post.pk


def test_counts_come_most_frequent_first(post):
    react(ALICE, message_id(post, 0), "❤️")
    react(BOB, message_id(post, 1), "😮")
    third = active_subscriber(CAROL)
    Delivery.objects.create(post=post, subscriber=third, state=SendState.READ, message_id="w.c")
    react(CAROL, "w.c", "😮")
    assert list(reactions.counts(post).items()) == [("😮", 2), ("❤️", 1)]


def test_a_new_emoji_replaces_the_old_one(post):
    now = int(time.time())
    react(ALICE, message_id(post, 0), "👍", at=now - 60)
    react(ALICE, message_id(post, 0), "❤️", at=now - 30)
    assert reactions.counts(post) == {"❤️": 1}
    assert PostReaction.objects.count() == 1


def test_taking_it_back_removes_it_from_the_counts(post):
    now = int(time.time())
    react(ALICE, message_id(post, 0), "👍", at=now - 60)
    react(ALICE, message_id(post, 0), None, at=now - 30)  # Meta leaves the emoji out
    assert reactions.counts(post) == {}
    react(ALICE, message_id(post, 0), "", at=now - 20)  # or sends it empty
    assert reactions.counts(post) == {}
    # The row stays, empty, so that a late copy of the old emoji cannot bring it back.
    assert PostReaction.objects.get().emoji == ""
    react(ALICE, message_id(post, 0), "👍", at=now - 60)
    assert reactions.counts(post) == {}


def test_an_older_reaction_arriving_late_changes_nothing(post):
    now = int(time.time())
    react(ALICE, message_id(post, 0), "❤️", at=now - 10)
    react(ALICE, message_id(post, 0), "👍", at=now - 50)  # tapped before, delivered after
    assert reactions.counts(post) == {"❤️": 1}


def test_the_same_webhook_twice_counts_once(post):
    body = react(ALICE, message_id(post, 0), "👍")
    deliver(body)
    assert InboundWebhook.objects.count() == 1
    # The same message in another body (Meta resends it bundled differently): still once.
    own_id = "wamid.SAME"
    react(BOB, message_id(post, 1), "👍", own_id=own_id)
    react(BOB, message_id(post, 1), "👍", own_id=own_id, at=int(time.time()) + 1)
    assert reactions.counts(post) == {"👍": 2}
    assert PostReaction.objects.count() == 2


def test_a_reaction_to_an_unknown_message_is_ignored(post):
    react(ALICE, "wamid.NOBODYKNOWS", "👍")
    assert PostReaction.objects.count() == 0


def test_a_reaction_to_a_chat_answer_is_ignored(post):
    alice = subscribers.find(ALICE)
    Reply.objects.create(subscriber=alice, content={"text": "Hallo"}, message_id="wamid.ANSWER")
    react(ALICE, "wamid.ANSWER", "👍")
    assert PostReaction.objects.count() == 0


def test_a_reaction_by_someone_else_is_ignored(post):
    react(BOB, message_id(post, 0), "👍")  # Alice's message, Bob's emoji
    react(CAROL, message_id(post, 0), "👍")  # a number we do not know at all
    assert PostReaction.objects.count() == 0
    assert subscribers.find(CAROL) is None  # a reaction creates nobody


def test_an_over_long_emoji_is_ignored_and_a_long_flag_is_not(post):
    react(ALICE, message_id(post, 0), "😀" * (reactions.MAX_EMOJI + 1))
    assert PostReaction.objects.count() == 0
    family = "👩\u200d👩\u200d👧\u200d👦"  # several code points, one emoji
    react(ALICE, message_id(post, 0), family)
    assert reactions.counts(post) == {family: 1}


def test_a_reaction_after_erasure_of_its_sender_is_ignored(post):
    subscribers.erase(subscribers.find(ALICE), wording="Löschen")
    react(ALICE, message_id(post, 0), "👍")
    assert PostReaction.objects.count() == 0


@pytest.mark.parametrize(
    "reaction",
    [
        {},  # no message_id
        {"message_id": None, "emoji": "👍"},
        {"message_id": ["x"], "emoji": "👍"},
        {"message_id": "wamid.X", "emoji": 7},
    ],
)
def test_a_malformed_reaction_is_kept_for_inspection_and_crashes_nothing(post, reaction):
    message = {
        "from": ALICE,
        "id": "wamid.BAD",
        "timestamp": str(int(time.time())),
        "type": "reaction",
        "reaction": reaction,
    }
    deliver(compact(envelope({"messages": [message]})))
    assert PostReaction.objects.count() == 0
    # The worker carries on with the next one.
    react(ALICE, message_id(post, 0), "👍")
    assert reactions.counts(post) == {"👍": 1}


def test_no_phone_number_or_emoji_reaches_the_log(post, caplog):
    caplog.set_level(logging.DEBUG)
    react(BOB, message_id(post, 0), "👍")
    react(ALICE, message_id(post, 0), "😀" * 40)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert ALICE not in logged and BOB not in logged


def test_the_webhook_body_is_signed_and_a_forged_one_counts_nothing(client, post):
    body = reaction_body(ALICE, message_id(post, 0), "👍")
    assert post_webhook(client, body, signature="sha256=" + "0" * 64).status_code in (401, 403)
    deliver(reaction_body(BOB, message_id(post, 1), "👍"))
    assert reactions.counts(post) == {"👍": 1}
