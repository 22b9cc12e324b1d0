"""What staff do in the inbox: answer, note, assign, change a status, classify a concern.
Each action checks nothing about who may (the views do, by permission) but records who did
it in the audit log, with ids and choices only: no message text, no phone number.

A repeated click (the same answer again at once, a status it already has) changes nothing
and is not recorded twice; the functions say so by returning None or False.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from stadtbote.accounts import audit
from stadtbote.inbox import actions, replying
from stadtbote.inbox.models import (
    Category,
    Concern,
    Conversation,
    Department,
    Message,
    Status,
)
from stadtbote.subscribers.models import District

# The same text by the same person within this time is a second click, not a second answer.
DUPLICATE_WINDOW = timedelta(minutes=2)


def _just_written(conversation: Conversation, by: User, direction: str, text: str) -> bool:
    latest = (
        conversation.messages.filter(direction=direction, author=by)
        .order_by("-created_at", "-id")
        .first()
    )
    return (
        latest is not None
        and latest.text == text
        and timezone.now() - latest.created_at < DUPLICATE_WINDOW
    )


def answer(
    conversation: Conversation, text: str, *, by: User, concern: Concern | None = None
) -> Message | None:
    """Sends (or holds, outside the window) an answer; None when the same answer was just
    sent. Raises replying's Problem for an empty answer or a missing template."""
    text = actions.clip(text.strip())
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        if text and _just_written(conversation, by, Message.Direction.OUT, text):
            return None
        message = replying.reply(conversation, text, by=by, concern=concern)
        if concern is not None and concern.first_answer_at is None:
            # An answer about the concern is the city's first reaction to it: no longer overdue.
            concern.first_answer_at = message.created_at
            concern.save(update_fields=["first_answer_at"])
        audit.record(
            by,
            "inbox.answered",
            conversation,
            message=message.pk,
            held=message.held,
            concern=concern.pk if concern else None,
        )
    return message


def note(conversation: Conversation, text: str, *, by: User) -> Message | None:
    """An internal note: staff see it in the conversation, the citizen never does."""
    text = actions.clip(text.strip())
    if not text:
        raise ValueError("a note needs a text")
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        if _just_written(conversation, by, Message.Direction.NOTE, text):
            return None
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.NOTE,
            text=text,
            author=by,
            created_at=timezone.now(),
        )
        audit.record(by, "inbox.noted", conversation, message=message.pk)
    return message


def set_status(conversation: Conversation, status: Status, *, by: User) -> bool:
    """The conversation's status as staff see it; False if it already was that. Resolving
    also ends the wait for an answer: there is nothing left to answer, so it is not overdue."""
    if conversation.status == status:
        return False
    now = timezone.now()
    before = conversation.status
    conversation.status = status
    conversation.resolved_at = now if status == Status.RESOLVED else None
    if status == Status.RESOLVED:
        conversation.awaiting_since = None
    with transaction.atomic():
        conversation.save(update_fields=["status", "resolved_at", "awaiting_since"])
        audit.record(by, "inbox.status_changed", conversation, before=before, after=status)
    return True


def assign(
    conversation: Conversation,
    *,
    department: Department | None,
    assignee: User | None,
    by: User,
) -> bool:
    """Who works on it; False if nothing changed."""
    if conversation.department_id == (department.pk if department else None) and (
        conversation.assignee_id == (assignee.pk if assignee else None)
    ):
        return False
    with transaction.atomic():
        conversation.department = department
        conversation.assignee = assignee
        conversation.save(update_fields=["department", "assignee"])
        audit.record(
            by,
            "inbox.assigned",
            conversation,
            department=department.pk if department else None,
            assignee=assignee.pk if assignee else None,
        )
    return True


def set_concern_status(concern: Concern, status: Status, *, by: User, note: str = "") -> bool:
    """Through actions.set_concern_status, which records the event and tells the citizen;
    False when neither the status nor a note is new."""
    with transaction.atomic():
        changed = actions.set_concern_status(concern, status, by=by, note=note.strip())
        if changed:
            audit.record(
                by,
                "inbox.concern_status_changed",
                concern,
                status=status,
                with_note=bool(note.strip()),
            )
    return changed


def classify(concern: Concern, *, category: Category, district: District | None, by: User) -> bool:
    """Corrects what a concern is about and where. Its department follows a new category
    unless someone chose another department than the old category's."""
    if concern.category_id == category.pk and concern.district_id == (
        district.pk if district else None
    ):
        return False
    with transaction.atomic():
        before = {"category": concern.category_id, "district": concern.district_id}
        if concern.category_id != category.pk and (
            concern.department_id == concern.category.department_id
        ):
            concern.department = category.department
        concern.category = category
        concern.district = district
        concern.updated_at = timezone.now()
        concern.save(update_fields=["category", "district", "department", "updated_at"])
        audit.record(
            by,
            "inbox.concern_classified",
            concern,
            before=before,
            after={"category": category.pk, "district": district.pk if district else None},
        )
    return True


def reveal_phone_number(conversation: Conversation, *, by: User) -> str:
    """The citizen's number, for a member of staff allowed to see it; every look is recorded
    (the number itself is not)."""
    audit.record(
        by, "inbox.phone_number_viewed", conversation, subscriber=conversation.subscriber_id
    )
    return conversation.subscriber.phone
