"""Creating and sending posts. Fan-out is one INSERT … SELECT, not a Python loop."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.models import SendState
from stadtbote.subscribers.models import Subscriber


class PostError(ValueError):
    """A post cannot do what was asked; the message says why, for people."""


def create_post(author: User, *, title: str, text: str) -> Post:
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise PostError("A post needs a title and a text.")
    if len(text) > 4096:
        raise PostError("The text is longer than WhatsApp allows (4,096 characters).")
    return Post.objects.create(author=author, title=title[:200], text=text)


def send_post(post: Post) -> int:
    """Queue the post for every confirmed subscriber; returns how many were queued."""
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        if locked.status != Post.Status.DRAFT:
            raise PostError("This post has already been sent.")
        queued = _fan_out(locked)
        locked.status = Post.Status.SENDING
        locked.send_started_at = timezone.now()
        locked.save(update_fields=["status", "send_started_at"])
        from stadtbote.broadcasts.tasks import dispatch_deliveries

        transaction.on_commit(dispatch_deliveries)
    post.refresh_from_db()
    return queued


def _fan_out(post: Post) -> int:
    delivery, subscriber = Delivery._meta.db_table, Subscriber._meta.db_table
    sql = f"""
        INSERT INTO {delivery}
            (post_id, subscriber_id, state, attempts, queued_at, last_error)
        SELECT %s, s.id, %s, 0, %s, ''
        FROM {subscriber} s
        WHERE s.status = %s
          AND (s.paused_until IS NULL OR s.paused_until <= %s)
          AND s.unreachable_code IS NULL
          AND s.marketing_stopped = %s
        ON CONFLICT (post_id, subscriber_id) DO NOTHING
    """  # noqa: S608 -- table names come from model metadata, values are parameters
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql, [post.pk, SendState.QUEUED, now, Subscriber.Status.ACTIVE, now, False])
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
