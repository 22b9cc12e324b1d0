"""The statistics of concerns as a page and a CSV. Thin: the numbers come from statistics.py,
the pictures from the dashboards' charts."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from stadtbote.dashboards import charts
from stadtbote.inbox import statistics
from stadtbote.newsroom.views import staff


def _found(request: HttpRequest) -> statistics.Statistics:
    return statistics.compute(statistics.period_days(request.GET.get("tage")))


@staff("inbox.view_statistics")
def page(request: HttpRequest) -> HttpResponse:
    found = _found(request)
    return render(
        request,
        "inbox/statistics.html",
        {
            "found": found,
            "periods": statistics.PERIODS,
            "response_hours": settings.INBOX_RESPONSE_HOURS,
            "times": [
                (_("Until the first answer to a conversation"), found.conversation_response),
                (_("Until the first answer to a concern"), found.concern_response),
                (_("Until a concern is resolved"), found.resolution),
            ],
            **_charts(found),
        },
    )


def _charts(found: statistics.Statistics) -> dict[str, object]:
    def top(buckets: list[statistics.Bucket]) -> str:
        best = max(buckets, key=lambda b: b.count, default=None)
        if best is None or not best.count:
            return _("No concerns in this period.")
        return _("Most: %(name)s with %(n)s.") % {"name": best.name, "n": charts.number(best.count)}

    busiest = max(found.per_day, key=lambda d: d[1], default=None)
    count = len(found.per_day)
    return {
        "per_day_chart": charts.line(
            [
                (
                    date_format(day, "SHORT_DATE_FORMAT")
                    if i in (0, count // 2, count - 1)
                    else "",
                    n,
                )
                for i, (day, n) in enumerate(found.per_day)
            ],
            title=_("New concerns per day"),
            description=(
                _("%(total)s in this period; most on %(day)s: %(n)s.")
                % {
                    "total": charts.number(found.total),
                    "day": date_format(busiest[0], "SHORT_DATE_FORMAT"),
                    "n": charts.number(busiest[1]),
                }
                if busiest is not None and found.total
                else _("No concerns in this period.")
            ),
        ),
        "groups": [
            (
                title,
                column,
                charts.bars(
                    [(b.name, b.count) for b in buckets], title=title, description=top(buckets)
                ),
                buckets,
            )
            for title, column, buckets in (
                (_("Concerns by category"), _("Category"), found.by_category),
                (_("Concerns by district"), _("District"), found.by_district),
                (_("Concerns by status"), _("Status"), found.by_status),
            )
        ],
    }


@staff("inbox.view_statistics")
def table_csv(request: HttpRequest) -> HttpResponse:
    found = _found(request)
    # The byte order mark lets spreadsheet programs read umlauts as UTF-8.
    response = HttpResponse(
        "\ufeff" + statistics.as_csv(found), content_type="text/csv; charset=utf-8"
    )
    name = f"anliegen-{found.days}-tage.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
