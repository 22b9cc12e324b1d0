"""The inbox's settings pages, beside the newsroom's: departments, categories, canned replies,
office hours and closed days; for administrators. Thin views: the forms check the input,
settings_actions and settings_hours change it and write the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stadtbote.inbox import settings_actions as actions
from stadtbote.inbox import settings_forms as f
from stadtbote.inbox import settings_hours as hours
from stadtbote.inbox.models import CannedReply, Category, ClosedDay, Department
from stadtbote.newsroom.views import _user, staff


def _page(request: HttpRequest, name: str, area: str, **context: Any) -> HttpResponse:
    return render(request, f"inbox/settings/{name}.html", {"area": area, **context})


def _refused(form: Any, exc: ValidationError | ValueError) -> None:
    """A refusal from the domain shown in the form: at its field where it names one."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))


def _saved(request: HttpRequest, form: Any, change: Callable[[], object], done: str) -> bool:
    """A valid POST applied by `change`; a refusal from the domain is shown in the form."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        change()
    except (ValidationError, actions.SettingsError) as exc:
        _refused(form, exc)
        return False
    messages.success(request, done)
    return True


# Departments


@staff("inbox.change_department", "inbox.add_department")
def departments(request: HttpRequest) -> HttpResponse:
    form = f.DepartmentForm(request.POST or None)
    if _saved(
        request,
        form,
        lambda: actions.add(_user(request), Department, **form.cleaned_data),
        _("Added."),
    ):
        return redirect("inbox-settings-departments")
    items = Department.objects.annotate(
        n_categories=Count("categories", distinct=True),
        n_replies=Count("canned_replies", distinct=True),
    ).order_by("position", "name")
    return _page(request, "departments", "departments", items=items, form=form)


@staff("inbox.change_department")
def department(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(Department, pk=item_id)
    form = f.DepartmentForm(request.POST or None, instance=Department.objects.get(pk=item.pk))
    if _saved(
        request,
        form,
        lambda: actions.change(_user(request), item, **form.cleaned_data),
        _("Saved."),
    ):
        return redirect("inbox-settings-departments")
    return _page(
        request,
        "department",
        "departments",
        item=item,
        form=form,
        ties=actions.department_ties(item),
    )


@require_POST
@staff("inbox.change_department", "inbox.delete_department")
def department_step(request: HttpRequest, item_id: int, name: str) -> HttpResponse:
    item = get_object_or_404(Department, pk=item_id)
    if name in ("up", "down"):
        actions.move(_user(request), item, -1 if name == "up" else 1)
    elif name == "delete":
        ties = actions.delete_department(_user(request), item)
        messages.success(
            request,
            _(
                "Deleted. %(concerns)d concerns and %(conversations)d conversations are "
                "unassigned now."
            )
            % ties,
        )
    else:
        raise Http404("no such step")
    return redirect("inbox-settings-departments")


# Categories


@staff("inbox.change_category", "inbox.add_category")
def categories(request: HttpRequest) -> HttpResponse:
    form = f.CategoryForm(request.POST or None)
    if _saved(
        request,
        form,
        lambda: actions.add(_user(request), Category, **form.cleaned_data),
        _("Added."),
    ):
        return redirect("inbox-settings-categories")
    items = (
        Category.objects.select_related("department")
        .annotate(n_concerns=Count("concerns"))
        .order_by("position", "name")
    )
    return _page(
        request,
        "categories",
        "categories",
        items=items,
        form=form,
        offered=sum(1 for c in items if c.active),
        most=actions.MAX_ACTIVE,
    )


@staff("inbox.change_category")
def category(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(Category, pk=item_id)
    fixed = actions.code_is_fixed(item)
    form = f.CategoryForm(
        request.POST or None, instance=Category.objects.get(pk=item.pk), code_fixed=fixed
    )
    if _saved(
        request,
        form,
        lambda: actions.change(_user(request), item, **form.cleaned_data),
        _("Saved."),
    ):
        return redirect("inbox-settings-categories")
    return _page(
        request,
        "category",
        "categories",
        item=item,
        form=form,
        blocked=actions.why_category_stays(item),
    )


@require_POST
@staff("inbox.change_category", "inbox.delete_category")
def category_step(request: HttpRequest, item_id: int, name: str) -> HttpResponse:
    item = get_object_or_404(Category, pk=item_id)
    if name in ("up", "down"):
        actions.move(_user(request), item, -1 if name == "up" else 1)
    elif name == "delete":
        try:
            actions.delete_category(_user(request), item)
        except actions.SettingsError as exc:
            messages.error(request, str(exc))
            return redirect("inbox-settings-category", item_id)
        messages.success(request, _("Deleted."))
    else:
        raise Http404("no such step")
    return redirect("inbox-settings-categories")


# Canned replies


@staff("inbox.change_cannedreply", "inbox.add_cannedreply")
def replies(request: HttpRequest) -> HttpResponse:
    form = f.CannedReplyForm(request.POST or None)
    if _saved(
        request,
        form,
        lambda: actions.save_reply(_user(request), None, **form.cleaned_data),
        _("Added."),
    ):
        return redirect("inbox-settings-replies")
    items = CannedReply.objects.select_related("department").order_by(
        "department__position", "department__name", "title"
    )
    return _page(request, "replies", "replies", items=items, form=form)


@staff("inbox.change_cannedreply")
def reply(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(CannedReply, pk=item_id)
    form = f.CannedReplyForm(request.POST or None, instance=CannedReply.objects.get(pk=item.pk))
    if _saved(
        request,
        form,
        lambda: actions.save_reply(_user(request), item, **form.cleaned_data),
        _("Saved."),
    ):
        return redirect("inbox-settings-replies")
    return _page(request, "reply", "replies", item=item, form=form)


@require_POST
@staff("inbox.delete_cannedreply")
def reply_delete(request: HttpRequest, item_id: int) -> HttpResponse:
    actions.delete_reply(_user(request), get_object_or_404(CannedReply, pk=item_id))
    messages.success(request, _("Deleted."))
    return redirect("inbox-settings-replies")


# Office hours and closed days


@staff("inbox.change_officehours", "inbox.add_closedday")
def office_hours(request: HttpRequest) -> HttpResponse:
    which = request.POST.get("form") if request.method == "POST" else None
    week = hours.week()
    table = f.OfficeHoursForm(
        request.POST if which == "hours" else None, initial=f.OfficeHoursForm.initial_from(week)
    )
    closed = f.ClosedDayForm(request.POST if which == "closed" else None, prefix="closed")
    if which == "hours" and table.is_valid():
        try:
            changed = hours.set_week(_user(request), table.week)
        except hours.HoursError as exc:
            table.add_error(None, str(exc))
        else:
            messages.success(request, _("Saved.") if changed else _("Nothing changed."))
            return redirect("inbox-settings-hours")
    elif which == "closed" and closed.is_valid():
        try:
            hours.add_closed_day(
                _user(request),
                day=closed.cleaned_data["date"],
                name=closed.cleaned_data["name"],
                open=closed.cleaned_data["open"],
            )
        except (ValidationError, hours.HoursError) as exc:
            _refused(closed, exc)
        else:
            messages.success(request, _("Added."))
            return redirect("inbox-settings-hours")
    elif request.method == "POST" and which not in ("hours", "closed"):
        raise Http404("no such form")
    this_year = timezone.localdate().year
    return _page(
        request,
        "hours",
        "hours",
        table=table,
        closed=closed,
        more_spans=any(len(spans) > hours.MAX_SPANS for spans in week.values()),
        closed_days=ClosedDay.objects.filter(date__year__gte=this_year - 1).order_by("date"),
        holidays=hours.public_holidays([this_year, this_year + 1]),
        state=hours.state(),
    )


@require_POST
@staff("inbox.delete_closedday")
def closed_day_delete(request: HttpRequest, item_id: int) -> HttpResponse:
    hours.delete_closed_day(_user(request), get_object_or_404(ClosedDay, pk=item_id))
    messages.success(request, _("Deleted."))
    return redirect("inbox-settings-hours")
