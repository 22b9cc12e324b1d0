"""The newsroom's figures page. Thin: the numbers come from figures.py (counters only), the
pictures from charts.py."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import dateformat, timezone
from django.utils.formats import date_format, get_format
from django.utils.translation import gettext as _

from stadtbote.broadcasts import costs
from stadtbote.dashboards import charts, figures
from stadtbote.dashboards.rollup import local_day
from stadtbote.lib.ids import parse_id
from stadtbote.newsroom.views import staff

TOP_EMOJI = 3  # per day in the table
CHART_EMOJI = 10  # bars in the chart by emoji; the table beside it has them all


def _range(request: HttpRequest) -> tuple[int, str | None]:
    raw = request.GET.get("tage", "90")
    days = parse_id(raw)
    if days is not None and days in figures.RANGES:
        return days, None
    choices = ", ".join(str(n) for n in figures.RANGES)
    return 90, _("The period must be one of %(choices)s days.") % {"choices": choices}


@staff()
def dashboard(request: HttpRequest) -> HttpResponse:
    days, error = _range(request)
    as_of = figures.as_of()
    today = local_day(timezone.now())
    series = figures.subscriber_days(today - timedelta(days=days - 1), today)
    signals = figures.signal_days(today - timedelta(days=days - 1), today)
    emoji = figures.by_emoji(signals)
    topics, districts = figures.audience()
    posts = figures.recent_posts()
    months = figures.cost_by_month(today)
    budget = float(settings.MONTHLY_BUDGET or 0)
    context: dict[str, object] = {
        "as_of": as_of,
        "days": days,
        "ranges": figures.RANGES,
        "error": error,
        "series": series,
        "day_rows": _day_rows(series),
        "signal_rows": _signal_rows(signals),
        "emoji": emoji,
        "reactions_total": sum(d.reactions for d in signals),
        "forwarded_total": sum(d.forwarded for d in signals),
        "topics": topics,
        "districts": districts,
        "posts": posts,
        "months": months,
        "budget": budget,
        "currency": costs.currency(),
    }
    if as_of is not None:
        context |= _charts(series, topics, districts, posts, months, budget)
        context |= _signal_charts(signals, emoji)
    return render(request, "dashboards/dashboard.html", context, status=400 if error else 200)


def _day_rows(series: list[figures.Day]) -> list[tuple[str, str, bool, str, str]]:
    """The daily table, newest first, formatted here: a year of rows through the template
    engine's filters would cost more than the rest of the page."""
    short = get_format("SHORT_DATE_FORMAT")
    number = charts.number_formatter()
    return [
        (
            dateformat.format(d.day, short),
            "–" if d.active is None else number(d.active),
            d.estimated and d.active is not None,
            number(d.joined),
            number(d.left),
        )
        for d in reversed(series)
    ]


def _signal_rows(signals: list[figures.SignalDay]) -> list[tuple[str, str, str, str]]:
    """The reactions table, newest first: day, reactions, the most given emoji, forwarded."""
    short = get_format("SHORT_DATE_FORMAT")
    number = charts.number_formatter()
    return [
        (
            dateformat.format(d.day, short),
            number(d.reactions),
            " · ".join(f"{e} {number(n)}" for e, n in list(d.by_emoji.items())[:TOP_EMOJI]) or "–",
            number(d.forwarded),
        )
        for d in reversed(signals)
    ]


def _signal_charts(
    signals: list[figures.SignalDay], emoji: list[tuple[str, int]]
) -> dict[str, object]:
    total = sum(d.reactions for d in signals)
    busiest = max(signals, key=lambda d: d.reactions, default=None)
    summary = (
        _("%(total)s in this period; most on %(day)s: %(n)s.")
        % {
            "total": charts.number(total),
            "day": date_format(busiest.day, "SHORT_DATE_FORMAT"),
            "n": charts.number(busiest.reactions),
        }
        if busiest is not None and total
        else _("No reactions in this period.")
    )
    shown = emoji[:CHART_EMOJI]
    return {
        "reactions_chart": charts.line(
            [(_label(d.day, i, len(signals)), d.reactions) for i, d in enumerate(signals)],
            title=_("Reactions in the chat per day"),
            description=summary,
        ),
        "emoji_chart": charts.bars(
            shown,
            title=_("Reactions in the chat by emoji"),
            description=(
                _("Most: %(name)s with %(n)s.")
                % {"name": shown[0][0], "n": charts.number(shown[0][1])}
                if shown
                else _("No reactions in this period.")
            ),
        ),
    }


def _charts(
    series: list[figures.Day],
    topics: list[figures.Share],
    districts: list[figures.Share],
    posts: list[figures.PostRow],
    months: list[figures.Month],
    budget: float,
) -> dict[str, object]:
    known = [d for d in series if d.active is not None]
    first, last = (known[0], known[-1]) if known else (None, None)
    summary = (
        _("From %(first)s on %(start)s to %(last)s on %(end)s.")
        % {
            "first": charts.number(first.active or 0),
            "start": date_format(first.day, "SHORT_DATE_FORMAT"),
            "last": charts.number(last.active or 0),
            "end": date_format(last.day, "SHORT_DATE_FORMAT"),
        }
        if first and last
        else _("No counts in this period yet.")
    )

    def top(shares: list[figures.Share]) -> str:
        best = max(shares, key=lambda s: s.active, default=None)
        if best is None:
            return _("Nothing chosen yet.")
        return _("Most: %(name)s with %(n)s.") % {
            "name": best.name,
            "n": charts.number(best.active),
        }

    opt_outs = [(row.post.title, row.figures.opt_outs_24h) for row in posts if row.figures]
    worst = max(opt_outs, key=lambda item: item[1], default=None)
    return {
        "subscribers_chart": charts.line(
            [(_label(d.day, i, len(series)), d.active) for i, d in enumerate(series)],
            title=_("Active subscribers over time"),
            description=summary,
        ),
        "topics_chart": charts.bars(
            [(s.name, s.active) for s in topics],
            title=_("Active subscribers by topic"),
            description=top(topics),
        ),
        "districts_chart": charts.bars(
            [(s.name, s.active) for s in districts],
            title=_("Active subscribers by district"),
            description=top(districts),
        ),
        "opt_outs_chart": charts.bars(
            opt_outs,
            title=_("Opt-outs in the 24 hours after each post"),
            description=(
                _("Most after “%(title)s”: %(n)s.")
                % {"title": worst[0], "n": charts.number(worst[1])}
                if worst
                else _("No post sent yet.")
            ),
        ),
        "cost_chart": charts.bars(
            [(date_format(m.month, "YEAR_MONTH_FORMAT"), float(m.cost)) for m in months],
            title=_("Cost per month"),
            description=_("%(total)s in the last twelve months.")
            % {"total": charts.number(float(sum(m.cost for m in months)))},
            reference=(_("Budget"), budget) if budget else None,
        ),
    }


def _label(day: date, i: int, count: int) -> str:
    """Only the first, middle and last day are written under the line: only they are
    formatted."""
    if i in (0, count // 2, count - 1):
        return date_format(day, "SHORT_DATE_FORMAT")
    return ""
