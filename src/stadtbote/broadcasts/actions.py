"""Creating and sending posts. Fan-out is one INSERT … SELECT, not a Python loop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from stadtbote.broadcasts.models import Delivery, Post, Template
from stadtbote.channels.models import SendState
from stadtbote.subscribers.models import District, Subscriber, Topic


class PostError(ValueError):
    """A post cannot do what was asked; the message says why, for people."""


@transaction.atomic
def create_post(
    author: User,
    *,
    title: str,
    text: str,
    topics: Sequence[str] = (),
    districts: Sequence[str] = (),
    template: str | None = None,
) -> Post:
    """`topics` and `districts` are slugs; empty means everybody, the whole city. `template`
    (a name) reaches those outside the 24-hour window; by default STADTBOTE_POST_TEMPLATE."""
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise PostError("A post needs a title and a text.")
    if len(text) > 4096:
        raise PostError("The text is longer than WhatsApp allows (4,096 characters).")
    chosen_topics = _by_slug(Topic, topics, "topic")
    chosen_districts = _by_slug(District, districts, "district")
    if template is None:
        chosen_template = Template.objects.filter(
            name=settings.POST_TEMPLATE, language="de"
        ).first()
    else:
        chosen_template = Template.objects.filter(name=template, language="de").first()
        if chosen_template is None:
            raise PostError(f"Unknown template: {template}.")
    post = Post.objects.create(
        author=author, title=title[:200], text=text, template=chosen_template
    )
    post.topics.set(chosen_topics)
    post.districts.set(chosen_districts)
    return post


def _by_slug(model: type[Topic] | type[District], slugs: Sequence[str], what: str) -> list[Any]:
    found: list[Any] = list(model.objects.filter(slug__in=set(slugs)))
    unknown = sorted(set(slugs) - {item.slug for item in found})
    if unknown:
        raise PostError(f"Unknown {what}: {', '.join(unknown)}.")
    return found


def send_post(post: Post) -> int:
    """Queue the post for every confirmed subscriber; returns how many were queued."""
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        if locked.status != Post.Status.DRAFT:
            raise PostError("This post has already been sent.")
        if locked.template is not None and not locked.template.is_usable:
            raise PostError(
                f"The template {locked.template} is not approved by Meta "
                f"({locked.template.get_status_display()}); the post cannot go out with it."
            )
        queued = _fan_out(locked)
        locked.status = Post.Status.SENDING
        locked.send_started_at = timezone.now()
        locked.save(update_fields=["status", "send_started_at"])
        from stadtbote.broadcasts.tasks import dispatch_deliveries

        transaction.on_commit(dispatch_deliveries)
    post.refresh_from_db()
    return queued


def _fan_out(post: Post) -> int:
    """One INSERT … SELECT for every eligible subscriber. Who matches the audience:

    - topics: a post without topics goes to everyone. Otherwise a subscriber who chose topics
      gets it if one of them is the post's; one who chose none gets it unless all the post's
      topics are opt-in-only ("only for those who chose it").
    - districts: a post without districts goes to the whole city; otherwise to subscribers who
      chose one of its districts or none at all.
    """
    delivery, subscriber = Delivery._meta.db_table, Subscriber._meta.db_table
    topic = Topic._meta.db_table
    post_topics, post_districts = (
        Post.topics.through._meta.db_table,
        Post.districts.through._meta.db_table,
    )
    sub_topics = Subscriber.topics.through._meta.db_table
    sub_districts = Subscriber.districts.through._meta.db_table
    sql = f"""
        INSERT INTO {delivery}
            (post_id, subscriber_id, state, attempts, queued_at, last_error)
        SELECT %(post)s, s.id, %(queued)s, 0, %(now)s, ''
        FROM {subscriber} s
        WHERE s.status = %(active)s
          AND (s.paused_until IS NULL OR s.paused_until <= %(now)s)
          AND s.unreachable_code IS NULL
          AND s.marketing_stopped = %(false)s
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
        ON CONFLICT (post_id, subscriber_id) DO NOTHING
    """  # noqa: S608 -- table names come from model metadata, values are parameters
    # Adapted by hand: a raw query gets no field conversion, and SQLite compares text.
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = {
        "post": post.pk,
        "queued": SendState.QUEUED.value,
        "now": now,
        "active": Subscriber.Status.ACTIVE.value,
        "false": False,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def withdraw_queued(subscriber: Subscriber) -> int:
    """After a Stop: what is still waiting for this subscriber is not sent."""
    return Delivery.objects.filter(subscriber=subscriber, state=SendState.QUEUED).update(
        state=SendState.FAILED, failed_at=timezone.now(), last_error="unsubscribed"
    )


def finish_completed_posts() -> int:
    """Posts whose every delivery has left the queue are marked sent."""
    open_states = [SendState.QUEUED, SendState.SENDING]
    done = Post.objects.filter(status=Post.Status.SENDING).exclude(
        deliveries__state__in=open_states
    )
    return done.update(status=Post.Status.SENT, sent_at=timezone.now())


def delivery_counts(post: Post) -> dict[str, int]:
    counts = {state.name.lower(): 0 for state in SendState}
    rows = Delivery.objects.filter(post=post).values("state").annotate(n=Count("id"))
    for row in rows:
        counts[SendState(row["state"]).name.lower()] = row["n"]
    counts["total"] = sum(counts.values())
    return counts
