"""The dashboards' figures shaped for the REST API (api/views.py): the same counters as the
page, never the big tables."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from stadtbote.dashboards import figures
from stadtbote.dashboards.rollup import local_day

DEFAULT_DAYS = 90
MAX_DAYS = 731  # two years, leap day included


class BadPeriod(ValueError):
    pass


def subscriber_series(first: date | None, last: date | None) -> dict[str, Any]:
    last = last or local_day(timezone.now())
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise BadPeriod("'from' must not be after 'to'.")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadPeriod(f"At most {MAX_DAYS} days at a time.")
    days = figures.subscriber_days(first, last)
    return {"as_of": figures.as_of(), "days": [d.__dict__ for d in days]}


def post_stats(limit: int) -> dict[str, Any]:
    rows = []
    for row in figures.recent_posts(limit):
        item: dict[str, Any] = {
            "id": row.post.pk,
            "title": row.post.title,
            "send_started_at": row.post.send_started_at,
            "counted": row.figures is not None,
            "reactions": row.reactions,
            "channel_reactions": row.channel_reactions,
        }
        if row.figures is not None:
            f = row.figures
            item |= {
                "total": f.total,
                "sent": f.sent,
                "delivered": f.delivered,
                "read": f.read,
                "failed": f.failed,
                "failed_by_reason": f.failed_by_reason,
                "opt_outs_24h": f.opt_outs_24h,
                "opt_outs_final": f.opt_outs_final,
                "actual_cost": f.actual_cost,
            }
        rows.append(item)
    return {"as_of": figures.as_of(), "posts": rows}
