"""Numbers and money in the active language: "1.234" and "1.234,56 €" in German, "1,234" and
"€1,234.56" in English. For Python code that builds a sentence; templates use the filters of
the `localised` library (the same functions) or `floatformat:"g"`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils import formats, translation

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def count(value: int) -> str:
    return formats.number_format(value, 0, use_l10n=True, force_grouping=True)


def money(amount: object, currency: str = "EUR") -> str:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return "–"
    number = formats.number_format(value, 2, use_l10n=True, force_grouping=True)
    symbol = SYMBOLS.get(currency, "")
    if (translation.get_language() or "de").startswith("de"):
        return f"{number} {symbol or currency}"
    return f"{symbol}{number}" if symbol else f"{currency} {number}"


def percent(share: float | None) -> str:
    """A share (0.25) as a percentage: "25 %" and "33,3 %" in German (with a non-breaking
    space, as German typesetting has it), "25%" and "33.3%" in English."""
    if share is None:
        return "–"
    value = round(share * 100, 1)
    places = 0 if float(value).is_integer() else 1
    number = formats.number_format(value, places, use_l10n=True, force_grouping=True)
    if (translation.get_language() or "de").startswith("de"):
        return f"{number}\u00a0%"
    return f"{number}%"
