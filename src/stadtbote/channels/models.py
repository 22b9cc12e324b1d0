from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class InboundWebhook(models.Model):
    """A webhook body exactly as received, stored before it is acknowledged.

    Unique by content hash so that Meta's retries of the same bytes are stored once. The worker
    applies each row once, inside the transaction that marks it applied.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        APPLIED = "applied", _("applied")
        MALFORMED = "malformed", _("malformed")
        FAILED = "failed", _("failed")  # well-formed, but applying it raised; kept to inspect

    channel = models.CharField(max_length=20, default="whatsapp", verbose_name=_("channel"))
    body = models.BinaryField(verbose_name=_("body"))
    content_hash = models.CharField(max_length=64, unique=True, verbose_name=_("content hash"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, verbose_name=_("state")
    )
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))
    error = models.TextField(blank=True, verbose_name=_("error"))

    class Meta:
        verbose_name_plural = _("inbound webhooks")
        verbose_name = _("inbound webhook")
        indexes = [
            models.Index(
                fields=["id"],
                name="inbound_pending_idx",
                condition=models.Q(state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"Webhook {self.pk} ({self.state})"


class StatusEvent(models.Model):
    """Every status Meta reported for a message we sent, once per (message, status).

    Kept separately from the message rows because a status can arrive before the sender has
    recorded the message id; the sender applies the statuses already known after recording it.
    """

    message_id = models.CharField(max_length=128, verbose_name=_("message id"))
    status = models.CharField(max_length=10, verbose_name=_("status"))
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    error_code = models.IntegerField(null=True, blank=True, verbose_name=_("error code"))
    error_title = models.CharField(max_length=200, blank=True, verbose_name=_("error title"))
    pricing_category = models.CharField(
        max_length=40, blank=True, verbose_name=_("pricing category")
    )
    billable = models.BooleanField(null=True, verbose_name=_("billable"))
    recorded_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("recorded at")
    )

    class Meta:
        verbose_name_plural = _("status events")
        verbose_name = _("status event")
        constraints = [
            models.UniqueConstraint(fields=["message_id", "status"], name="status_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} {self.status}"


class SendState(models.IntegerChoices):
    """Ordered: a message only ever moves to a higher state (a late `delivered` after `read`
    changes nothing). FAILED is last because nothing follows a failure."""

    QUEUED = 0, _("queued")
    HELD = 5, _("held (quiet hours, daily cap or Meta's daily limit)")
    SENDING = 10, _("sending")
    ACCEPTED = 15, _("accepted by the platform")
    SENT = 20, _("sent")
    DELIVERED = 30, _("delivered")
    READ = 40, _("read")
    FAILED = 50, _("failed")


class TrackedMessage(models.Model):
    """Fields shared by everything Stadtbote sends and follows up through status events."""

    state = models.PositiveSmallIntegerField(
        choices=SendState.choices, default=SendState.QUEUED, verbose_name=_("state")
    )
    message_id = models.CharField(
        max_length=128, null=True, blank=True, unique=True, verbose_name=_("message id")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    last_error = models.CharField(max_length=200, blank=True, verbose_name=_("last error"))
    error_code = models.IntegerField(null=True, blank=True, verbose_name=_("error code"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))
    failed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("failed at"))
    # When Meta accepted it, and whether as a template: what the daily cap per subscriber and
    # Meta's daily limit of unique users outside the window are counted from.
    dispatched_at = models.DateTimeField(null=True, blank=True, verbose_name=_("dispatched at"))
    via_template = models.BooleanField(
        default=False, db_default=False, verbose_name=_("via template")
    )
    # Meta's pricing category when the status webhook says the message is billable.
    billed_category = models.CharField(
        max_length=40, blank=True, db_default="", verbose_name=_("billed category")
    )

    class Meta:
        abstract = True
