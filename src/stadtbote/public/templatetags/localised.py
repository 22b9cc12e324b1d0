"""`{{ amount|money:currency }}` and `{{ n|count }}` in the page's language (see lib/localise)."""

from __future__ import annotations

from django import template

from stadtbote.lib import localise

register = template.Library()


@register.filter
def money(amount: object, currency: str = "EUR") -> str:
    return localise.money(amount, currency)


@register.filter
def count(value: object) -> str:
    try:
        return localise.count(int(str(value)))
    except ValueError:
        return "–"


@register.filter
def percent(share: float | None) -> str:
    return localise.percent(share)
