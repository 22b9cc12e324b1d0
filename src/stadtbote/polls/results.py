"""Poll results: always counted from the current votes (so an erased subscriber's vote is
gone from them at once), aggregates only; nobody's vote is ever shown."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.models import SendState
from stadtbote.dashboards.models import PostFigures
from stadtbote.polls.models import IgnoredTap, Poll, Vote
from stadtbote.subscribers.models import District

# Handed to WhatsApp and not failed: the people who could vote.
REACHED = [SendState.ACCEPTED, SendState.SENT, SendState.DELIVERED, SendState.READ]


@dataclass(frozen=True)
class AnswerCount:
    label: str
    votes: int
    share: float  # of the voters; with several answers allowed the shares add up to more


@dataclass(frozen=True)
class DistrictCounts:
    name: str
    voters: int
    options: list[AnswerCount]


@dataclass(frozen=True)
class Results:
    poll_id: int
    multiple: bool
    options: list[AnswerCount]
    voters: int
    reached: int  # the poll went out to them and did not fail
    rejected: int
    late: int
    closes_at: datetime | None
    is_open: bool
    by_district: list[DistrictCounts]

    @property
    def participation(self) -> float | None:
        return self.voters / self.reached if self.reached else None

    @property
    def leader(self) -> AnswerCount | None:
        best = max(self.options, key=lambda o: o.votes, default=None)
        return best if best is not None and best.votes else None


def _share(votes: int, voters: int) -> float:
    return votes / voters if voters else 0.0


def results(poll: Poll) -> Results:
    """Six small queries, each answered from an index, whatever the number of votes."""
    options = list(poll.options.values_list("pk", "label"))
    counted: dict[tuple[int, int | None], int] = {
        (option, district): n
        for option, district, n in Vote.objects.filter(poll=poll)
        .values_list("option", "district")
        .annotate(n=Count("id"))
        .values_list("option", "district", "n")
    }
    per_option: dict[int, int] = defaultdict(int)
    for (option, _district), n in counted.items():
        per_option[option] += n
    voted = voters(poll)
    reached = _reached(poll)
    ignored = dict(
        IgnoredTap.objects.filter(poll=poll)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    return Results(
        poll_id=poll.pk,
        multiple=poll.multiple,
        options=[
            AnswerCount(label, per_option[pk], _share(per_option[pk], voted))
            for pk, label in options
        ],
        voters=voted,
        reached=reached,
        rejected=ignored.get(IgnoredTap.Kind.REJECTED, 0),
        late=ignored.get(IgnoredTap.Kind.LATE, 0),
        closes_at=poll.closing_time(),
        # A cancelled poll's taps no longer count either (polls.voting).
        is_open=poll.is_open(timezone.now()) and poll.post.status != Post.Status.CANCELLED,
        by_district=_by_district(poll, options, counted),
    )


def _reached(poll: Poll) -> int:
    """From the post's figures (recounted every minute while it is sent, and when statuses
    arrive) where they exist: counting 100,000 deliveries on every refresh of the results
    page would cost more than the rest of the results together (docs/benchmarks.md, 10)."""
    # The funnel's "sent" counts everything that reached Meta and did not fail.
    sent: int | None = (
        PostFigures.objects.filter(post_id=poll.post_id).values_list("sent", flat=True).first()
    )
    if sent is not None:
        return sent
    return Delivery.objects.filter(post_id=poll.post_id, state__in=REACHED).count()


def voters(poll: Poll) -> int:
    """How many people voted (with several answers allowed, each once)."""
    if poll.anonymised_at is not None:
        return int(poll.frozen_voters.get("all", 0))
    votes = Vote.objects.filter(poll=poll)
    return votes.values("subscriber").distinct().count() if poll.multiple else votes.count()


def voters_by_district(poll: Poll) -> dict[int, int]:
    """Distinct voters per district (the district recorded with each vote)."""
    if poll.anonymised_at is not None:
        return {int(k): int(v) for k, v in poll.frozen_voters.items() if k != "all"}
    return dict(
        Vote.objects.filter(poll=poll, district__isnull=False)
        .values_list("district")
        .annotate(n=Count("subscriber", distinct=True))
        .values_list("district", "n")
    )


def _by_district(
    poll: Poll, options: list[tuple[int, str]], counted: dict[tuple[int, int | None], int]
) -> list[DistrictCounts]:
    """Only when the poll went to chosen districts: one row per target district."""
    targets = list(
        District.objects.filter(pk__in=poll.post.districts.values("pk"))
        .order_by("position", "name")
        .values_list("pk", "name")
    )
    if not targets:
        return []
    voters = voters_by_district(poll)
    rows = []
    for district, name in targets:
        n = voters.get(district, 0)
        rows.append(
            DistrictCounts(
                name=name,
                voters=n,
                options=[
                    AnswerCount(
                        label,
                        counted.get((pk, district), 0),
                        _share(counted.get((pk, district), 0), n),
                    )
                    for pk, label in options
                ],
            )
        )
    return rows


def _cell(text: str) -> str:
    # A spreadsheet runs a cell that starts like a formula; an answer "=HYPERLINK(…)" must
    # stay text (OWASP's advice: a leading apostrophe).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_csv(found: Results, title: str) -> str:
    """One line per answer, then one per district and answer; shares as decimals (0.25) so a
    spreadsheet in any language reads them."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["poll", "district", "answer", "votes", "share_of_voters"])
    title = _cell(title)
    for option in found.options:
        writer.writerow([title, "", _cell(option.label), option.votes, f"{option.share:.4f}"])
    for district in found.by_district:
        for option in district.options:
            writer.writerow(
                [
                    title,
                    _cell(district.name),
                    _cell(option.label),
                    option.votes,
                    f"{option.share:.4f}",
                ]
            )
    writer.writerow([title, "", "(voters)", found.voters, ""])
    writer.writerow([title, "", "(reached)", found.reached, ""])
    return out.getvalue()
