from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class PostIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=4096)


class PostOut(Schema):
    id: int
    title: str
    text: str
    status: str
    created_at: datetime
    send_started_at: datetime | None
    sent_at: datetime | None


class SendOut(Schema):
    id: int
    status: str
    queued: int


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
