from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from stadtbote.channels.models import TrackedMessage
from stadtbote.subscribers.models import District, Subscriber, Topic

MAX_TEXT = 4096  # WhatsApp's limit for a text message body


class Template(models.Model):
    """A WhatsApp message template, registered with Meta per language. Outside a citizen's
    24-hour service window only an approved template may be sent; a post's text goes into
    its variable {{1}} (and the title into {{2}} where the template has one)."""

    class Category(models.TextChoices):
        MARKETING = "MARKETING", _("marketing")
        UTILITY = "UTILITY", _("utility")

    class Status(models.TextChoices):
        DRAFT = "DRAFT", _("not yet submitted")
        PENDING = "PENDING", _("in review at Meta")
        APPROVED = "APPROVED", _("approved")
        REJECTED = "REJECTED", _("rejected")
        PAUSED = "PAUSED", _("paused by Meta")
        DISABLED = "DISABLED", _("disabled by Meta")

    name = models.SlugField(_("name"), max_length=512, help_text=_("lower case, digits and _"))
    language = models.CharField(_("language"), max_length=10, default="de")
    category = models.CharField(
        max_length=10,
        choices=Category.choices,
        default=Category.MARKETING,
        verbose_name=_("category"),
    )
    body = models.TextField(_("text"), max_length=1024)
    # Quick-reply button texts, in order; a poll's template has them ("Abstimmen", or the
    # poll's own answers such as "Ja"/"Nein"). A post's template has none.
    buttons = models.JSONField(_("quick-reply buttons"), default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status")
    )
    meta_id = models.CharField(max_length=64, blank=True, verbose_name=_("Meta ID"))
    status_reason = models.CharField(max_length=100, blank=True, verbose_name=_("status reason"))
    synced_at = models.DateTimeField(null=True, blank=True, verbose_name=_("synced at"))

    class Meta:
        verbose_name_plural = _("templates")
        verbose_name = _("template")
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="template_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.APPROVED


class Post(models.Model):
    """draft → submitted → approved → scheduled or sending → sent; paused and cancelled while
    sending. Four eyes: the approver is not the author, except for urgent posts by someone
    allowed to send alone, who must give a reason."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("waiting for approval")
        SCHEDULED = "scheduled", _("scheduled")
        SENDING = "sending", _("sending")
        PAUSED = "paused", _("paused")
        SENT = "sent", _("sent")
        CANCELLED = "cancelled", _("cancelled")

    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), max_length=MAX_TEXT)
    # With an image the text becomes its caption (WhatsApp: at most 1,024 characters).
    image = models.ImageField(_("image"), upload_to="posts/%Y/%m/", null=True, blank=True)
    link = models.URLField(
        _("link"), blank=True, help_text=_("Shown with a preview under the text.")
    )
    # Empty: every language. Otherwise only subscribers who chose this language.
    language = models.CharField(_("language"), max_length=5, blank=True)
    share_footer = models.BooleanField(
        _("sharing footer"),
        default=True,
        help_text=_("Adds the subscribe link, so a forwarded post can recruit subscribers."),
    )
    # Coburg: "everything also on the city website". Unticked, a post stays out of the public
    # archive, its feeds and the widget (e.g. a test, or a warning for one street only).
    on_website = models.BooleanField(
        _("on the website"),
        default=True,
        db_default=True,
        help_text=_("Shown in the public archive and its feeds once it is sent."),
    )
    estimated_cost = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True, verbose_name=_("estimated cost")
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status")
    )
    # The audience: empty means everybody; see actions._fan_out for how choices match.
    topics: models.ManyToManyField[Topic, Any] = models.ManyToManyField(
        Topic, blank=True, related_name="posts", verbose_name=_("topics")
    )
    districts: models.ManyToManyField[District, Any] = models.ManyToManyField(
        District, blank=True, related_name="posts", verbose_name=_("districts")
    )
    # Sent to those whose 24-hour window is closed; without it they are left out.
    template = models.ForeignKey(
        Template,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("template"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="posts",
        verbose_name=_("author"),
    )
    urgent = models.BooleanField(
        _("urgent"), default=False, help_text=_("Goes before everything else.")
    )
    urgent_reason = models.CharField(_("reason for sending alone"), max_length=300, blank=True)
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    submitted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("submitted at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approved_posts",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("approved at"))
    review_comment = models.CharField(max_length=500, blank=True, verbose_name=_("review comment"))
    send_started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("send started at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))

    class Meta:
        verbose_name_plural = _("posts")
        verbose_name = _("post")
        permissions = [
            ("approve_post", "Can approve posts written by others"),
            ("send_urgent_alone", "Can send urgent posts without a second person"),
        ]

    def __str__(self) -> str:
        return self.title


class Delivery(TrackedMessage):
    """One post to one subscriber. Unique per pair: the guarantee that nobody gets a post twice
    starts here."""

    # No index of its own: delivery_once and delivery_post_state_idx both begin with the post,
    # and one index fewer to maintain is about a seventh of a million-row fan-out.
    post = models.ForeignKey(
        Post,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        verbose_name=_("post"),
    )
    # Emptied when the subscriber is erased: the row stays, anonymous, for the post's counts.
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("subscriber"),
    )
    queued_at = models.DateTimeField(auto_now_add=True, verbose_name=_("queued at"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["post", "subscriber"], name="delivery_once"),
        ]
        indexes = [
            models.Index(fields=["post", "state"], name="delivery_post_state_idx"),
            models.Index(
                fields=["id"], name="delivery_waiting_idx", condition=models.Q(state__in=[0, 5])
            ),
            # Stale claims (a killed worker's) are found without reading the whole table.
            models.Index(
                fields=["claimed_at"], name="delivery_claimed_idx", condition=models.Q(state=10)
            ),
            # What a subscriber already got today (the daily cap); what went out in the last
            # 24 hours (Meta's limit) and the last minute (the pace). Partial: the fan-out
            # inserts rows without a dispatch time and does not pay for these.
            models.Index(
                fields=["subscriber", "dispatched_at"],
                name="delivery_daily_idx",
                condition=models.Q(dispatched_at__isnull=False),
            ),
            models.Index(
                fields=["dispatched_at"],
                name="delivery_dispatched_idx",
                condition=models.Q(dispatched_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk}"


class ChannelPosting(models.Model):
    """The post on the city's WhatsApp Channel. Channels have no API: staff copy the rendered
    text, post it by hand, record that here and type in the counts the Channel shows."""

    post = models.OneToOneField(
        Post, on_delete=models.CASCADE, related_name="channel_posting", verbose_name=_("post")
    )
    posted_at = models.DateTimeField(verbose_name=_("posted at"))
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("posted by"),
    )
    followers = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("followers"))
    reactions = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("reactions"))
    counts_updated_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("counts updated at")
    )

    class Meta:
        verbose_name = _("channel posting")
        verbose_name_plural = _("channel postings")

    def __str__(self) -> str:
        return f"Channel posting of {self.post_id}"


class Price(models.Model):
    """Meta's price per delivered template message, per category and recipient country.
    Messages inside the 24-hour window are free. Defaults (German rates) come with the
    migration; a city enters its current rate card in the admin."""

    class Category(models.TextChoices):
        MARKETING = "MARKETING", _("marketing")
        UTILITY = "UTILITY", _("utility")
        AUTHENTICATION = "AUTHENTICATION", _("authentication")

    country = models.CharField(max_length=2, default="DE", verbose_name=_("country"))
    category = models.CharField(max_length=20, choices=Category.choices, verbose_name=_("category"))
    amount = models.DecimalField(_("price per message"), max_digits=8, decimal_places=4)
    currency = models.CharField(max_length=3, default="EUR", verbose_name=_("currency"))

    class Meta:
        verbose_name_plural = _("prices")
        verbose_name = _("price")
        constraints = [
            models.UniqueConstraint(fields=["country", "category"], name="price_once"),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.category}: {self.amount} {self.currency}"


CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"
MAX_DAILY_CAP = 10


class SendingRules(models.Model):
    """The press office's sending rules, changed by an administrator in the newsroom: quiet
    hours, posts per subscriber and day, the monthly budget. One row at most; until it is
    first saved the environment's values (STADTBOTE_QUIET_HOURS_START …) apply, so an
    installation that set them keeps them. Read through broadcasts.sending_rules.current()."""

    quiet_hours_start = models.CharField(
        _("quiet hours start"),
        max_length=5,
        validators=[RegexValidator(CLOCK, _("Enter a time as HH:MM, e.g. 21:00."))],
    )
    quiet_hours_end = models.CharField(
        _("quiet hours end"),
        max_length=5,
        validators=[RegexValidator(CLOCK, _("Enter a time as HH:MM, e.g. 07:00."))],
    )
    daily_cap = models.PositiveSmallIntegerField(
        _("posts per subscriber and day"),
        validators=[MinValueValidator(0), MaxValueValidator(MAX_DAILY_CAP)],
    )
    monthly_budget = models.DecimalField(
        _("monthly budget"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    budget_blocks = models.BooleanField(_("budget blocks approvals"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sending rules")
        verbose_name_plural = _("sending rules")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="sending_rules_once")]

    def __str__(self) -> str:
        return str(_("sending rules"))


class PostReaction(models.Model):
    """A citizen's current emoji on a post's message: one per delivery. A new emoji replaces
    it; taking it back keeps the row with an empty emoji, so that a late webhook of the older
    reaction cannot bring it back. Goes with the subscriber when they are erased."""

    delivery = models.OneToOneField(
        Delivery, on_delete=models.CASCADE, related_name="reaction", verbose_name=_("delivery")
    )
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="reactions", verbose_name=_("post")
    )
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="+", verbose_name=_("subscriber")
    )
    emoji = models.CharField(_("emoji"), max_length=32, blank=True)
    reacted_at = models.DateTimeField(_("reacted at"))
    # When we stored it: a webhook may arrive long after the tap (Meta retries for days), so
    # the figures' rollup finds what changed since its last run by this, not by reacted_at.
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    class Meta:
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        indexes = [
            # Counted per post and emoji, and per day for the figures.
            models.Index(fields=["post", "emoji"], name="reaction_count_idx"),
            models.Index(fields=["reacted_at"], name="reaction_time_idx"),
            models.Index(fields=["recorded_at"], name="reaction_recorded_idx"),
        ]

    def __str__(self) -> str:
        return f"Reaction {self.pk}"
