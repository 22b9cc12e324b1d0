"""The poll form: what an editor types for a poll, turned into the arguments of
polls.actions.create_poll / update_poll, which check it as everywhere else. Ten answer fields
are always shown (blanks are ignored), so the page needs no script to add more."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from stadtbote.broadcasts.models import Template
from stadtbote.newsroom.forms import AudienceForm
from stadtbote.polls import actions
from stadtbote.polls.models import MAX_OPTIONS, QUESTION_MAX, ROW_LABEL_MAX, Poll

ANSWERS = [f"answer_{n}" for n in range(1, MAX_OPTIONS + 1)]


def _answer_field(n: int) -> forms.CharField:
    return forms.CharField(
        label=_("Answer %(n)d") % {"n": n},
        required=False,
        # The exact limit (20 for buttons, 24 for list rows) depends on how many answers
        # there are: polls.actions.clean_labels says which.
        max_length=ROW_LABEL_MAX,
        widget=forms.TextInput(attrs={"size": 26}),
    )


class PollForm(AudienceForm):
    # The fields after the question and the answers, in the page's order.
    REST = [
        "multiple", "closes_at", "topics", "districts", "language", "template", "publish_at",
        "on_website",
    ]  # fmt: skip
    field_order = ["title", "text", *REST]

    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("Question"),
        max_length=QUESTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("At most 1,024 characters; *bold* and _italic_ as in any post."),
    )
    # answer_1 … answer_10 are added in __init__, in their order.
    multiple = forms.BooleanField(label=_("Several answers allowed"), required=False)
    closes_at = forms.DateTimeField(
        label=_("Closes at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: open until closed by hand."),
    )
    template = forms.ChoiceField(
        label=_("Template outside the 24-hour window"),
        required=False,
        help_text=_(
            "Approved templates with quick-reply buttons that fit the answers: one button "
            "opens the poll, or the answers themselves as buttons. None: those outside the "
            "window do not get the poll."
        ),
        error_messages={
            "invalid_choice": _(
                "This template does not fit the answers (or is not approved): choose another "
                "or none."
            )
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["districts"].help_text = _(
            "None chosen: the whole city. Chosen: results by district too."
        )
        fields = list(self.fields.items())
        at = [name for name, _field in fields].index("multiple")
        answers = [(name, _answer_field(n)) for n, name in enumerate(ANSWERS, start=1)]
        self.fields = dict(fields[:at] + answers + fields[at:])
        template = self.fields["template"]
        assert isinstance(template, forms.ChoiceField)
        template.choices = [("", _("no template")), *self._templates()]

    def _labels_and_language(self) -> tuple[list[str], str]:
        source = self.data if self.is_bound else self.initial
        labels = [str(source.get(name) or "").strip() for name in ANSWERS]
        return [label for label in labels if label], str(source.get("language") or "")

    def _templates(self) -> list[tuple[str, str]]:
        """The templates that fit the answers typed (or saved) so far; before there are two,
        every approved template with buttons, so the choice can be made at once."""
        labels, language = self._labels_and_language()
        if len(labels) >= 2:
            found = actions.usable_templates(labels, language)
        else:
            found = list(
                Template.objects.filter(
                    status=Template.Status.APPROVED, language=language or "de"
                ).exclude(buttons=[])
            )
        return sorted(
            ((t.name, f"{t.name} ({' / '.join(t.buttons)})") for t in found),
            key=lambda choice: choice[0],
        )

    def answers(self) -> list[str]:
        return [self.cleaned_data.get(name) or "" for name in ANSWERS]

    def as_action_fields(self) -> dict[str, Any]:
        """The cleaned form as keyword arguments of polls.actions.create_poll/update_poll."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "text": data["text"],
            "answers": self.answers(),
            "multiple": data["multiple"],
            "closes_at": data["closes_at"],
            "template": data["template"] or "",
            **self.audience_fields(),
        }

    @classmethod
    def initial_for(cls, poll: Poll) -> dict[str, Any]:
        post = poll.post
        labels = [option.label for option in poll.options.all()]
        return {
            "title": post.title,
            "text": post.text,
            **dict(zip(ANSWERS, labels, strict=False)),
            "multiple": poll.multiple,
            "closes_at": poll.closes_at,
            "template": post.template.name if post.template else "",
            **cls.audience_initial(post),
        }
