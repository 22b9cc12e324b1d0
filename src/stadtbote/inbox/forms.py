"""The inbox's forms: the list filters (GET) and what staff change (POST). Choices come from
the database when the form is made, so a foreign or deleted id is refused like a typo."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from stadtbote.inbox import queries
from stadtbote.inbox.models import TEXT_MAX, CannedReply, Category, Concern, Department, Status
from stadtbote.subscribers.models import District

NOTE_MAX = 500  # a concern event's note

STATUS_FILTER = [
    ("", _("all")),
    (queries.OPEN, _("open (not resolved)")),
    *Status.choices,
]


def _person(user: User) -> str:
    return user.get_full_name() or user.get_username()


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _person(obj)


class _Filters(forms.Form):
    """Shared by both lists. Every field is optional; a value that is not one of the choices
    is reported and ignored, the other filters still apply."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"maxlength": queries.MAX_QUERY, "type": "search"}),
    )
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_FILTER, required=False)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.all(),
        required=False,
        empty_label=_("all"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.all(),
        required=False,
        empty_label=_("all"),
    )
    overdue = forms.BooleanField(label=_("overdue only"), required=False)

    def clean_q(self) -> str:
        # Capped, not refused: a long paste still searches for its beginning.
        return str(self.cleaned_data.get("q") or "")[: queries.MAX_QUERY]

    def filters(self) -> queries.Filters:
        """The valid part of the input (call after is_valid())."""
        data = getattr(self, "cleaned_data", {})
        return queries.Filters(
            status=data.get("status") or "",
            department=data.get("department"),
            assignee=self._assignee(data.get("assignee") or ""),
            category=data.get("category"),
            district=data.get("district"),
            overdue=bool(data.get("overdue")),
            q=data.get("q") or "",
        )

    def _assignee(self, value: str) -> str | User | None:
        return None


class ConversationFilters(_Filters):
    assignee = forms.ChoiceField(label=_("Assigned to"), required=False)

    field_order = ["q", "status", "department", "assignee", "category", "overdue"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._people = {str(u.pk): u for u in queries.agents()}
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", _("anyone")),
            (queries.ME, _("me")),
            (queries.NOBODY, _("nobody")),
            *[(pk, _person(u)) for pk, u in self._people.items()],
        ]

    def _assignee(self, value: str) -> str | User | None:
        if value in (queries.ME, queries.NOBODY):
            return value
        return self._people.get(value)


class ConcernFilters(_Filters):
    district = forms.ModelChoiceField(
        label=_("District"),
        queryset=District.objects.order_by("position", "name"),
        required=False,
        empty_label=_("all"),
    )

    field_order = ["q", "status", "category", "district", "department", "overdue"]


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Answer to the citizen"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    concern = forms.ModelChoiceField(
        label=_("About the concern"),
        queryset=Concern.objects.none(),
        required=False,
        empty_label=_("none in particular"),
    )

    def __init__(self, *args: Any, conversation: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["concern"].queryset = conversation.concerns.all()  # type: ignore[attr-defined]


class CannedPicker(forms.Form):
    """Fills the answer with a canned reply: a GET form, so it works without JavaScript."""

    canned = forms.ModelChoiceField(
        label=_("Canned reply"), queryset=CannedReply.objects.none(), empty_label="—"
    )

    def __init__(self, *args: Any, department: Department | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        replies = CannedReply.objects.all()
        if department is not None:
            replies = replies.filter(department__isnull=True) | replies.filter(
                department=department
            )
        self.fields["canned"].queryset = replies.order_by("title")  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"),
        max_length=TEXT_MAX,
        help_text=_("Only staff see it; the citizen does not."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConversationStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status of the conversation"), choices=Status.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Beside the concerns' status forms on the same page: ids of its own.
        kwargs.setdefault("auto_id", "conversation_%s")
        super().__init__(*args, **kwargs)


class AssignForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.all(),
        required=False,
        empty_label=_("none"),
    )
    assignee = _PersonChoice(
        label=_("Assigned to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("nobody"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = queries.agents()  # type: ignore[attr-defined]


class ConcernStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status of the concern"), choices=Status.choices)
    note = forms.CharField(
        label=_("Note for the citizen"),
        max_length=NOTE_MAX,
        required=False,
        help_text=_(
            "Told to the citizen with the new status, when the concern came from the chat."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ClassifyForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all())
    district = forms.ModelChoiceField(
        label=_("District"),
        queryset=District.objects.order_by("position", "name"),
        required=False,
        empty_label=_("none"),
    )
