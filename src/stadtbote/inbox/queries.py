"""What the inbox's lists show: conversations and concerns, filtered, searched, with what is
overdue. Read-only; the views turn the checked filter form into a `Filters` and call these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from stadtbote.inbox.models import (
    OPEN_STATUSES,
    Category,
    Concern,
    Conversation,
    Department,
    Message,
    Status,
)
from stadtbote.subscribers.models import District

MAX_QUERY = 100
# "nobody" and "me" beside a person's id in the assignee filter; "open" beside the statuses.
NOBODY, ME, OPEN = "nobody", "me", "open"


@dataclass(frozen=True)
class Filters:
    status: str = ""  # a Status value, OPEN, or "" for all
    department: Department | None = None
    assignee: str | User | None = None  # ME, NOBODY or a person
    category: Category | None = None
    district: District | None = None
    overdue: bool = False
    q: str = ""


def overdue_before(now: datetime | None = None) -> datetime:
    """Anything waiting for an answer since before this is overdue."""
    return (now or timezone.now()) - timedelta(hours=settings.INBOX_RESPONSE_HOURS)


def is_overdue(conversation: Conversation, now: datetime | None = None) -> bool:
    return (
        conversation.status != Status.RESOLVED
        and conversation.awaiting_since is not None
        and conversation.awaiting_since < overdue_before(now)
    )


def _words(query: str) -> list[str]:
    return query[:MAX_QUERY].split()


def _contains(field: str, word: str) -> Q:
    """`field` contains `word` in any case. PostgreSQL's icontains folds every letter; SQLite's
    LIKE folds only ASCII, so the word's usual spellings (as typed, lower, upper, capitalised)
    are tried too: "über" then finds "Über" and "ÜBER" there as well. A word in mixed case
    with umlauts may be missed on SQLite; that is the trade-off for staying portable."""
    q = Q()
    for variant in dict.fromkeys((word, word.lower(), word.upper(), word.capitalize())):
        q |= Q(**{f"{field}__icontains": variant})
    return q


def conversations(
    filters: Filters, user: User, now: datetime | None = None
) -> QuerySet[Conversation]:
    """Conversations, the most recently active first, each with `activity`, `preview`,
    `preview_kind` and `open_concerns` (a list) attached."""
    now = now or timezone.now()
    last = Message.objects.filter(conversation=OuterRef("pk")).exclude(
        direction=Message.Direction.NOTE
    )
    last = last.order_by("-created_at", "-id")
    rows = (
        Conversation.objects.select_related("department", "assignee", "subscriber")
        .annotate(
            # The later of the last message in and the last answer out. SQLite's MAX() is
            # NULL when one side is, PostgreSQL's GREATEST skips it: each side falls back to
            # the other, so both agree.
            activity=Greatest(
                Coalesce("last_inbound_at", "last_answer_at", "created_at"),
                Coalesce("last_answer_at", "last_inbound_at", "created_at"),
            ),
            preview=Subquery(last.values("text")[:1]),
            preview_kind=Subquery(last.values("kind")[:1]),
        )
        .prefetch_related(
            Prefetch(
                "concerns",
                queryset=Concern.objects.filter(status__in=OPEN_STATUSES).order_by("created_at"),
                to_attr="open_concerns",
            )
        )
        .order_by("-activity", "-id")
    )
    if filters.status == OPEN:
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif filters.status:
        rows = rows.filter(status=filters.status)
    if filters.department is not None:
        rows = rows.filter(department=filters.department)
    if filters.assignee == NOBODY:
        rows = rows.filter(assignee__isnull=True)
    elif filters.assignee == ME:
        rows = rows.filter(assignee=user)
    elif isinstance(filters.assignee, User):
        rows = rows.filter(assignee=filters.assignee)
    if filters.category is not None:
        rows = rows.filter(
            Exists(Concern.objects.filter(conversation=OuterRef("pk"), category=filters.category))
        )
    if filters.overdue:
        rows = rows.exclude(status=Status.RESOLVED).filter(awaiting_since__lt=overdue_before(now))
    for word in _words(filters.q):
        in_messages = Message.objects.filter(conversation=OuterRef("pk")).filter(
            _contains("text", word)
        )
        in_concerns = Concern.objects.filter(conversation=OuterRef("pk")).filter(
            _contains("reference", word) | _contains("description", word)
        )
        rows = rows.filter(Exists(in_messages) | Exists(in_concerns))
    return rows


def concerns(filters: Filters, now: datetime | None = None) -> QuerySet[Concern]:
    """Concerns, newest first. Overdue: still open and nobody at the city has done anything
    with it (no first answer) within INBOX_RESPONSE_HOURS of its arrival."""
    rows = Concern.objects.select_related(
        "category", "district", "department", "conversation"
    ).order_by("-created_at", "-id")
    if filters.status == OPEN:
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif filters.status:
        rows = rows.filter(status=filters.status)
    if filters.category is not None:
        rows = rows.filter(category=filters.category)
    if filters.district is not None:
        rows = rows.filter(district=filters.district)
    if filters.department is not None:
        rows = rows.filter(department=filters.department)
    if filters.overdue:
        rows = rows.filter(
            status__in=OPEN_STATUSES,
            first_answer_at__isnull=True,
            created_at__lt=overdue_before(now),
        )
    for word in _words(filters.q):
        rows = rows.filter(_contains("reference", word) | _contains("description", word))
    return rows


def concern_is_overdue(concern: Concern, now: datetime | None = None) -> bool:
    return (
        concern.is_open
        and concern.first_answer_at is None
        and concern.created_at < overdue_before(now)
    )


def agents() -> QuerySet[User]:
    """Who a conversation may be assigned to: active staff who may work on conversations."""
    may = Q(
        groups__permissions__codename="change_conversation",
        groups__permissions__content_type__app_label="inbox",
    ) | Q(
        user_permissions__codename="change_conversation",
        user_permissions__content_type__app_label="inbox",
    )
    return (
        User.objects.filter(is_active=True)
        .filter(may | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )
