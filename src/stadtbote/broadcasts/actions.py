"""Creating and sending posts. Fan-out is one INSERT … SELECT, not a Python loop."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import PIL.Image
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_noop

from stadtbote.accounts import audit
from stadtbote.broadcasts import audience, costs, rendering
from stadtbote.broadcasts.models import MAX_TEXT, Delivery, Post, Template
from stadtbote.channels.models import SendState
from stadtbote.lib.problems import Problem
from stadtbote.subscribers.models import District, Subscriber, Topic

# Not yet handed to Meta, and not being handed over right now: what cancel and Stop withdraw.
WAITING = [SendState.QUEUED, SendState.HELD]


class PostError(Problem, ValueError):
    """A post cannot do what was asked; the message says why, for people."""


@transaction.atomic
def create_post(
    author: User,
    *,
    title: str,
    text: str,
    topics: Sequence[str] = (),
    districts: Sequence[str] = (),
    language: str = "",
    template: str | None = None,
    urgent: bool = False,
    publish_at: datetime | None = None,
    link: str = "",
    share_footer: bool = True,
    on_website: bool = True,
) -> Post:
    """`topics` and `districts` are slugs; empty means everybody, the whole city. `language`
    limits the post to subscribers of that language. `template` (a name) reaches those outside
    the 24-hour window; by default (None) STADTBOTE_POST_TEMPLATE in the post's language;
    "" for none."""
    post = Post(author=author, urgent=urgent, share_footer=share_footer, on_website=on_website)
    chosen = _apply(
        post,
        title=title,
        text=text,
        language=language,
        link=link,
        publish_at=publish_at,
        template=settings.POST_TEMPLATE if template is None else template,
        template_required=bool(template),  # "" asks for none
        topics=topics,
        districts=districts,
    )
    post.save()
    post.topics.set(chosen[0])
    post.districts.set(chosen[1])
    audit.record(author, "post.created", post, urgent=urgent)
    return post


# What a draft's author (or an editor) may change, and how each change is checked.
EDITABLE = {
    "title", "text", "topics", "districts", "language", "template", "urgent", "publish_at",
    "link", "share_footer", "on_website",
}  # fmt: skip


@transaction.atomic
def update_post(post: Post, user: User, **changes: Any) -> Post:
    """Changes a draft; a post submitted, approved or sent is changed no more (a rejected
    post is a draft again). Every change is checked as when the post was written."""
    locked = _locked(post)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise PostError(
            gettext_noop("These cannot be changed: %(names)s."), names=", ".join(sorted(unknown))
        )
    if locked.status != Post.Status.DRAFT:
        raise PostError(gettext_noop("Only a draft can be changed."))
    if user.pk != locked.author_id and not user.has_perm("broadcasts.change_post"):
        raise NotAllowed(gettext_noop("Only the author or an editor may change this post."))
    for name in ("urgent", "share_footer", "on_website"):
        if name in changes:
            setattr(locked, name, bool(changes[name]))
    current_template = locked.template.name if locked.template else ""
    template = changes.get("template", current_template)
    if template is None:  # as when writing: the default template
        template = settings.POST_TEMPLATE
    chosen = _apply(
        locked,
        title=changes.get("title", locked.title),
        text=changes.get("text", locked.text),
        language=changes.get("language", locked.language),
        link=changes.get("link", locked.link),
        publish_at=changes.get("publish_at", locked.publish_at),
        template=template,
        template_required=bool(changes.get("template")),
        topics=changes.get("topics", [t.slug for t in locked.topics.all()]),
        districts=changes.get("districts", [d.slug for d in locked.districts.all()]),
    )
    locked.save()
    locked.topics.set(chosen[0])
    locked.districts.set(chosen[1])
    audit.record(user, "post.updated", locked, fields=sorted(changes))
    post.refresh_from_db()
    return post


def _apply(
    post: Post,
    *,
    title: str,
    text: str,
    language: str,
    link: str,
    publish_at: datetime | None,
    template: str,
    template_required: bool,
    topics: Sequence[str],
    districts: Sequence[str],
) -> tuple[list[Topic], list[District]]:
    """Checks and sets a post's content; returns the topics and districts to set once saved."""
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise PostError(gettext_noop("A post needs a title and a text."))
    if len(text) > MAX_TEXT:
        raise PostError(gettext_noop("The text is longer than WhatsApp allows (4,096 characters)."))
    if language and language not in Subscriber.Language.values:
        raise PostError(gettext_noop("Unknown language: %(language)s."), language=language)
    if link and not re.match(r"^https?://[^\s]+$", link):
        raise PostError(gettext_noop("A link starts with http:// or https:// and has no spaces."))
    chosen_topics = _by_slug(Topic, topics, "topic")
    chosen_districts = _by_slug(District, districts, "district")
    chosen_template = (
        Template.objects.filter(name=template, language=language or "de").first()
        if template
        else None
    )
    if chosen_template is None and template_required:
        raise PostError(
            gettext_noop("Unknown template: %(name)s (%(language)s)."),
            name=template,
            language=language or "de",
        )
    if publish_at is not None and timezone.is_naive(publish_at):
        publish_at = timezone.make_aware(publish_at)  # Europe/Berlin, the city's time
    post.title, post.text, post.language, post.link = title[:200], text, language, link
    post.publish_at, post.template = publish_at, chosen_template
    problem = rendering.length_problem(post)
    if problem:
        raise PostError(problem)
    return chosen_topics, chosen_districts


@transaction.atomic
def reschedule(post: Post, user: User, publish_at: datetime | None) -> Post:
    """Sets or clears the publish time. Before approval the author or an editor may; once a
    post is approved and waiting for its time, moving that time is an approver's decision
    (None: send now)."""
    locked = _locked(post)
    if publish_at is not None and timezone.is_naive(publish_at):
        publish_at = timezone.make_aware(publish_at)
    if publish_at is not None and publish_at <= timezone.now():
        raise PostError(gettext_noop("The publish time must be in the future."))
    if locked.status in (Post.Status.DRAFT, Post.Status.SUBMITTED):
        if user.pk != locked.author_id and not user.has_perm("broadcasts.change_post"):
            raise NotAllowed(gettext_noop("Only the author or an editor may change this post."))
        locked.publish_at = publish_at
        locked.save(update_fields=["publish_at"])
    elif locked.status == Post.Status.SCHEDULED:
        if not user.has_perm("broadcasts.approve_post"):
            raise NotAllowed(gettext_noop("Moving an approved post's time is for approvers."))
        locked.publish_at = publish_at
        locked.save(update_fields=["publish_at"])
        if publish_at is None:
            _start_sending(locked)
    else:
        raise PostError(gettext_noop("This post is already being sent or was sent."))
    audit.record(user, "post.rescheduled", locked, publish_at=str(publish_at or "now"))
    post.refresh_from_db()
    return post


IMAGE_MAX_BYTES = 5 * 1024 * 1024  # WhatsApp's limit for images
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png"}  # what WhatsApp accepts as image messages


@transaction.atomic
def attach_image(post: Post, user: User, data: bytes) -> Post:
    """Attach a JPEG or PNG (at most 5 MB) to a draft; its text becomes the caption."""
    locked = _locked(post)
    if locked.status != Post.Status.DRAFT:
        raise PostError(gettext_noop("Only a draft can get an image."))
    if user.pk != locked.author_id and not user.has_perm("broadcasts.change_post"):
        raise NotAllowed(gettext_noop("Only the author or an editor may change this post."))
    if len(data) > IMAGE_MAX_BYTES:
        raise PostError(gettext_noop("The image is larger than WhatsApp allows (5 MB)."))
    try:
        with PIL.Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            image.verify()
    except (PIL.UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise PostError(
            gettext_noop("This is not an image WhatsApp can show (JPEG or PNG).")
        ) from exc
    if kind not in IMAGE_FORMATS:
        raise PostError(gettext_noop("WhatsApp shows JPEG and PNG images only."))
    locked.image.save(f"post-{locked.pk}.{IMAGE_FORMATS[kind]}", ContentFile(data), save=False)
    problem = rendering.length_problem(locked)
    if problem:
        raise PostError(problem)
    locked.save(update_fields=["image"])
    audit.record(user, "post.image_attached", locked, bytes=len(data))
    post.refresh_from_db()
    return post


def _by_slug(model: type[Topic] | type[District], slugs: Sequence[str], what: str) -> list[Any]:
    found: list[Any] = list(model.objects.filter(slug__in=set(slugs)))
    unknown = sorted(set(slugs) - {item.slug for item in found})
    if unknown:
        raise PostError(
            gettext_noop("Unknown topic: %(slugs)s.")
            if what == "topic"
            else gettext_noop("Unknown district: %(slugs)s."),
            slugs=", ".join(unknown),
        )
    return found


class NotAllowed(Problem, PermissionError):
    """The person may not do this to this post; the message says why, for people."""


def _locked(post: Post) -> Post:
    return Post.objects.select_for_update().get(pk=post.pk)


def _check_template(post: Post) -> None:
    # Imported here: polls build on posts, not the other way round.
    from stadtbote.polls.actions import check_sendable

    check_sendable(post)
    if post.template is not None and not post.template.is_usable:
        raise PostError(
            gettext_noop(
                "The template %(name)s is not approved by Meta (%(state)s); the post cannot "
                "go out with it."
            ),
            name=str(post.template),
            state=post.template.get_status_display(),
        )


@transaction.atomic
def submit(post: Post, user: User) -> Post:
    locked = _locked(post)
    if locked.status != Post.Status.DRAFT:
        raise PostError(gettext_noop("Only a draft can be submitted for approval."))
    if user.pk != locked.author_id and not user.has_perm("broadcasts.change_post"):
        raise NotAllowed(gettext_noop("Only the author or an editor may submit this post."))
    _check_template(locked)
    locked.status = Post.Status.SUBMITTED
    locked.submitted_at = timezone.now()
    locked.review_comment = ""
    locked.save(update_fields=["status", "submitted_at", "review_comment"])
    audit.record(user, "post.submitted", locked)
    post.refresh_from_db()
    return post


@transaction.atomic
def approve(post: Post, approver: User, *, alone_reason: str = "") -> Post:
    """Four eyes: another person approves. An urgent post may be sent by its author alone,
    if allowed to, with a reason that is recorded. Approval sends at once or schedules."""
    locked = _locked(post)
    alone = approver.pk == locked.author_id
    if not approver.has_perm("broadcasts.approve_post"):
        raise NotAllowed(gettext_noop("Your account may not approve posts."))
    if alone:
        if not (locked.urgent and approver.has_perm("broadcasts.send_urgent_alone")):
            raise NotAllowed(gettext_noop("A post is approved by someone other than its author."))
        if not alone_reason.strip():
            raise PostError(
                gettext_noop("Sending an urgent post alone needs a reason; it is recorded.")
            )
        if locked.status not in (Post.Status.DRAFT, Post.Status.SUBMITTED):
            raise PostError(gettext_noop("This post is not waiting for approval."))
        locked.urgent_reason = alone_reason.strip()[:300]
    elif locked.status != Post.Status.SUBMITTED:
        raise PostError(gettext_noop("This post is not waiting for approval."))
    _check_template(locked)
    now = timezone.now()
    estimate = costs.estimate(locked, now)
    # An urgent warning goes out whatever the budget says; everything else may be blocked.
    if not locked.urgent and costs.budget(now, excluding=locked).blocks(estimate.amount):
        raise PostError(
            gettext_noop(
                "The monthly budget does not allow this post (about %(amount)s %(currency)s); "
                "it is blocked until the budget is raised."
            ),
            amount=f"{estimate.amount:.2f}",
            currency=estimate.currency,
        )
    locked.approved_by, locked.approved_at = approver, now
    locked.estimated_cost = estimate.amount
    locked.save(update_fields=["approved_by", "approved_at", "urgent_reason", "estimated_cost"])
    if locked.publish_at is not None and locked.publish_at > now and not locked.urgent:
        locked.status = Post.Status.SCHEDULED
        locked.save(update_fields=["status"])
    else:
        _start_sending(locked)
    audit.record(
        approver,
        "post.approved_alone" if alone else "post.approved",
        locked,
        status=locked.status,
        reason=locked.urgent_reason if alone else "",
        estimated_cost=str(estimate.amount),
    )
    post.refresh_from_db()
    return post


@transaction.atomic
def reject(post: Post, approver: User, *, comment: str) -> Post:
    locked = _locked(post)
    if not approver.has_perm("broadcasts.approve_post"):
        raise NotAllowed(gettext_noop("Your account may not review posts."))
    if locked.status != Post.Status.SUBMITTED:
        raise PostError(gettext_noop("This post is not waiting for approval."))
    locked.status = Post.Status.DRAFT
    locked.review_comment = comment.strip()[:500]
    locked.save(update_fields=["status", "review_comment"])
    audit.record(approver, "post.rejected", locked, comment=locked.review_comment)
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
                audit.record(None, "post.released", locked)
                released += 1
    return released


@transaction.atomic
def cancel(post: Post, by: User | None = None) -> int:
    """Stops a post before or while it is sent; returns how many deliveries were withdrawn.
    What already went out stays out."""
    locked = _locked(post)
    if locked.status not in (
        Post.Status.SUBMITTED,
        Post.Status.SCHEDULED,
        Post.Status.SENDING,
        Post.Status.PAUSED,
    ):
        raise PostError(gettext_noop("Only a post that is waiting or being sent can be cancelled."))
    withdrawn = Delivery.objects.filter(post=locked, state__in=WAITING).update(
        state=SendState.FAILED, failed_at=timezone.now(), last_error="cancelled"
    )
    locked.status, locked.cancelled_at = Post.Status.CANCELLED, timezone.now()
    locked.save(update_fields=["status", "cancelled_at"])
    audit.record(by, "post.cancelled", locked, withdrawn=withdrawn)
    post.refresh_from_db()
    return withdrawn


@transaction.atomic
def pause(post: Post, by: User | None = None) -> Post:
    locked = _locked(post)
    if locked.status != Post.Status.SENDING:
        raise PostError(gettext_noop("Only a post being sent can be paused."))
    locked.status = Post.Status.PAUSED
    locked.save(update_fields=["status"])
    audit.record(by, "post.paused", locked)
    post.refresh_from_db()
    return post


@transaction.atomic
def resume(post: Post, by: User | None = None) -> Post:
    locked = _locked(post)
    if locked.status != Post.Status.PAUSED:
        raise PostError(gettext_noop("Only a paused post can be resumed."))
    locked.status = Post.Status.SENDING
    locked.save(update_fields=["status"])
    audit.record(by, "post.resumed", locked)
    _schedule_dispatch()
    post.refresh_from_db()
    return post


def send_post(post: Post) -> int:
    """Queue a draft for every eligible subscriber at once, without the approval workflow.
    For internal use and tests; people go through submit and approve."""
    with transaction.atomic():
        locked = _locked(post)
        if locked.status != Post.Status.DRAFT:
            raise PostError(gettext_noop("This post has already been sent."))
        _check_template(locked)
        queued = _start_sending(locked)
    post.refresh_from_db()
    return queued


# A fan-out at least this large is followed by fresh planner statistics (PostgreSQL).
ANALYZE_AFTER = 10_000


def _start_sending(post: Post) -> int:
    queued = _fan_out(post)
    if queued >= ANALYZE_AFTER and connection.vendor == "postgresql":
        _refresh_statistics()
    post.status = Post.Status.SENDING
    post.send_started_at = timezone.now()
    post.save(update_fields=["status", "send_started_at"])
    _schedule_dispatch()
    return queued


def _refresh_statistics() -> None:
    """After a large fan-out the deliveries table's statistics no longer describe it: PostgreSQL
    then plans each claim as a scan of all the post's waiting rows and a sort on disk (0.2 to 1 s
    per batch of 200 at a million, docs/benchmarks.md) instead of walking the index in order.
    Autovacuum would analyse the table within a minute or so, or never where it is off;
    ANALYZE samples a fixed number of rows, a fraction of a second at any size."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(Delivery._meta.db_table)}")


def _schedule_dispatch() -> None:
    from stadtbote.broadcasts.tasks import dispatch_deliveries

    transaction.on_commit(dispatch_deliveries)


def _fan_out(post: Post) -> int:
    """One INSERT … SELECT for every subscriber in the audience (see audience.condition)."""
    sql = f"""
        INSERT INTO {Delivery._meta.db_table}
            (post_id, subscriber_id, state, attempts, queued_at, last_error,
             via_template, billed_category)
        SELECT %(post)s, s.id, %(queued)s, 0, %(now)s, '', %(false)s, ''
        FROM {Subscriber._meta.db_table} s
        WHERE {audience.condition()}
        ON CONFLICT (post_id, subscriber_id) DO NOTHING
    """  # noqa: S608 -- table names come from model metadata, values are parameters
    params = audience.parameters(post, timezone.now()) | {"queued": SendState.QUEUED.value}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def withdraw_queued(subscriber: Subscriber) -> int:
    """After a Stop: what is still waiting for this subscriber is not sent."""
    return Delivery.objects.filter(subscriber=subscriber, state__in=WAITING).update(
        state=SendState.FAILED, failed_at=timezone.now(), last_error="unsubscribed"
    )


def finish_completed_posts() -> int:
    """Posts whose every delivery has left the queue are marked sent."""
    open_states = [*WAITING, SendState.SENDING]
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
