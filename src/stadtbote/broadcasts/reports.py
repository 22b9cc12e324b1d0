"""What staff see of a post, shaped once for the API and the admin: its preview, its audience
and cost before approval, its funnel while and after it is sent, its Channel posting."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.utils import timezone

from stadtbote.broadcasts import costs, delivering, rendering, sharing
from stadtbote.broadcasts import funnel as funnels
from stadtbote.broadcasts.models import ChannelPosting, Post


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


def funnel(post: Post) -> dict[str, Any]:
    counts = funnels.funnel(post)
    return asdict(counts) | {
        "actual_cost": costs.actual(post),
        "currency": costs.currency(),
        "subscriptions_brought": sharing.subscriptions_brought(post),
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
