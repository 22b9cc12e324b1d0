"""The forms of the inbox's settings pages. They check what was typed; the changes are made
by settings_actions and settings_hours, which also write the audit log."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from stadtbote.inbox import settings_hours
from stadtbote.inbox.models import CannedReply, Category, ClosedDay, Department

_TIME_ATTRS = {"inputmode": "numeric", "placeholder": "HH:MM", "size": 5}
ORDINALS = {1: _("first span"), 2: _("second span")}


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["name"]


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "description", "service_code", "department", "active"]
        labels = {"active": _("offered in the chat")}
        help_texts = {
            "name": _("At most 24 characters: a row of the chat's list."),
            "description": _("Shown under the name in the chat's list; at most 72 characters."),
            "service_code": _(
                "Open311 service code: a-z, 0-9, - and _. Fixed once a concern has it."
            ),
            "active": _("Taken out of the chat it stays with its concerns. At most 10 offered."),
        }

    def __init__(self, *args: Any, code_fixed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department = self.fields["department"]
        assert isinstance(department, forms.ModelChoiceField)
        department.empty_label = _("no department")
        if code_fixed:
            # A disabled field keeps its stored value whatever is sent.
            self.fields["service_code"].disabled = True


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "text", "department"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department = self.fields["department"]
        assert isinstance(department, forms.ModelChoiceField)
        department.empty_label = _("every department")


class OfficeHoursForm(forms.Form):
    """The weekly table: per weekday up to two spans, each an opening and a closing time;
    both empty for no span."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in range(7):
            for n in range(1, settings_hours.MAX_SPANS + 1):
                for end, word in (("opens", _("opens")), ("closes", _("closes"))):
                    label = f"{WEEKDAYS[day]}, {ORDINALS[n]}: {word}"
                    self.fields[f"d{day}_{end}{n}"] = forms.TimeField(
                        label=label,
                        required=False,
                        # Shown in a table without a label of its own: named for
                        # screen readers by its row and column.
                        widget=forms.TimeInput(
                            format="%H:%M", attrs={**_TIME_ATTRS, "aria-label": label}
                        ),
                    )

    @staticmethod
    def initial_from(week: dict[int, list[tuple[time, time]]]) -> dict[str, time]:
        initial = {}
        for day, spans in week.items():
            for n, (opens, closes) in enumerate(spans[: settings_hours.MAX_SPANS], start=1):
                initial[f"d{day}_opens{n}"] = opens
                initial[f"d{day}_closes{n}"] = closes
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        week: dict[int, list[tuple[time, time]]] = {}
        for day in range(7):
            spans = []
            for n in range(1, settings_hours.MAX_SPANS + 1):
                opens_name, closes_name = f"d{day}_opens{n}", f"d{day}_closes{n}"
                if opens_name in self.errors or closes_name in self.errors:
                    continue  # not a time: said at the field already
                opens, closes = data.get(opens_name), data.get(closes_name)
                if opens is None and closes is None:
                    continue
                if opens is None or closes is None:
                    self.add_error(opens_name, _("Give both times of a span, or neither."))
                    continue
                spans.append((opens, closes))
            reason = settings_hours.problems(spans)
            if reason is not None:
                self.add_error(f"d{day}_opens1", reason)
            week[day] = spans
        self.week = week
        return data

    def rows(self) -> list[tuple[str, list[forms.BoundField], list[str]]]:
        """Per weekday: its name, its fields in table order, and its errors."""
        found = []
        for day in range(7):
            names = [
                f"d{day}_{end}{n}"
                for n in range(1, settings_hours.MAX_SPANS + 1)
                for end in ("opens", "closes")
            ]
            errors = [str(e) for name in names for e in self.errors.get(name, [])]
            found.append((str(WEEKDAYS[day]), [self[name] for name in names], errors))
        return found


class ClosedDayForm(forms.ModelForm):
    class Meta:
        model = ClosedDay
        fields = ["date", "name", "open"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        labels = {"open": _("open on this public holiday after all")}
        help_texts = {
            "name": _("e.g. Christmas Eve, works outing"),
            "open": _("Otherwise the office is closed on this day."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The browser's date field sends ISO dates; typed by hand, the German form is taken.
        date = self.fields["date"]
        assert isinstance(date, forms.DateField)
        date.input_formats = ["%Y-%m-%d", "%d.%m.%Y"]
