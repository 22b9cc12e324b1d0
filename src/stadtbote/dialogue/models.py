from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from stadtbote.channels.models import TrackedMessage
from stadtbote.subscribers.models import Subscriber


class Reply(TrackedMessage):
    """An answer in the chat, written in the same transaction as the event that caused it and
    sent afterwards (an outbox), so applying a webhook never waits on the network."""

    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("subscriber"),
    )
    # Only for the goodbye after an erasure, when no subscriber row is left to send to;
    # emptied once sent, and the row itself goes with the next retention run.
    recipient_encrypted = models.BinaryField(
        null=True, blank=True, verbose_name=_("recipient encrypted")
    )
    in_reply_to = models.CharField(max_length=128, blank=True, verbose_name=_("in reply to"))
    content = models.JSONField(verbose_name=_("content"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name_plural = _("replies")
        verbose_name = _("reply")
        indexes = [
            models.Index(fields=["id"], name="reply_queued_idx", condition=models.Q(state=0)),
        ]

    def __str__(self) -> str:
        return f"Reply {self.pk}"


class ReceivedMessage(models.Model):
    """Which citizen messages were handled, by platform id, so a message that reaches us twice
    (in two different webhook bodies) is answered once. Holds no text."""

    message_id = models.CharField(max_length=128, unique=True, verbose_name=_("message id"))
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="+", verbose_name=_("subscriber")
    )
    received_at = models.DateTimeField(verbose_name=_("received at"))
    # WhatsApp marked it as forwarded: a citizen passed something on to the city, often one
    # of its posts. Counted per day for the figures (dashboards.rollup); no content is kept.
    forwarded = models.BooleanField(_("forwarded"), default=False)

    class Meta:
        verbose_name = _("received message")
        verbose_name_plural = _("received messages")
        indexes = [
            models.Index(
                fields=["received_at"],
                name="received_forwarded_idx",
                condition=models.Q(forwarded=True),
            ),
        ]

    def __str__(self) -> str:
        return self.message_id
