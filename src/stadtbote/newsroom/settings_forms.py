"""The forms of the newsroom's settings pages. They check what was typed; the changes
themselves are made by the domain functions (sending_rules, catalog, prices, privacy_notice)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from stadtbote.broadcasts import templates
from stadtbote.broadcasts.models import Price, SendingRules, Template
from stadtbote.broadcasts.sending_rules import Rules
from stadtbote.lib.problems import localised
from stadtbote.public.models import ArchiveSettings, NoticeVersion, PageText
from stadtbote.subscribers.models import District, Subscriber, Topic

_TIME_ATTRS = {"inputmode": "numeric", "placeholder": "HH:MM", "size": 5}


class SendingRulesForm(forms.ModelForm):
    class Meta:
        model = SendingRules
        fields = [
            "quiet_hours_start",
            "quiet_hours_end",
            "daily_cap",
            "monthly_budget",
            "budget_blocks",
        ]
        widgets = {
            "quiet_hours_start": forms.TextInput(attrs=_TIME_ATTRS),
            "quiet_hours_end": forms.TextInput(attrs=_TIME_ATTRS),
        }
        help_texts = {
            "quiet_hours_end": _("The same time as the start: no quiet hours."),
            "daily_cap": _("0 to 10; 0: no cap. Urgent posts are not counted."),
            "monthly_budget": _("In the price table's currency; 0: no budget."),
            "budget_blocks": _("Otherwise the approver is warned only."),
        }

    def rules(self) -> Rules:
        data = self.cleaned_data
        return Rules(
            quiet_hours_start=data["quiet_hours_start"],
            quiet_hours_end=data["quiet_hours_end"],
            daily_cap=data["daily_cap"],
            monthly_budget=data["monthly_budget"],
            budget_blocks=data["budget_blocks"],
        )


class TopicForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ["name", "slug", "description", "opt_in_only"]
        help_texts = {"slug": _("Short name for addresses and the REST API: a-z, 0-9 and -.")}


class DistrictForm(forms.ModelForm):
    class Meta:
        model = District
        fields = ["name", "slug"]
        help_texts = {"slug": _("Short name for addresses and the REST API: a-z, 0-9 and -.")}


def _amount(label: str, **extra: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=Decimal("0"), max_digits=8, decimal_places=4, **extra
    )


class PricesForm(forms.Form):
    """One amount per row of the price table."""

    def __init__(self, *args: Any, prices: list[Price], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prices = prices
        for price in prices:
            label = f"{price.country} {price.get_category_display()}"
            self.fields[f"price_{price.pk}"] = _amount(label, initial=price.amount)

    def amounts(self) -> dict[int, Decimal]:
        return {p.pk: self.cleaned_data[f"price_{p.pk}"] for p in self.prices}


class CountryForm(forms.Form):
    country = forms.CharField(
        label=_("Country (ISO code, e.g. AT)"),
        max_length=2,
        min_length=2,
        validators=[RegexValidator(r"^[A-Za-z]{2}$", _("Two letters, e.g. AT."))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in Price.Category.choices:
            self.fields[value.lower()] = _amount(str(label))

    def amounts(self) -> dict[str, Decimal]:
        return {value: self.cleaned_data[value.lower()] for value in Price.Category.values}


class PrivacyNoticeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_("Paragraphs are separated by an empty line."),
    )
    version = forms.CharField(
        label=_("Version"),
        max_length=NoticeVersion._meta.get_field("version").max_length,
        help_text=_("Change it whenever the text changes in substance, e.g. 2026-11."),
    )


class SubscribePageForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        max_length=PageText._meta.get_field("body").max_length or 20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Paragraphs are separated by an empty line."),
    )


class TemplateForm(forms.Form):
    """A template (new, or not yet submitted to Meta); checked by broadcasts.templates.check."""

    name = forms.CharField(
        label=_("Name"),
        max_length=512,
        help_text=_("Lower-case letters, digits and _; Meta knows it by this name."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Subscriber.Language.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Template.Category.choices)
    body = forms.CharField(
        label=_("Text"),
        max_length=templates.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("{{1}} stands for the post's text (a poll's question), {{2}} for its title."),
    )
    buttons = forms.CharField(
        label=_("Quick-reply buttons"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One text per line, at most 10, each at most 25 characters. For polls: one button "
            "(e.g. Abstimmen) opens the poll; or the poll's answers in their order vote directly."
        ),
    )

    def __init__(self, *args: Any, existing: Template | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.existing = existing
        if existing is not None:  # name and language are how Meta knows it: they stay
            del self.fields["name"], self.fields["language"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lines = [line.strip() for line in (data.get("buttons") or "").splitlines()]
        data["buttons"] = [line for line in lines if line]
        if self.errors:
            return data
        candidate = Template(
            name=data["name"].strip() if self.existing is None else self.existing.name,
            language=data["language"] if self.existing is None else self.existing.language,
            category=data["category"],
            body=data["body"].strip(),
            buttons=data["buttons"],
        )
        try:
            templates.check(candidate)
        except templates.TemplateError as exc:
            raise forms.ValidationError(localised(exc)) from exc
        return data


class ArchiveSettingsForm(forms.ModelForm):
    class Meta:
        model = ArchiveSettings
        fields = ["show_reactions"]
