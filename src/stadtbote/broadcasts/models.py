from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from stadtbote.channels.models import TrackedMessage
from stadtbote.subscribers.models import District, Subscriber, Topic

MAX_TEXT = 4096  # WhatsApp's limit for a text message body


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")

    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), max_length=MAX_TEXT)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # The audience: empty means everybody; see actions._fan_out for how choices match.
    topics: models.ManyToManyField[Topic, Any] = models.ManyToManyField(
        Topic, blank=True, related_name="posts", verbose_name=_("topics")
    )
    districts: models.ManyToManyField[District, Any] = models.ManyToManyField(
        District, blank=True, related_name="posts", verbose_name=_("districts")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.title


class Delivery(TrackedMessage):
    """One post to one subscriber. Unique per pair: the guarantee that nobody gets a post twice
    starts here."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="deliveries")
    # Emptied when the subscriber is erased: the row stays, anonymous, for the post's counts.
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["post", "subscriber"], name="delivery_once"),
        ]
        indexes = [
            models.Index(fields=["post", "state"], name="delivery_post_state_idx"),
            models.Index(fields=["id"], name="delivery_queued_idx", condition=models.Q(state=0)),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk}"
