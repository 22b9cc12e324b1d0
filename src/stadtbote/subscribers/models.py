from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NoReturn

from django.db import models
from django.utils.translation import gettext_lazy as _

from stadtbote.lib import crypto

SERVICE_WINDOW = timedelta(hours=23, minutes=50)


class Subscriber(models.Model):
    """A citizen who wrote to the city's number. The phone number is stored encrypted and is
    found through a keyed hash; it is decrypted only to send."""

    class Status(models.TextChoices):
        CONTACT = "contact", _("wrote, not subscribed")
        PENDING = "pending", _("waiting for confirmation")
        ACTIVE = "active", _("subscribed")
        UNSUBSCRIBED = "unsubscribed", _("unsubscribed")

    class Language(models.TextChoices):
        GERMAN = "de", "Deutsch"
        ENGLISH = "en", "English"

    phone_index = models.CharField(max_length=64, unique=True, verbose_name=_("phone index"))
    phone_encrypted = models.BinaryField(verbose_name=_("phone encrypted"))
    # Meta's business-scoped user id (2026): stays when a user hides the number behind a name.
    bsuid = models.CharField(
        max_length=64, null=True, blank=True, unique=True, verbose_name=_("business-scoped user ID")
    )
    status = models.CharField(
        max_length=15, choices=Status.choices, default=Status.CONTACT, verbose_name=_("status")
    )
    language = models.CharField(
        max_length=5, choices=Language.choices, default=Language.GERMAN, verbose_name=_("language")
    )
    topics: models.ManyToManyField[Topic, Any] = models.ManyToManyField(
        "Topic", blank=True, related_name="subscribers", verbose_name=_("topics")
    )
    districts: models.ManyToManyField[District, Any] = models.ManyToManyField(
        "District", blank=True, related_name="subscribers", verbose_name=_("districts")
    )
    paused_until = models.DateTimeField(null=True, blank=True, verbose_name=_("paused until"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    requested_at = models.DateTimeField(null=True, blank=True, verbose_name=_("requested at"))
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed at"))
    unsubscribed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("unsubscribed at"))
    # When the citizen wrote the message that last changed the subscription. A late, older
    # "Start" must not undo a newer "Stop": decisions follow the citizen's own timeline.
    consent_changed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("consent changed at")
    )
    last_inbound_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last inbound at"))
    # WhatsApp's own "stop marketing messages" control (user_preferences webhook).
    marketing_stopped = models.BooleanField(default=False, verbose_name=_("marketing stopped"))
    # Meta's code for why this number cannot be reached (131026 not on WhatsApp, 131050 …).
    unreachable_code = models.IntegerField(
        null=True, blank=True, verbose_name=_("unreachable code")
    )
    unreachable_since = models.DateTimeField(
        null=True, blank=True, verbose_name=_("unreachable since")
    )
    # ISO country of the number (for Meta's price per country), not personal on its own.
    country = models.CharField(
        max_length=2, default="DE", db_default="DE", verbose_name=_("country")
    )
    # The post whose sharing link brought this citizen ("Start p123"); counted on confirmation.
    referred_by_post = models.IntegerField(
        null=True, blank=True, verbose_name=_("referred by post")
    )

    class Meta:
        verbose_name_plural = _("subscribers")
        verbose_name = _("subscriber")
        indexes = [models.Index(fields=["status"], name="subscriber_status_idx")]
        permissions = [("view_phone_number", "Can see subscribers' phone numbers")]

    def __str__(self) -> str:
        return f"Subscriber {self.pk} ({self.status})"

    @property
    def phone(self) -> str:
        return crypto.decrypt(bytes(self.phone_encrypted))

    def window_open(self, now: datetime) -> bool:
        """Inside WhatsApp's 24-hour customer-service window, with ten minutes to spare for
        the time a send takes: free-form messages are allowed only then."""
        return self.last_inbound_at is not None and now - self.last_inbound_at < SERVICE_WINDOW

    def why_not_to_send(self, now: datetime) -> str | None:
        """The reason a post must not go to this subscriber now, or None. Checked at send
        time too, because a Stop or a pause can come after the post was queued."""
        if self.status != self.Status.ACTIVE:
            return "unsubscribed"
        if self.paused_until is not None and self.paused_until > now:
            return "paused"
        if self.unreachable_code is not None:
            return f"unreachable ({self.unreachable_code})"
        if self.marketing_stopped:
            return "stopped marketing messages in WhatsApp"
        return None


class AppendOnlyQuerySet(models.QuerySet["ConsentEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("the consent ledger is append-only")

    def delete(self) -> NoReturn:
        raise PermissionError("the consent ledger is append-only")


class ConsentEvent(models.Model):
    """One line of the consent ledger: who (pseudonymous), what, when, through which channel,
    with the exact wording shown and the privacy-notice version. Never changed, never deleted
    (guarded here and by database triggers, see migration 0002)."""

    class Action(models.TextChoices):
        REQUESTED = "requested", _("asked to subscribe")
        CONFIRMED = "confirmed", _("confirmed the subscription (opt-in)")
        WITHDRAWN = "withdrawn", _("unsubscribed (opt-out)")
        EXPIRED = "expired", _("request expired unconfirmed")
        IMPORTED = "imported", _("imported with consent proof from a previous provider")
        ERASED = "erased", _("personal data erased")

    # The subscriber's phone index, not a foreign key: erasing a subscriber must not have to
    # touch the ledger, and the ledger alone must not name anyone.
    subscriber_ref = models.CharField(
        max_length=64, db_index=True, verbose_name=_("subscriber ref")
    )
    action = models.CharField(max_length=10, choices=Action.choices, verbose_name=_("action"))
    channel = models.CharField(
        max_length=20, default="whatsapp", verbose_name=_("channel")
    )  # or "import", "staff"
    wording = models.TextField(verbose_name=_("wording"))
    notice_version = models.CharField(max_length=20, verbose_name=_("notice version"))
    source_message_id = models.CharField(
        max_length=128, blank=True, verbose_name=_("source message id")
    )
    # "post:123" when a shared post's subscribe link brought the citizen.
    referral = models.CharField(
        max_length=20, blank=True, db_default="", verbose_name=_("referral")
    )
    occurred_at = models.DateTimeField(auto_now_add=True, verbose_name=_("occurred at"))

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        # How many opted out in a window (after a post, per day) is counted from here.
        verbose_name_plural = _("consent events")
        verbose_name = _("consent event")
        indexes = [
            models.Index(fields=["action", "occurred_at"], name="consent_action_time_idx"),
            # How many consents recorded each privacy-notice version (the notice's history):
            # the count reads this index alone, not the ledger's rows with their wording.
            models.Index(fields=["action", "notice_version"], name="consent_notice_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} at {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("the consent ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("the consent ledger is append-only")


class Topic(models.Model):
    """What a post is about (Baustellen & Verkehr, Veranstaltungen, …); citizens choose topics."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(unique=True, verbose_name=_("slug"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    opt_in_only = models.BooleanField(
        _("only for those who chose it"),
        default=False,
        help_text=_("Subscribers who chose no topics do not get posts of this topic."),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name_plural = _("topics")
        verbose_name = _("topic")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """A part of the city (Stadtteil); citizens choose districts to hear about."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(unique=True, verbose_name=_("slug"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name_plural = _("districts")
        verbose_name = _("district")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name
