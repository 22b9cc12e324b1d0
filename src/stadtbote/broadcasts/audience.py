"""Who a post reaches: one SQL condition, used both to count the audience before sending and
to fan the post out into deliveries, so that the number shown is the number sent to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from stadtbote.broadcasts.models import Post
from stadtbote.subscribers.models import SERVICE_WINDOW, Subscriber, Topic


def _tables() -> dict[str, str]:
    return {
        "subscriber": Subscriber._meta.db_table,
        "topic": Topic._meta.db_table,
        "post_topics": Post.topics.through._meta.db_table,
        "post_districts": Post.districts.through._meta.db_table,
        "sub_topics": Subscriber.topics.through._meta.db_table,
        "sub_districts": Subscriber.districts.through._meta.db_table,
    }


def condition() -> str:
    """Subscribers `s` who get post %(post)s. Who matches:

    - active, not paused, reachable, and not having stopped marketing messages in WhatsApp;
    - language: a post with a language goes to subscribers of that language only;
    - topics: a post without topics goes to everyone. Otherwise a subscriber who chose topics
      gets it if one of them is the post's; one who chose none gets it unless all the post's
      topics are opt-in-only ("only for those who chose it");
    - districts: a post without districts goes to the whole city; otherwise to subscribers
      who chose one of its districts or none at all.
    """
    return """
        s.status = %(active)s
          AND (s.paused_until IS NULL OR s.paused_until <= %(now)s)
          AND s.unreachable_code IS NULL
          AND s.marketing_stopped = %(false)s
          AND (%(language)s = '' OR s.language = %(language)s)
          AND (
            NOT EXISTS (SELECT 1 FROM {post_topics} pt WHERE pt.post_id = %(post)s)
            OR EXISTS (
              SELECT 1 FROM {sub_topics} st JOIN {post_topics} pt ON pt.topic_id = st.topic_id
              WHERE st.subscriber_id = s.id AND pt.post_id = %(post)s)
            OR (
              NOT EXISTS (SELECT 1 FROM {sub_topics} st WHERE st.subscriber_id = s.id)
              AND EXISTS (
                SELECT 1 FROM {post_topics} pt JOIN {topic} t ON t.id = pt.topic_id
                WHERE pt.post_id = %(post)s AND t.opt_in_only = %(false)s))
          )
          AND (
            NOT EXISTS (SELECT 1 FROM {post_districts} pd WHERE pd.post_id = %(post)s)
            OR NOT EXISTS (SELECT 1 FROM {sub_districts} sd WHERE sd.subscriber_id = s.id)
            OR EXISTS (
              SELECT 1 FROM {sub_districts} sd
              JOIN {post_districts} pd ON pd.district_id = sd.district_id
              WHERE sd.subscriber_id = s.id AND pd.post_id = %(post)s)
          )
    """.format(**_tables())  # noqa: S608 -- table names from model metadata


def parameters(post: Post, now: datetime) -> dict[str, Any]:
    # Adapted by hand: a raw query gets no field conversion, and SQLite compares text.
    return {
        "post": post.pk,
        "now": connection.ops.adapt_datetimefield_value(now),
        "active": Subscriber.Status.ACTIVE.value,
        "false": False,
        "language": post.language or "",
    }


@dataclass(frozen=True)
class Audience:
    """The audience of a post as of now. Inside their 24-hour window citizens get the post as
    a free message; the others get its template, which Meta charges per country."""

    total: int
    in_window: int
    by_country: dict[str, int]  # outside the window, per country

    @property
    def outside_window(self) -> int:
        return self.total - self.in_window


def count(post: Post, now: datetime | None = None) -> Audience:
    now = now or timezone.now()
    params = parameters(post, now)
    params["window_start"] = connection.ops.adapt_datetimefield_value(now - SERVICE_WINDOW)
    sql = f"""
        SELECT s.country,
               SUM(CASE WHEN s.last_inbound_at > %(window_start)s THEN 1 ELSE 0 END),
               COUNT(*)
        FROM {_tables()["subscriber"]} s
        WHERE {condition()}
        GROUP BY s.country
    """  # noqa: S608 -- table names come from model metadata, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    total = sum(int(r[2]) for r in rows)
    in_window = sum(int(r[1] or 0) for r in rows)
    outside = {r[0]: int(r[2]) - int(r[1] or 0) for r in rows if int(r[2]) - int(r[1] or 0)}
    return Audience(total=total, in_window=in_window, by_country=outside)
