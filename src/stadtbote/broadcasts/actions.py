"""Creating and sending posts. Fan-out is one INSERT … SELECT, not a Python loop."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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
    urgent: bool = False,
    publish_at: datetime | None = None,
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
    if publish_at is not None and timezone.is_naive(publish_at):
        publish_at = timezone.make_aware(publish_at)  # Europe/Berlin, the city's time
    post = Post.objects.create(
        author=author,
        title=title[:200],
        text=text,
        template=chosen_template,
        urgent=urgent,
        publish_at=publish_at,
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


class NotAllowed(PermissionError):
    """The person may not do this to this post; the message says why, for people."""


def _locked(post: Post) -> Post:
    return Post.objects.select_for_update().get(pk=post.pk)


def _check_template(post: Post) -> None:
    if post.template is not None and not post.template.is_usable:
        raise PostError(
            f"The template {post.template} is not approved by Meta "
            f"({post.template.get_status_display()}); the post cannot go out with it."
        )


@transaction.atomic
def submit(post: Post, user: User) -> Post:
    locked = _locked(post)
    if locked.status != Post.Status.DRAFT:
        raise PostError("Only a draft can be submitted for approval.")
    if user.pk != locked.author_id and not user.has_perm("broadcasts.change_post"):
        raise NotAllowed("Only the author or an editor may submit this post.")
    _check_template(locked)
    locked.status = Post.Status.SUBMITTED
    locked.submitted_at = timezone.now()
    locked.review_comment = ""
    locked.save(update_fields=["status", "submitted_at", "review_comment"])
    post.refresh_from_db()
    return post


@transaction.atomic
def approve(post: Post, approver: User, *, alone_reason: str = "") -> Post:
    """Four eyes: another person approves. An urgent post may be sent by its author alone,
    if allowed to, with a reason that is recorded. Approval sends at once or schedules."""
    locked = _locked(post)
    alone = approver.pk == locked.author_id
    if not approver.has_perm("broadcasts.approve_post"):
        raise NotAllowed("Your account may not approve posts.")
    if alone:
        if not (locked.urgent and approver.has_perm("broadcasts.send_urgent_alone")):
            raise NotAllowed("A post is approved by someone other than its author.")
        if not alone_reason.strip():
            raise PostError("Sending an urgent post alone needs a reason; it is recorded.")
        if locked.status not in (Post.Status.DRAFT, Post.Status.SUBMITTED):
            raise PostError("This post is not waiting for approval.")
        locked.urgent_reason = alone_reason.strip()[:300]
    elif locked.status != Post.Status.SUBMITTED:
        raise PostError("This post is not waiting for approval.")
    _check_template(locked)
    now = timezone.now()
    locked.approved_by, locked.approved_at = approver, now
    locked.save(update_fields=["approved_by", "approved_at", "urgent_reason"])
    if locked.publish_at is not None and locked.publish_at > now and not locked.urgent:
        locked.status = Post.Status.SCHEDULED
        locked.save(update_fields=["status"])
    else:
        _start_sending(locked)
    post.refresh_from_db()
    return post


@transaction.atomic
def reject(post: Post, approver: User, *, comment: str) -> Post:
    locked = _locked(post)
    if not approver.has_perm("broadcasts.approve_post"):
        raise NotAllowed("Your account may not review posts.")
    if locked.status != Post.Status.SUBMITTED:
        raise PostError("This post is not waiting for approval.")
    locked.status = Post.Status.DRAFT
    locked.review_comment = comment.strip()[:500]
    locked.save(update_fields=["status", "review_comment"])
    post.refresh_from_db()
    return post


def release_due_posts() -> int:
    """Scheduled posts whose time has come start sending (run every minute)."""
    released = 0
    for post in Post.objects.filter(status=Post.Status.SCHEDULED, publish_at__lte=timezone.now()):
        with transaction.atomic():
            locked = _locked(post)
            if locked.status == Post.Status.SCHEDULED:
                _start_sending(locked)
                released += 1
    return released


@transaction.atomic
def cancel(post: Post) -> int:
    """Stops a post before or while it is sent; returns how many deliveries were withdrawn.
    What already went out stays out."""
    locked = _locked(post)
    if locked.status not in (
        Post.Status.SUBMITTED,
        Post.Status.SCHEDULED,
        Post.Status.SENDING,
        Post.Status.PAUSED,
    ):
        raise PostError("Only a post that is waiting or being sent can be cancelled.")
    withdrawn = Delivery.objects.filter(post=locked, state=SendState.QUEUED).update(
        state=SendState.FAILED, failed_at=timezone.now(), last_error="cancelled"
    )
    locked.status, locked.cancelled_at = Post.Status.CANCELLED, timezone.now()
    locked.save(update_fields=["status", "cancelled_at"])
    post.refresh_from_db()
    return withdrawn


@transaction.atomic
def pause(post: Post) -> Post:
    locked = _locked(post)
    if locked.status != Post.Status.SENDING:
        raise PostError("Only a post being sent can be paused.")
    locked.status = Post.Status.PAUSED
    locked.save(update_fields=["status"])
    post.refresh_from_db()
    return post


@transaction.atomic
def resume(post: Post) -> Post:
    locked = _locked(post)
    if locked.status != Post.Status.PAUSED:
        raise PostError("Only a paused post can be resumed.")
    locked.status = Post.Status.SENDING
    locked.save(update_fields=["status"])
    _schedule_dispatch()
    post.refresh_from_db()
    return post


def send_post(post: Post) -> int:
    """Queue a draft for every eligible subscriber at once, without the approval workflow.
    For internal use and tests; people go through submit and approve."""
    with transaction.atomic():
        locked = _locked(post)
        if locked.status != Post.Status.DRAFT:
            raise PostError("This post has already been sent.")
        _check_template(locked)
        queued = _start_sending(locked)
    post.refresh_from_db()
    return queued


def _start_sending(post: Post) -> int:
    queued = _fan_out(post)
    post.status = Post.Status.SENDING
    post.send_started_at = timezone.now()
    post.save(update_fields=["status", "send_started_at"])
    _schedule_dispatch()
    return queued


def _schedule_dispatch() -> None:
    from stadtbote.broadcasts.tasks import dispatch_deliveries

    transaction.on_commit(dispatch_deliveries)


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
            (post_id, subscriber_id, state, attempts, queued_at, last_error,
             via_template, billed_category)
        SELECT %(post)s, s.id, %(queued)s, 0, %(now)s, '', %(false)s, ''
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
