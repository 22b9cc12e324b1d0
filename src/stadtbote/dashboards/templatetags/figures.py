from __future__ import annotations

from django import template

from stadtbote.dashboards.charts import number

register = template.Library()


@register.filter
def grouped(value: int | float | None) -> str:
    """A count with the language's thousands separator (German 1.234, English 1,234)."""
    return "–" if value is None else number(value)
