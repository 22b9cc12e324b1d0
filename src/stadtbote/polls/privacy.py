"""A subscriber's votes in their data export. Erasure needs nothing here: votes go with the
subscriber row (cascade), and results are counted from the votes that remain."""

from __future__ import annotations

from typing import Any

from stadtbote.polls.models import Vote
from stadtbote.subscribers.models import Subscriber


def export_votes(subscriber: Subscriber, **_: Any) -> tuple[str, list[dict[str, Any]]]:
    return "poll_votes", [
        {"poll": title, "answer": label, "cast_at": cast_at.isoformat()}
        for title, label, cast_at in Vote.objects.filter(subscriber=subscriber)
        .order_by("poll_id", "slot")
        .values_list("poll__post__title", "option__label", "cast_at")
    ]
