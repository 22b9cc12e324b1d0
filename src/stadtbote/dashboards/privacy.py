"""Erasure and the figures: a subscriber's reactions go with them, and so must they from the
posts' counters, which an old post would otherwise keep until it is next recounted (perhaps
never). Days already counted keep their totals: they name nobody."""

from __future__ import annotations

from typing import Any

from stadtbote.broadcasts import reactions as post_reactions
from stadtbote.broadcasts.models import Post, PostReaction
from stadtbote.dashboards.models import PostFigures
from stadtbote.subscribers.models import Subscriber


def forget_reactions(subscriber: Subscriber, **_: Any) -> None:
    """Deletes the subscriber's reactions now (the cascade would a moment later) and counts
    their posts' reactions again. A rollup running at the same time may still write the old
    count; the next reaction on that post puts it right."""
    theirs = PostReaction.objects.filter(subscriber=subscriber)
    post_ids = set(theirs.exclude(emoji="").values_list("post_id", flat=True))
    theirs.delete()
    for post in Post.objects.filter(pk__in=post_ids, figures__isnull=False):
        PostFigures.objects.filter(post=post).update(reactions=post_reactions.counts(post))
