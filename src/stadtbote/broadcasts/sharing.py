"""Sharing: a post's footer carries the subscribe link with the post's reference ("Start
p123"); the subscriptions it brought are counted from the consent ledger, so the count
survives the erasure of the subscribers themselves."""

from __future__ import annotations

import re

from django.db.models import Count

from stadtbote.broadcasts.models import Post
from stadtbote.subscribers.models import ConsentEvent

_REFERENCE = re.compile(r"(?:^|\s)p(\d{1,10})\b", re.IGNORECASE)


def referral_in(text: str) -> str:
    """'Start p123' -> 'post:123' when post 123 exists; '' otherwise."""
    found = _REFERENCE.search(text or "")
    if not found:
        return ""
    post_id = int(found.group(1))
    return f"post:{post_id}" if Post.objects.filter(pk=post_id).exists() else ""


def subscriptions_brought(post: Post) -> int:
    return ConsentEvent.objects.filter(
        action=ConsentEvent.Action.CONFIRMED, referral=f"post:{post.pk}"
    ).count()


def subscriptions_by_post() -> dict[int, int]:
    rows = (
        ConsentEvent.objects.filter(
            action=ConsentEvent.Action.CONFIRMED, referral__startswith="post:"
        )
        .values_list("referral")
        .annotate(n=Count("id"))
    )
    return {int(ref.removeprefix("post:")): n for ref, n in rows}
