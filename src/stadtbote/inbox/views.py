"""The staff inbox: conversations with citizens, their concerns, and the files they sent.
Thin views: forms check the input, inbox.work changes things and writes the audit log,
inbox.queries finds what the lists show. Every change is a POST that redirects (or shows the
form again with its errors, changing nothing)."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from stadtbote.inbox import forms, maps, queries, work
from stadtbote.inbox.models import (
    Concern,
    Conversation,
    Message,
    Status,
)
from stadtbote.lib.ids import parse_id
from stadtbote.lib.problems import Problem, localised

View = Callable[..., HttpResponseBase]
PAGE_SIZE = 50
# A conversation page shows this many of the latest messages (retention keeps a month).
SHOWN_MESSAGES = 300
# Files shown in the page; anything else (SVG too: it may carry script) is only downloaded.
INLINE_IMAGES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
_MIME = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,40}/[a-z0-9][a-z0-9.+-]{0,60}$")


def inbox_staff(*permissions: str) -> Callable[[View], View]:
    """Logged in (anonymous: to the login page) and holding these permissions (403)."""

    def decorate(view: View) -> View:
        return login_required(permission_required(permissions, raise_exception=True)(view))

    return decorate


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _page_of(request: HttpRequest, rows: Any) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(parse_id(request.GET.get("seite", "")) or 1)


def _filters(form: forms._Filters) -> queries.Filters:
    """The filters from the query string; what is invalid is reported on the page (the form's
    errors) and left out."""
    form.is_valid()
    return form.filters()


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("seite", None)
    return query.urlencode()


# Lists


@require_GET
@inbox_staff("inbox.view_conversation")
def conversation_list(request: HttpRequest) -> HttpResponse:
    form = forms.ConversationFilters(request.GET or None)
    filters = _filters(form)
    now = timezone.now()
    page = _page_of(request, queries.conversations(filters, _user(request), now))
    for conversation in page:
        conversation.overdue = queries.is_overdue(conversation, now)
        kind = conversation.preview_kind
        conversation.preview_label = Message.Kind(kind).label if kind in Message.Kind else ""
    return render(
        request,
        "inbox/list.html",
        {"form": form, "page": page, "query": _query_without_page(request)},
    )


@require_GET
@inbox_staff("inbox.view_concern")
def concern_list(request: HttpRequest) -> HttpResponse:
    form = forms.ConcernFilters(request.GET or None)
    filters = _filters(form)
    now = timezone.now()
    page = _page_of(request, queries.concerns(filters, now))
    for concern in page:
        concern.overdue = queries.concern_is_overdue(concern, now)
    return render(
        request,
        "inbox/concerns.html",
        {"form": form, "page": page, "query": _query_without_page(request)},
    )


# A conversation


def _place(latitude: float | None, longitude: float | None) -> dict[str, Any] | None:
    if not maps.usable(latitude, longitude):
        return None
    assert latitude is not None and longitude is not None
    return {
        "latitude": latitude,
        "longitude": longitude,
        "pin": maps.pin(latitude, longitude),
        "url": maps.openstreetmap_url(latitude, longitude),
    }


def _known(pk: int) -> int:
    """An id from the address that the database can hold (PostgreSQL refuses a bigger
    number with an error, not with "not found")."""
    if parse_id(str(pk)) is None:
        raise Http404("no such id")
    return pk


def _conversation(conversation_id: int) -> Conversation:
    _known(conversation_id)
    return get_object_or_404(
        Conversation.objects.select_related("subscriber", "department", "assignee"),
        pk=conversation_id,
    )


@dataclass
class ConcernCard:
    """A concern as the conversation page shows it, with its own forms."""

    concern: Concern
    place: dict[str, Any] | None
    overdue: bool
    status_form: forms.ConcernStatusForm
    classify_form: forms.ClassifyForm


def _concerns_of(conversation: Conversation) -> list[ConcernCard]:
    concerns = conversation.concerns.select_related(
        "category", "district", "department", "photo"
    ).order_by("-created_at")
    cards = []
    for concern in concerns:
        # Several concerns' forms on one page: each with its own element ids.
        ids = f"concern{concern.pk}_%s"
        cards.append(
            ConcernCard(
                concern=concern,
                place=_place(concern.latitude, concern.longitude),
                overdue=queries.concern_is_overdue(concern),
                status_form=forms.ConcernStatusForm(
                    initial={"status": concern.status}, auto_id=ids
                ),
                classify_form=forms.ClassifyForm(
                    initial={"category": concern.category_id, "district": concern.district_id},
                    auto_id=ids,
                ),
            )
        )
    return cards


def _conversation_page(
    request: HttpRequest,
    conversation: Conversation,
    status: int = 200,
    phone_number: str | None = None,
    **bound: Any,
) -> HttpResponse:
    latest = conversation.messages.select_related("author", "reply", "concern").order_by(
        "-created_at", "-id"
    )[:SHOWN_MESSAGES]
    entries = [(m, _place(m.latitude, m.longitude)) for m in reversed(list(latest))]
    picker = forms.CannedPicker(department=conversation.department)
    initial_text = ""
    canned_id = parse_id(request.GET.get("canned", ""))
    if canned_id is not None:
        found = picker.fields["canned"].queryset.filter(pk=canned_id).first()  # type: ignore[attr-defined]
        initial_text = found.text if found else ""
    context = {
        "conversation": conversation,
        "entries": entries,
        "inline_images": INLINE_IMAGES,
        "shown": SHOWN_MESSAGES,
        "cut": conversation.messages.count() > SHOWN_MESSAGES,
        "concerns": _concerns_of(conversation),
        "overdue": queries.is_overdue(conversation),
        "window_open": conversation.subscriber.window_open(timezone.now()),
        "canned_replies": picker.fields["canned"].queryset,  # type: ignore[attr-defined]
        "canned_chosen": canned_id,
        "reply_form": bound.get("reply_form")
        or forms.ReplyForm(conversation=conversation, initial={"text": initial_text}),
        "note_form": bound.get("note_form") or forms.NoteForm(),
        "status_form": bound.get("status_form")
        or forms.ConversationStatusForm(initial={"status": conversation.status}),
        "assign_form": bound.get("assign_form")
        or forms.AssignForm(
            initial={
                "department": conversation.department_id,
                "assignee": conversation.assignee_id,
            }
        ),
        "phone_number": phone_number,
        "may_see_phone": request.user.has_perm("subscribers.view_phone_number"),
    }
    return render(request, "inbox/conversation.html", context, status=status)


@require_GET
@inbox_staff("inbox.view_conversation", "inbox.view_message")
def conversation_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _conversation_page(request, _conversation(conversation_id))


@require_POST
@inbox_staff("inbox.view_conversation", "subscribers.view_phone_number")
def reveal_phone_number(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Shown once, in the answer to this POST (not kept in the page's address or history),
    and recorded in the audit log."""
    conversation = _conversation(conversation_id)
    number = work.reveal_phone_number(conversation, by=_user(request))
    response = _conversation_page(request, conversation, phone_number=number)
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@inbox_staff("inbox.view_conversation", "inbox.add_message")
def answer(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(conversation_id)
    form = forms.ReplyForm(request.POST, conversation=conversation)
    if not form.is_valid():
        return _conversation_page(request, conversation, status=400, reply_form=form)
    try:
        message = work.answer(
            conversation,
            form.cleaned_data["text"],
            by=_user(request),
            concern=form.cleaned_data["concern"],
        )
    except Problem as exc:
        form.add_error("text", localised(exc))
        return _conversation_page(request, conversation, status=400, reply_form=form)
    if message is None:
        messages.info(request, _("This answer was sent a moment ago; it was not sent again."))
    elif message.held:
        messages.success(
            request,
            _(
                "The citizen last wrote more than 24 hours ago. They were asked by template to "
                "open the chat; the answer goes out when they do."
            ),
        )
    else:
        messages.success(request, _("The answer is on its way."))
    return redirect("inbox-conversation", conversation.pk)


@require_POST
@inbox_staff("inbox.view_conversation", "inbox.add_message")
def add_note(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(conversation_id)
    form = forms.NoteForm(request.POST)
    if not form.is_valid():
        return _conversation_page(request, conversation, status=400, note_form=form)
    if work.note(conversation, form.cleaned_data["text"], by=_user(request)) is None:
        messages.info(request, _("This note was added a moment ago; it was not added again."))
    else:
        messages.success(request, _("Note added."))
    return redirect("inbox-conversation", conversation.pk)


@require_POST
@inbox_staff("inbox.view_conversation", "inbox.change_conversation")
def change_status(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(conversation_id)
    form = forms.ConversationStatusForm(request.POST)
    if not form.is_valid():
        return _conversation_page(request, conversation, status=400, status_form=form)
    status = Status(form.cleaned_data["status"])
    if work.set_status(conversation, status, by=_user(request)):
        messages.success(request, _("Status changed to “%(status)s”.") % {"status": status.label})
    else:
        messages.info(request, _("Nothing changed."))
    return redirect("inbox-conversation", conversation.pk)


@require_POST
@inbox_staff("inbox.view_conversation", "inbox.change_conversation")
def assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(conversation_id)
    form = forms.AssignForm(request.POST)
    if not form.is_valid():
        return _conversation_page(request, conversation, status=400, assign_form=form)
    changed = work.assign(
        conversation,
        department=form.cleaned_data["department"],
        assignee=form.cleaned_data["assignee"],
        by=_user(request),
    )
    if changed:
        messages.success(request, _("Assignment saved."))
    else:
        messages.info(request, _("Nothing changed."))
    return redirect("inbox-conversation", conversation.pk)


# A concern


def _concern(key: str) -> Concern:
    """By reference number (what the citizen quotes) or by id."""
    rows = Concern.objects.select_related(
        "category", "district", "department", "photo", "conversation"
    )
    pk = parse_id(key)
    if pk is not None:
        return get_object_or_404(rows, pk=pk)
    if len(key) > 20 or not key.isprintable():  # PostgreSQL refuses NUL in a query
        raise Http404("no such concern")
    return get_object_or_404(rows, reference__iexact=key)


def _concern_page(
    request: HttpRequest, concern: Concern, status: int = 200, **bound: Any
) -> HttpResponse:
    context = {
        "concern": concern,
        "place": _place(concern.latitude, concern.longitude),
        "overdue": queries.concern_is_overdue(concern),
        "events": concern.events.select_related("author"),
        "inline_images": INLINE_IMAGES,
        "messages_about": concern.messages.select_related("author", "reply").order_by(
            "created_at", "id"
        )
        if request.user.has_perm("inbox.view_message")
        else [],
        "status_form": bound.get("status_form")
        or forms.ConcernStatusForm(initial={"status": concern.status}),
        "classify_form": bound.get("classify_form")
        or forms.ClassifyForm(
            initial={"category": concern.category_id, "district": concern.district_id}
        ),
    }
    return render(request, "inbox/concern.html", context, status=status)


@require_GET
@inbox_staff("inbox.view_concern")
def concern_page(request: HttpRequest, key: str) -> HttpResponse:
    return _concern_page(request, _concern(key))


def _back_to(request: HttpRequest, concern: Concern) -> HttpResponse:
    """To the conversation the form was sent from, else to the concern's page."""
    if request.POST.get("back") == "conversation" and concern.conversation_id is not None:
        return redirect("inbox-conversation", concern.conversation_id)
    return redirect("inbox-concern", concern.reference)


@require_POST
@inbox_staff("inbox.view_concern", "inbox.change_concern")
def concern_status(request: HttpRequest, key: str) -> HttpResponse:
    concern = _concern(key)
    form = forms.ConcernStatusForm(request.POST)
    if not form.is_valid():
        return _concern_page(request, concern, status=400, status_form=form)
    status = Status(form.cleaned_data["status"])
    if work.set_concern_status(concern, status, by=_user(request), note=form.cleaned_data["note"]):
        messages.success(
            request,
            _("Concern %(reference)s: %(status)s.")
            % {"reference": concern.reference, "status": status.label},
        )
    else:
        messages.info(request, _("Nothing changed."))
    return _back_to(request, concern)


@require_POST
@inbox_staff("inbox.view_concern", "inbox.change_concern")
def classify(request: HttpRequest, key: str) -> HttpResponse:
    concern = _concern(key)
    form = forms.ClassifyForm(request.POST)
    if not form.is_valid():
        return _concern_page(request, concern, status=400, classify_form=form)
    changed = work.classify(
        concern,
        category=form.cleaned_data["category"],
        district=form.cleaned_data["district"],
        by=_user(request),
    )
    if changed:
        messages.success(request, _("Saved."))
    else:
        messages.info(request, _("Nothing changed."))
    return _back_to(request, concern)


# Files


def _stored_file(message: Message) -> Path:
    """The message's file inside the media directory; 404 for anything else (a name that
    would lead out of it, a missing file)."""
    root = Path(settings.INBOX_MEDIA_DIR).resolve()
    if not message.has_file or "\x00" in message.file or Path(message.file).is_absolute():
        raise Http404("no file")
    path = (root / message.file).resolve()
    if not path.is_relative_to(root) or path == root or not path.is_file():
        raise Http404("no file")
    return path


@require_GET
@inbox_staff("inbox.view_message")
def media(request: HttpRequest, message_id: int) -> HttpResponseBase:
    message = get_object_or_404(Message, pk=_known(message_id))
    if message.direction == Message.Direction.NOTE:
        raise PermissionDenied
    path = _stored_file(message)
    mime = message.mime_type.lower().split(";")[0].strip()
    if not _MIME.match(mime):
        mime = "application/octet-stream"
    if mime in INLINE_IMAGES:
        response = FileResponse(path.open("rb"), content_type=mime)
        response["Content-Disposition"] = "inline"
    else:
        # The citizen's own file name may say who they are or fool the browser: a generic one.
        extension = mimetypes.guess_extension(mime) or ".bin"
        response = FileResponse(
            path.open("rb"),
            content_type=mime,
            as_attachment=True,
            filename=f"stadtbote-{message.pk}{extension}",
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Opened on its own, a file runs nothing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
