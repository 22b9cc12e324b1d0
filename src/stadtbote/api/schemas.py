from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field, field_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class In(Schema):
    """What a client sends. A NUL character in any field is refused here (422): PostgreSQL
    cannot store one, and no name, slug or text of ours contains one. (Fields the schema does
    not know are ignored anyway.)"""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("a NUL character is not allowed")
        return value


class PostIn(In):
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=4096)
    topics: list[str] = Field(default_factory=list, description="topic slugs; empty: everybody")
    districts: list[str] = Field(default_factory=list, description="district slugs; empty: city")
    template: str | None = Field(
        default=None, description="template name for those outside the 24-hour window"
    )
    urgent: bool = Field(default=False, description="goes before everything else")
    publish_at: datetime | None = Field(default=None, description="send at this time, not at once")
    language: str = Field(default="", max_length=5, description="'de', 'en'; empty: everybody")
    link: str = Field(default="", max_length=2000, description="shown with a preview")
    share_footer: bool = Field(default=True, description="add the subscribe link for sharing")
    on_website: bool = Field(default=True, description="shown in the public archive once sent")


class PostUpdateIn(In):
    """Only the fields given change; a draft only."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    text: str | None = Field(default=None, min_length=1, max_length=4096)
    topics: list[str] | None = None
    districts: list[str] | None = None
    template: str | None = None
    urgent: bool | None = None
    publish_at: datetime | None = None
    language: str | None = Field(default=None, max_length=5)
    link: str | None = Field(default=None, max_length=2000)
    share_footer: bool | None = None
    on_website: bool | None = None


class ScheduleIn(In):
    publish_at: datetime | None = Field(description="in the future; null: at approval, at once")


class AudienceIn(In):
    topics: list[str] = Field(default_factory=list, description="topic slugs; empty: everybody")
    districts: list[str] = Field(default_factory=list, description="district slugs; empty: city")
    language: str = Field(default="", max_length=5)
    template: str | None = Field(default=None, description="the template for those outside")


class SubscriberNumbersOut(Schema):
    """Aggregates only: no person appears."""

    active: int
    by_status: dict[str, int]
    by_topic: dict[str, int]
    by_district: dict[str, int]
    by_language: dict[str, int]


class TemplateOut(Schema):
    name: str
    language: str
    category: str
    status: str
    status_reason: str
    body: str


class ApprovalIn(In):
    reason: str = Field(default="", max_length=300, description="needed to send alone (urgent)")


class RejectionIn(In):
    comment: str = Field(default="", max_length=500)


class PostOut(Schema):
    id: int
    title: str
    text: str
    status: str
    urgent: bool
    publish_at: datetime | None
    review_comment: str
    template: str | None
    topics: list[str]
    districts: list[str]
    created_at: datetime
    send_started_at: datetime | None
    sent_at: datetime | None
    language: str
    link: str
    share_footer: bool
    on_website: bool
    has_image: bool
    estimated_cost: Decimal | None

    @staticmethod
    def resolve_has_image(post: Any) -> bool:
        return bool(post.image)

    @staticmethod
    def resolve_template(post: Any) -> str | None:
        return post.template.name if post.template else None

    @staticmethod
    def resolve_topics(post: Any) -> list[str]:
        return [t.slug for t in post.topics.all()]

    @staticmethod
    def resolve_districts(post: Any) -> list[str]:
        return [d.slug for d in post.districts.all()]


class DeliveryCounts(Schema):
    total: int
    queued: int
    sending: int
    accepted: int
    sent: int
    delivered: int
    read: int
    failed: int


class Problem(Schema):
    detail: str


class PreviewOut(Schema):
    """The post exactly as it goes out: inside the 24-hour window as a free message (with
    image and link), outside it as the template's text."""

    text: str
    html: str
    image_url: str | None
    template_text: str | None
    template_html: str | None
    channel_copy: str


class BudgetOut(Schema):
    monthly: Decimal
    spent: Decimal
    committed: Decimal
    blocking: bool
    warning: str | None


class AudienceOut(Schema):
    recipients: int
    free: int
    charged: int
    estimated_cost: Decimal
    currency: str
    budget: BudgetOut


class FunnelOut(Schema):
    total: int
    queued: int
    held: int
    sending: int
    sent: int
    delivered: int
    read: int
    failed: int
    held_by_reason: dict[str, int]
    failed_by_reason: dict[str, int]
    progress: float
    eta: datetime | None
    actual_cost: Decimal
    currency: str
    subscriptions_brought: int
    opt_outs_24h: int = Field(description="opt-outs city-wide in the 24 hours after it started")


class ChannelPostingIn(In):
    posted_at: datetime | None = None


class ChannelCountsIn(In):
    followers: int | None = Field(default=None, ge=0)
    reactions: int | None = Field(default=None, ge=0)


class ChannelOut(Schema):
    copy_text: str
    posted: bool
    posted_at: datetime | None
    followers: int | None
    reactions: int | None
    counts_updated_at: datetime | None


class SeriesQuery(In):
    from_: date | None = Field(None, alias="from", description="first day (default: 89 days ago)")
    to: date | None = Field(None, description="last day (default: today)")


class SubscriberDayOut(Schema):
    day: date
    active: int | None = Field(description="active subscribers; null before any count")
    estimated: bool = Field(description="derived backwards from the ledger, not counted that day")
    joined: int
    left: int


class SubscriberSeriesOut(Schema):
    as_of: datetime | None = Field(description="when the counters were last brought up to date")
    days: list[SubscriberDayOut]


class PostFiguresOut(Schema):
    id: int
    title: str
    send_started_at: datetime | None
    counted: bool = Field(description="false until the first count after sending started")
    total: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    failed_by_reason: dict[str, int] = {}
    opt_outs_24h: int = 0
    opt_outs_final: bool = False
    actual_cost: Decimal = Decimal(0)
    reactions: dict[str, int] = Field(
        {},
        description="current emoji reactions in the chat, per emoji, most frequent first",
    )
    channel_reactions: int | None = Field(
        None, description="reactions in the WhatsApp Channel, as typed in by staff"
    )


class PostStatsOut(Schema):
    as_of: datetime | None
    posts: list[PostFiguresOut]


class AnswerCountOut(Schema):
    label: str
    votes: int
    share: float = Field(description="of the voters, 0–1; with several answers the sum is more")


class DistrictResultsOut(Schema):
    name: str
    voters: int
    answers: list[AnswerCountOut]


class PollResultsOut(Schema):
    """A poll's results as they stand: aggregates only, never who voted what."""

    post_id: int
    title: str
    question: str
    multiple: bool = Field(description="several answers allowed")
    is_open: bool
    closes_at: datetime | None = Field(description="when votes stop counting; null: open")
    answers: list[AnswerCountOut]
    voters: int
    reached: int = Field(description="subscribers the poll reached (sent and not failed)")
    participation: float | None = Field(description="voters / reached; null before any")
    rejected: int = Field(description="taps that were not this poll's or not from a recipient")
    late: int = Field(description="taps after closing")
    by_district: list[DistrictResultsOut] = Field(
        description="per target district, when the poll went to districts; else empty"
    )


class CategoryCountOut(Schema):
    service_code: str
    name: str
    count: int


class DistrictCountOut(Schema):
    slug: str | None = Field(description="null: concerns without a district")
    name: str
    count: int


class StatusCountOut(Schema):
    status: str = Field(description="new, in_progress, waiting or resolved")
    count: int


class DayCountOut(Schema):
    day: date
    count: int


class DurationOut(Schema):
    count: int = Field(description="how many were measured")
    median: float | None = Field(description="hours; null when nothing was measured")
    p90: float | None = Field(description="90th percentile in hours")


class ResponseTimesOut(Schema):
    conversations: DurationOut
    concerns: DurationOut


class ConcernStatsOut(Schema):
    days: int
    since: datetime = Field(description="start of the first day (the city's time zone)")
    until: datetime
    total: int = Field(description="concerns created in the period")
    by_category: list[CategoryCountOut]
    by_district: list[DistrictCountOut]
    by_status: list[StatusCountOut]
    per_day: list[DayCountOut]
    response_hours: ResponseTimesOut = Field(description="created until first answer")
    resolution_hours: DurationOut = Field(description="created until resolved")
    open_concerns: int = Field(description="now, whenever created")
    open_conversations: int
    overdue_conversations: int = Field(description="waiting for an answer longer than allowed")
    overdue_concerns: int = Field(description="open, never answered, older than allowed")
