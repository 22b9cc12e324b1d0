"""Helpers for the reaction tests: a post that went out to some subscribers, and a citizen's
emoji on a message, sent through the signed webhook and applied as the worker does."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.models import SendState
from stadtbote.dialogue import tasks
from tests.helpers import compact, envelope, post_webhook, wamid


def sent_post(author: Any, people: list[Any], *, title: str = "Stadtfest", **fields: Any) -> Post:
    """A post sent two hours ago, read by each of `people`; its messages' ids are
    message_id(post, i)."""
    now = timezone.now()
    post = Post.objects.create(
        title=title,
        text="Am Samstag ist Stadtfest.",
        author=author,
        status=Post.Status.SENT,
        send_started_at=now - timedelta(hours=2),
        sent_at=now - timedelta(hours=2) + timedelta(minutes=5),
        **fields,
    )
    for i, subscriber in enumerate(people):
        Delivery.objects.create(
            post=post, subscriber=subscriber, state=SendState.READ, message_id=message_id(post, i)
        )
    return post


def message_id(post: Post, i: int) -> str:
    return f"wamid.REACT{post.pk}.{i}"


def reaction_body(
    sender: str, target: str, emoji: str | None, *, at: int | None = None, own_id: str | None = None
) -> bytes:
    """Meta's reaction message; emoji None leaves the key out (taken back), as Meta may."""
    reaction: dict[str, Any] = {"message_id": target}
    if emoji is not None:
        reaction["emoji"] = emoji
    message = {
        "from": sender,
        "id": own_id or wamid(),
        "timestamp": str(at if at is not None else int(time.time())),
        "type": "reaction",
        "reaction": reaction,
    }
    return compact(
        envelope(
            {"contacts": [{"profile": {"name": "Test"}, "wa_id": sender}], "messages": [message]}
        )
    )


def deliver(body: bytes) -> None:
    """Through the webhook, then applied by the worker's step."""
    assert post_webhook(Client(), body).status_code == 200
    while tasks.apply_inbound_once():
        pass


def react(
    sender: str, target: str, emoji: str | None, *, at: int | None = None, own_id: str | None = None
) -> bytes:
    body = reaction_body(sender, target, emoji, at=at, own_id=own_id)
    deliver(body)
    return body
