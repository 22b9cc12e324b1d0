from __future__ import annotations

from django.db import models

from stadtbote.channels.models import TrackedMessage
from stadtbote.subscribers.models import Subscriber


class Reply(TrackedMessage):
    """An answer in the chat, written in the same transaction as the event that caused it and
    sent afterwards (an outbox), so applying a webhook never waits on the network."""

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    # Only for the goodbye after an erasure, when no subscriber row is left to send to;
    # emptied once sent, and the row itself goes with the next retention run.
    recipient_encrypted = models.BinaryField(null=True, blank=True)
    in_reply_to = models.CharField(max_length=128, blank=True)
    content = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["id"], name="reply_queued_idx", condition=models.Q(state=0)),
        ]

    def __str__(self) -> str:
        return f"Reply {self.pk}"


class ReceivedMessage(models.Model):
    """Which citizen messages were handled, by platform id, so a message that reaches us twice
    (in two different webhook bodies) is answered once. Holds no text."""

    message_id = models.CharField(max_length=128, unique=True)
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.message_id
