"""Writing, closing and publishing polls. A poll is a post (audience, approval, schedule and
sending are the post's); these functions add and check what only a poll has."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from stadtbote.accounts import audit
from stadtbote.broadcasts import actions as posts
from stadtbote.broadcasts.models import Post, Template
from stadtbote.lib.problems import Problem
from stadtbote.polls import messages, results
from stadtbote.polls.models import (
    BUTTON_LABEL_MAX,
    MAX_BUTTONS,
    MAX_OPTIONS,
    MIN_OPTIONS,
    QUESTION_MAX,
    ROW_LABEL_MAX,
    Option,
    Poll,
)


class PollError(Problem, ValueError):
    """A poll cannot be written or changed like this; the message says why, for people."""


def clean_labels(labels: Sequence[str]) -> list[str]:
    """The answers as given, trimmed, blanks left out; raises PollError if they cannot be
    sent: 2 to 10, distinct, short enough for a button (up to three) or a list row."""
    cleaned = [label.strip() for label in labels if label and label.strip()]
    if not MIN_OPTIONS <= len(cleaned) <= MAX_OPTIONS:
        raise PollError(gettext_noop("A poll has between 2 and 10 answers."))
    if len({c.casefold() for c in cleaned}) != len(cleaned):
        raise PollError(gettext_noop("Each answer must be different."))
    limit = BUTTON_LABEL_MAX if len(cleaned) <= MAX_BUTTONS else ROW_LABEL_MAX
    too_long = [c for c in cleaned if len(c) > limit]
    if too_long:
        raise PollError(
            gettext_noop(
                "WhatsApp shows at most %(limit)s characters per answer here; too long: "
                "%(answers)s."
            ),
            limit=limit,
            answers=", ".join(too_long),
        )
    return cleaned


def _check(post: Post, labels: list[str], closes_at: datetime | None) -> None:
    if len(post.text) > QUESTION_MAX:
        raise PollError(gettext_noop("A poll's question has at most 1,024 characters."))
    if closes_at is not None and closes_at <= timezone.now():
        raise PollError(gettext_noop("The closing time must be in the future."))
    if closes_at is not None and post.publish_at is not None and closes_at <= post.publish_at:
        raise PollError(gettext_noop("The poll would close before it is published."))
    if post.template is not None and not messages.template_fits(post.template, labels):
        raise PollError(
            gettext_noop(
                "The template %(name)s does not fit this poll: it needs one quick-reply button "
                "(to open the poll) or exactly the poll's answers as buttons."
            ),
            name=str(post.template),
        )


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)  # the city's time
    return value


@transaction.atomic
def create_poll(
    author: User,
    *,
    title: str,
    question: str,
    answers: Sequence[str],
    multiple: bool = False,
    closes_at: datetime | None = None,
    template: str | None = "",
    **post_fields: Any,
) -> Poll:
    """A draft poll: the post (title, question as its text, audience and schedule as for any
    post, see broadcasts.actions.create_post) and its answers. `template` names an approved
    template with quick-reply buttons for those outside the 24-hour window; empty: none, so
    they are left out with a recorded reason."""
    labels = clean_labels(answers)
    closes_at = _aware(closes_at)
    post = posts.create_post(
        author, title=title, text=question, template=template or "", share_footer=False,
        **post_fields,
    )  # fmt: skip
    _check(post, labels, closes_at)
    poll = Poll.objects.create(post=post, multiple=multiple, closes_at=closes_at)
    Option.objects.bulk_create(
        Option(poll=poll, position=n, label=label) for n, label in enumerate(labels)
    )
    audit.record(author, "poll.created", post, answers=len(labels), multiple=multiple)
    return poll


@transaction.atomic
def update_poll(
    poll: Poll,
    user: User,
    *,
    answers: Sequence[str] | None = None,
    multiple: bool | None = None,
    closes_at: datetime | str | None = "unchanged",
    **post_changes: Any,
) -> Poll:
    """Changes a draft poll; its post's fields through broadcasts.actions.update_post, which
    also checks that it is still a draft and that the user may change it."""
    post = posts.update_post(poll.post, user, **post_changes)
    locked = Poll.objects.select_for_update().get(pk=poll.pk)
    labels = (
        clean_labels(answers) if answers is not None else [o.label for o in locked.options.all()]
    )
    if multiple is not None:
        locked.multiple = multiple
    if not isinstance(closes_at, str):
        locked.closes_at = _aware(closes_at)
    _check(post, labels, locked.closes_at)
    if answers is not None:
        # A draft has no votes yet, so its answers can be replaced outright.
        locked.options.all().delete()
        Option.objects.bulk_create(
            Option(poll=locked, position=n, label=label) for n, label in enumerate(labels)
        )
    locked.save(update_fields=["multiple", "closes_at"])
    audit.record(user, "poll.updated", post)
    return Poll.objects.select_related("post").get(pk=poll.pk)


def check_sendable(post: Post) -> None:
    """Called when a poll's post is submitted or approved: a poll that has closed already
    would only collect taps that do not count."""
    poll = Poll.objects.filter(post=post).first()
    if poll is None:
        return
    closing = poll.closing_time()
    if closing is not None and closing <= timezone.now():
        raise PollError(gettext_noop("This poll's closing time has passed; set a later one."))


@transaction.atomic
def close(poll: Poll, user: User) -> Poll:
    locked = Poll.objects.select_for_update().get(pk=poll.pk)
    if locked.closed_at is None:
        locked.closed_at = timezone.now()
        locked.save(update_fields=["closed_at"])
        audit.record(user, "poll.closed", locked.post)
    return locked


def results_text(poll: Poll, found: results.Results) -> str:
    """The results as a chat message: one line per answer with a bar, votes and share."""
    lines = [poll.post.text.strip(), ""]
    for option in found.options:
        bar = "▓" * round(option.share * 10) + "░" * (10 - round(option.share * 10))
        lines.append(f"{option.label}: {bar} {round(option.share * 100)} % ({option.votes})")
    lines += ["", f"{found.voters} / {found.reached}"]
    return "\n".join(lines)


@transaction.atomic
def publish_results(poll: Poll, user: User, *, title: str, intro: str = "") -> Post:
    """A draft post with the results, to the poll's audience, approved like any post. Once it
    is sent, the public archive shows the poll's results with the poll."""
    locked = Poll.objects.select_for_update().select_related("post").get(pk=poll.pk)
    if locked.results_post_id is not None:
        raise PollError(gettext_noop("This poll's results are published already."))
    if locked.post.status not in (Post.Status.SENDING, Post.Status.PAUSED, Post.Status.SENT):
        raise PollError(gettext_noop("Results can be published once the poll has been sent."))
    text = results_text(locked, results.results(locked))
    if intro.strip():
        text = f"{intro.strip()}\n\n{text}"
    source = locked.post
    post = posts.create_post(
        user,
        title=title,
        text=text,
        topics=[t.slug for t in source.topics.all()],
        districts=[d.slug for d in source.districts.all()],
        language=source.language,
    )
    locked.results_post = post
    locked.save(update_fields=["results_post"])
    audit.record(user, "poll.results_published", source, results_post=post.pk)
    return post


def results_public(poll: Poll) -> bool:
    """The archive shows a poll's results once its results post has gone out."""
    post = poll.results_post
    return post is not None and post.status in (Post.Status.SENDING, Post.Status.SENT)


def usable_templates(labels: Sequence[str], language: str = "de") -> list[Template]:
    """Approved templates with quick-reply buttons that fit a poll with these answers."""
    candidates = Template.objects.filter(
        status=Template.Status.APPROVED, language=language or "de"
    ).exclude(buttons=[])
    return [t for t in candidates if messages.template_fits(t, labels)]
