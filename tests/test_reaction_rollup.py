"""The rollup's reaction counters (run on SQLite and, in the second pass, PostgreSQL): each
post's reactions per emoji agree with the reactions themselves, a post is recounted when
reactions on it changed since the last run (also an old one, also by a webhook that comes
late), reactions and forwarded messages are counted per local day, running it again counts
nothing twice, and the counters name nobody."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import reactions
from stadtbote.broadcasts.models import Post, PostReaction
from stadtbote.dashboards import figures as dashboard_figures
from stadtbote.dashboards import rollup
from stadtbote.dashboards.models import PostFigures, ReactionDay
from stadtbote.dialogue.models import ReceivedMessage
from tests.helpers import ALICE, BOB, active_subscriber, compact, staff_with_roles, text_message
from tests.reaction_support import deliver, message_id, react, sent_post

pytestmark = pytest.mark.django_db

CAROL = "491705550000"


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


@pytest.fixture
def people():
    return [active_subscriber(n) for n in (ALICE, BOB, CAROL)]


@pytest.fixture
def post(django_user_model, people):
    erika = staff_with_roles(django_user_model, erika=Role.EDITOR)["erika"]
    return sent_post(erika, people)


def day_of(at: int):
    return rollup.local_day(datetime.fromtimestamp(at, UTC))


def figures(post: Post) -> dict[str, int]:
    return PostFigures.objects.get(post=post).reactions


def test_each_posts_reactions_are_counted_per_emoji_as_they_stand(post):
    react(ALICE, message_id(post, 0), "❤️")
    react(BOB, message_id(post, 1), "❤️")
    react(CAROL, message_id(post, 2), "👍")
    rollup.refresh(timezone.now())
    assert figures(post) == reactions.counts(post) == {"❤️": 2, "👍": 1}
    # Read back most frequent first, though PostgreSQL's jsonb puts the shorter key first.
    (row,) = dashboard_figures.recent_posts()
    assert list(row.reactions) == ["❤️", "👍"]


def test_an_old_post_is_counted_again_when_its_reactions_changed(django_user_model, people):
    erika = staff_with_roles(django_user_model, erika=Role.EDITOR)["erika"]
    post = sent_post(erika, people)
    Post.objects.filter(pk=post.pk).update(
        send_started_at=timezone.now() - timedelta(days=40),
        sent_at=timezone.now() - timedelta(days=40),
    )
    rollup.refresh(timezone.now())
    assert rollup.refresh(timezone.now()).posts == 0  # nothing touched it
    react(ALICE, message_id(post, 0), "😮")
    assert rollup.refresh(timezone.now()).posts == 1
    assert figures(post) == {"😮": 1}
    react(ALICE, message_id(post, 0), None)  # taken back: a change too
    assert rollup.refresh(timezone.now()).posts == 1
    assert figures(post) == {}
    # Recounted while the change is inside the rollup's look-back margin, not after.
    later = timezone.now() + rollup.MARGIN + timedelta(minutes=1)
    rollup.refresh(later)
    assert rollup.refresh(later + timedelta(minutes=1)).posts == 0


def test_a_webhook_that_comes_late_reaches_its_post_and_the_day_of_the_tap(post):
    rollup.refresh(timezone.now())
    three_days_ago = int(time.time()) - 3 * 86400
    react(ALICE, message_id(post, 0), "🙏", at=three_days_ago)
    result = rollup.refresh(timezone.now())
    assert result.posts == 1 and figures(post) == {"🙏": 1}
    day = ReactionDay.objects.get(day=day_of(three_days_ago))
    assert (day.reactions, day.by_emoji) == (1, {"🙏": 1})


def test_reactions_are_counted_per_day_with_their_split_by_emoji(post):
    now = int(time.time())
    react(ALICE, message_id(post, 0), "❤️", at=now)
    react(BOB, message_id(post, 1), "👍", at=now)
    react(CAROL, message_id(post, 2), "❤️", at=now)
    rollup.refresh(timezone.now())
    day = ReactionDay.objects.get(day=day_of(now))
    assert (day.reactions, day.by_emoji) == (3, {"❤️": 2, "👍": 1})
    (shown,) = dashboard_figures.signal_days(day.day, day.day)
    assert list(shown.by_emoji.items()) == [("❤️", 2), ("👍", 1)]


def test_a_day_whose_reactions_were_taken_back_is_counted_zero_not_left_stale(post):
    now = int(time.time())
    react(ALICE, message_id(post, 0), "👍", at=now - 5)
    rollup.refresh(timezone.now())
    react(ALICE, message_id(post, 0), None, at=now)
    rollup.refresh(timezone.now())
    day = ReactionDay.objects.get(day=day_of(now))
    assert (day.reactions, day.by_emoji) == (0, {})


def test_the_first_run_counts_every_earlier_day(post):
    alice_delivery = post.deliveries.get(message_id=message_id(post, 0))
    tapped = timezone.now() - timedelta(days=20)
    PostReaction.objects.create(
        delivery=alice_delivery,
        post=post,
        subscriber_id=alice_delivery.subscriber_id,
        emoji="🎉",
        reacted_at=tapped,
    )
    rollup.refresh(timezone.now())
    assert ReactionDay.objects.get(day=rollup.local_day(tapped)).by_emoji == {"🎉": 1}


def test_running_it_again_counts_nothing_twice(post):
    react(ALICE, message_id(post, 0), "👍")
    react(BOB, message_id(post, 1), "👍")
    deliver(forwarded(BOB))
    rollup.refresh(timezone.now())
    first = list(ReactionDay.objects.values())
    first_figures = figures(post)
    for _ in range(3):
        rollup.refresh(timezone.now())
    assert list(ReactionDay.objects.values()) == first
    assert figures(post) == first_figures


def forwarded(sender: str, **context: bool) -> bytes:
    body = text_message(sender, "Schaut mal, die Stadt schreibt: Stadtfest am Samstag!")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["context"] = context or {
        "forwarded": True
    }
    return compact(body)


def test_forwarded_messages_are_counted_per_day_once_each():
    deliver(forwarded(ALICE))
    deliver(forwarded(BOB, frequently_forwarded=True))
    deliver(compact_text(CAROL, "Hallo"))  # not forwarded
    assert ReceivedMessage.objects.filter(forwarded=True).count() == 2
    rollup.refresh(timezone.now())
    today = ReactionDay.objects.get(day=rollup.local_day(timezone.now()))
    assert today.forwarded == 2
    rollup.refresh(timezone.now())
    today.refresh_from_db()
    assert today.forwarded == 2


def compact_text(sender: str, text: str) -> bytes:
    return compact(text_message(sender, text))


def test_the_forwarded_count_of_a_day_outlives_the_message_ids_behind_it(post):
    """The handled-message ids are kept a week (retention); a late reaction for that day
    recounts its reactions only, not its forwarded messages."""
    old = timezone.now() - timedelta(days=9)
    ReactionDay.objects.create(day=rollup.local_day(old), reactions=0, forwarded=4)
    rollup.refresh(timezone.now())
    react(ALICE, message_id(post, 0), "👍", at=int(old.timestamp()))
    rollup.refresh(timezone.now())
    day = ReactionDay.objects.get(day=rollup.local_day(old))
    assert (day.reactions, day.forwarded) == (1, 4)


def test_the_counters_name_nobody(post):
    react(ALICE, message_id(post, 0), "👍")
    deliver(forwarded(BOB))
    rollup.refresh(timezone.now())
    stored = json.dumps(
        [list(ReactionDay.objects.values()), list(PostFigures.objects.values())], default=str
    )
    for personal in (ALICE, BOB, message_id(post, 0)):
        assert personal not in stored
