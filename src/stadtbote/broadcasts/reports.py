"""What staff see, shaped once for the API and the admin: a post's preview, its audience and
cost before approval, its funnel while and after it is sent, its Channel posting; and the
numbers of subscribers, as aggregates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from stadtbote.broadcasts import actions, costs, delivering, rendering, sharing
from stadtbote.broadcasts import funnel as funnels
from stadtbote.broadcasts.models import ChannelPosting, Post
from stadtbote.subscribers.models import ConsentEvent, District, Subscriber, Topic


def preview(post: Post) -> dict[str, Any]:
    free = delivering.message_for(post, window_open=True)
    template = delivering.message_for(post, window_open=False)
    text = free.text if free is not None else rendering.message_text(post)
    return {
        "text": text,
        "html": str(rendering.whatsapp_html(text)),
        "image_url": rendering.image_url(post),
        "template_text": template.text if template is not None else None,
        "template_html": str(rendering.whatsapp_html(template.text)) if template else None,
        "channel_copy": rendering.channel_copy(post),
    }


def audience(post: Post) -> dict[str, Any]:
    now = timezone.now()
    estimate = costs.estimate(post, now)
    budget = costs.budget(now, excluding=post)
    return {
        "recipients": estimate.recipients,
        "free": estimate.free,
        "charged": estimate.charged,
        "estimated_cost": estimate.amount,
        "currency": estimate.currency,
        "budget": {
            "monthly": budget.monthly,
            "spent": budget.spent,
            "committed": budget.committed,
            "blocking": budget.blocking,
            "warning": budget.problem(estimate.amount),
        },
    }


def audience_for(
    author: User,
    *,
    topics: Sequence[str],
    districts: Sequence[str],
    language: str = "",
    template: str | None = None,
) -> dict[str, Any]:
    """`audience` of a post not written yet: computed on a draft with these choices that is
    rolled back, so that the count comes from the very condition the fan-out uses."""
    return draft_view(
        author,
        title="audience",
        text="audience",
        topics=topics,
        districts=districts,
        language=language,
        template=template,
    )["audience"]


def draft_view(author: User, **fields: Any) -> dict[str, Any]:
    """The preview and the audience of a post as it is being written, before it is saved:
    computed on a draft with these fields that is rolled back (actions.create_post checks
    them; its PostError says what is wrong)."""
    with transaction.atomic():
        draft = actions.create_post(author, **fields)
        result = {"preview": preview(draft), "audience": audience(draft)}
        transaction.set_rollback(True)
    return result


def subscriber_numbers() -> dict[str, Any]:
    """Aggregates only, never a person: active subscribers by topic, district and language,
    and everyone by status."""
    active = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
    by_status = dict(Subscriber.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "active": by_status.get(Subscriber.Status.ACTIVE, 0),
        "by_status": {status: by_status.get(status, 0) for status in Subscriber.Status.values},
        "by_topic": {
            t.slug: t.n
            for t in Topic.objects.annotate(
                n=Count("subscribers", filter=Q(subscribers__in=active))
            )
        },
        "by_district": {
            d.slug: d.n
            for d in District.objects.annotate(
                n=Count("subscribers", filter=Q(subscribers__in=active))
            )
        },
        "by_language": dict(active.values_list("language").annotate(n=Count("id")).order_by()),
    }


# Opt-outs in this window after a post started are the clearest sign of what annoys people.
OPT_OUT_WINDOW = timedelta(hours=24)
# The ledger's channel for what no person asked for at that moment (see subscribers.actions).
SYSTEM_CHANNEL = "system"


def opt_outs_after(post: Post) -> int:
    """Subscribers who ended their subscription (any way: Stop, erasure in the chat or on
    request) within OPT_OUT_WINDOW after the post started sending; 0 before it started.
    City-wide: an opt-out says nothing of which post caused it, so posts close together
    share theirs. An erasure ends a subscription without a `withdrawn` line of its own, so
    it counts too, once per person (Stop, then "Löschen" is one opt-out); erasures by the
    system (the retention period after an earlier Stop, a number taken over) do not."""
    if post.send_started_at is None:
        return 0
    ended = Q(action=ConsentEvent.Action.WITHDRAWN) | (
        Q(action=ConsentEvent.Action.ERASED) & ~Q(channel=SYSTEM_CHANNEL)
    )
    return (
        ConsentEvent.objects.filter(
            ended,
            occurred_at__gte=post.send_started_at,
            occurred_at__lt=post.send_started_at + OPT_OUT_WINDOW,
        )
        .values("subscriber_ref")
        .distinct()
        .count()
    )


def funnel(post: Post) -> dict[str, Any]:
    counts = funnels.funnel(post)
    return asdict(counts) | {
        "actual_cost": costs.actual(post),
        "currency": costs.currency(),
        "subscriptions_brought": sharing.subscriptions_brought(post),
        "opt_outs_24h": opt_outs_after(post),
    }


def channel(post: Post) -> dict[str, Any]:
    posting = ChannelPosting.objects.filter(post=post).first()
    return {
        "copy_text": rendering.channel_copy(post),
        "posted": posting is not None,
        "posted_at": posting.posted_at if posting else None,
        "followers": posting.followers if posting else None,
        "reactions": posting.reactions if posting else None,
        "counts_updated_at": posting.counts_updated_at if posting else None,
    }
