from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class PostIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=4096)
    topics: list[str] = Field(default_factory=list, description="topic slugs; empty: everybody")
    districts: list[str] = Field(default_factory=list, description="district slugs; empty: city")
    template: str | None = Field(
        default=None, description="template name for those outside the 24-hour window"
    )
    urgent: bool = Field(default=False, description="goes before everything else")
    publish_at: datetime | None = Field(default=None, description="send at this time, not at once")


class ApprovalIn(Schema):
    reason: str = Field(default="", max_length=300, description="needed to send alone (urgent)")


class RejectionIn(Schema):
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
