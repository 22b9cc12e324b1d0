"""The city's WhatsApp Channel. Meta offers no API for Channels: staff paste the copy-ready
text (rendering.channel_copy), then record here that it was posted and, later, the follower
and reaction counts the Channel shows, so the newsroom sees the Channel beside the chat."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from stadtbote.accounts import audit
from stadtbote.broadcasts.actions import NotAllowed, PostError
from stadtbote.broadcasts.models import ChannelPosting, Post

# Only what was approved goes to the Channel.
_APPROVED = [Post.Status.SCHEDULED, Post.Status.SENDING, Post.Status.PAUSED, Post.Status.SENT]
MAX_COUNT = 100_000_000  # more than WhatsApp has users: a typing error


def _check(post: Post, user: User) -> None:
    if not user.has_perm("broadcasts.change_post"):
        raise NotAllowed(gettext_noop("Your account may not record Channel postings."))
    if post.status not in _APPROVED:
        raise PostError(gettext_noop("Only an approved post can be posted to the Channel."))


def record_posted(post: Post, user: User, *, posted_at: datetime | None = None) -> ChannelPosting:
    _check(post, user)
    now = timezone.now()
    posted_at = posted_at or now
    if posted_at > now:
        raise PostError(gettext_noop("A posting cannot be recorded for the future."))
    try:
        with transaction.atomic():
            posting = ChannelPosting.objects.create(post=post, posted_at=posted_at, posted_by=user)
            audit.record(user, "post.posted_to_channel", post)
            return posting
    except IntegrityError as exc:
        raise PostError(
            gettext_noop("This post is already recorded as posted to the Channel.")
        ) from exc


def record_counts(
    post: Post, user: User, *, followers: int | None, reactions: int | None
) -> ChannelPosting:
    _check(post, user)
    for name, value in (("followers", followers), ("reactions", reactions)):
        if value is not None and not 0 <= value <= MAX_COUNT:
            raise PostError(
                gettext_noop("The number of %(name)s must be between 0 and %(most)s."),
                name=name,
                most=f"{MAX_COUNT:,}",
            )
    posting = ChannelPosting.objects.filter(post=post).first()
    if posting is None:
        raise PostError(gettext_noop("Record the Channel posting first, then its counts."))
    if followers is not None:
        posting.followers = followers
    if reactions is not None:
        posting.reactions = reactions
    posting.counts_updated_at = timezone.now()
    posting.save(update_fields=["followers", "reactions", "counts_updated_at"])
    audit.record(user, "post.channel_counts", post, followers=followers, reactions=reactions)
    return posting
