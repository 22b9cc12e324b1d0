"""Citizens' concerns: what anyone writes to the city's number that is not a command.

- A **Conversation** per citizen holds every message in and out, internal notes included. Its
  status (new, in progress, waiting, resolved) is the inbox's: a new message reopens it.
- A **Concern** (Mängelmeldung) is a defect report with a category, a place, an optional photo
  and a description, and a reference number the citizen is told. It comes from the guided
  "Melden" dialogue in the chat or from another system over Open311, and may be forwarded to
  the city's own defect-reporting system.
- **Departments**, **categories**, **canned replies**, **office hours** and **closed days** are
  the installation's settings.

Phone numbers stay on the subscriber row (encrypted); nothing here holds one.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from stadtbote.dialogue.models import Reply
from stadtbote.subscribers.models import District, Subscriber

# WhatsApp list rows: a title of at most 24 characters and a description of at most 72.
CATEGORY_NAME_MAX, CATEGORY_DESCRIPTION_MAX = 24, 72
# A WhatsApp text message has at most 4,096 characters; nothing longer is kept.
TEXT_MAX = 4096


class Status(models.TextChoices):
    """Of a conversation and of a concern alike."""

    NEW = "new", _("new")
    IN_PROGRESS = "in_progress", _("in progress")
    WAITING = "waiting", _("waiting")
    RESOLVED = "resolved", _("resolved")


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.WAITING)


class Department(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """What a concern is about, offered as a list in the chat and as an Open311 service."""

    name = models.CharField(_("name"), max_length=CATEGORY_NAME_MAX, unique=True)
    description = models.CharField(
        _("description"), max_length=CATEGORY_DESCRIPTION_MAX, blank=True
    )
    # Open311's service_code; also what the forwarder sends to the city's system.
    service_code = models.SlugField(_("Open311 service code"), max_length=64, unique=True)
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="categories",
        verbose_name=_("department"),
        help_text=_("New concerns of this category are assigned to it."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """Everything one citizen wrote and was told, one per citizen."""

    subscriber = models.OneToOneField(
        Subscriber,
        on_delete=models.CASCADE,
        related_name="conversation",
        verbose_name=_("subscriber"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("department"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("assigned to"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_inbound_at = models.DateTimeField(_("last message at"), null=True, blank=True)
    # The oldest message from the citizen nobody has answered yet; None when answered. What
    # "overdue" is measured from.
    awaiting_since = models.DateTimeField(_("waiting for an answer since"), null=True, blank=True)
    first_answer_at = models.DateTimeField(_("first answered at"), null=True, blank=True)
    last_answer_at = models.DateTimeField(_("last answered at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # When each automatic answer was last given, so that none is repeated every time.
    away_notice_at = models.DateTimeField(null=True, blank=True, editable=False)
    emergency_hint_at = models.DateTimeField(null=True, blank=True, editable=False)
    flood_notice_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(fields=["status", "last_inbound_at"], name="conversation_status_idx"),
            models.Index(
                fields=["awaiting_since"],
                name="conversation_awaiting_idx",
                condition=models.Q(awaiting_since__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk}"


class Concern(models.Model):
    """A defect report: what, where, a photo, and how far the city has got with it."""

    class Source(models.TextChoices):
        CHAT = "chat", _("chat")
        OPEN311 = "open311", _("Open311")

    class Forwarding(models.TextChoices):
        NONE = "", _("not forwarded")
        PENDING = "pending", _("waiting to be forwarded")
        SENT = "sent", _("forwarded")
        FAILED = "failed", _("refused by the receiving system")

    reference = models.CharField(_("reference number"), max_length=20, unique=True)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.CHAT
    )
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="concerns",
        verbose_name=_("conversation"),
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="concerns", verbose_name=_("category")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="concerns",
        verbose_name=_("department"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW
    )
    description = models.TextField(_("description"), max_length=TEXT_MAX, blank=True)
    latitude = models.FloatField(
        _("latitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.FloatField(
        _("longitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    district = models.ForeignKey(
        District,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="concerns",
        verbose_name=_("district"),
    )
    # The photo as it arrived in the chat (its file lives with the message).
    photo = models.ForeignKey(
        "Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("photo"),
    )
    # A photo's address given by an Open311 client.
    media_url = models.URLField(_("media URL"), blank=True, max_length=1000)
    # What the city tells about it; Open311's status_notes.
    status_note = models.CharField(_("status note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    first_answer_at = models.DateTimeField(_("first answered at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # The forwarder's record of handing it to the city's own Open311 system.
    forwarding = models.CharField(
        _("forwarding"), max_length=10, choices=Forwarding.choices, default="", blank=True
    )
    forward_attempts = models.PositiveIntegerField(default=0, editable=False)
    forward_next_at = models.DateTimeField(null=True, blank=True, editable=False)
    forward_error = models.CharField(max_length=200, blank=True, editable=False)
    external_id = models.CharField(_("ID in the receiving system"), max_length=100, blank=True)
    external_token = models.CharField(max_length=100, blank=True, editable=False)
    external_checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("concern")
        verbose_name_plural = _("concerns")
        # Counts by category, district and status, and response times: no content.
        permissions = [("view_statistics", _("Can see the statistics of concerns"))]
        indexes = [
            models.Index(fields=["status", "created_at"], name="concern_status_idx"),
            models.Index(fields=["updated_at"], name="concern_updated_idx"),
            models.Index(
                fields=["forward_next_at"],
                name="concern_forward_idx",
                condition=models.Q(forwarding="pending"),
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Message(models.Model):
    """One entry of a conversation: from the citizen, to the citizen, or an internal note."""

    class Direction(models.TextChoices):
        IN = "in", _("from the citizen")
        OUT = "out", _("to the citizen")
        AUTO = "auto", _("automatic answer")
        NOTE = "note", _("internal note")

    class Kind(models.TextChoices):
        TEXT = "text", _("text")
        IMAGE = "image", _("photo")
        AUDIO = "audio", _("voice message")
        VIDEO = "video", _("video")
        DOCUMENT = "document", _("document")
        STICKER = "sticker", _("sticker")
        LOCATION = "location", _("location")
        OTHER = "other", _("other")

    class MediaState(models.TextChoices):
        NONE = "", _("no file")
        PENDING = "pending", _("being downloaded")
        STORED = "stored", _("stored")
        FAILED = "failed", _("could not be downloaded")
        TOO_LARGE = "too_large", _("too large")
        DELETED = "deleted", _("deleted after the retention period")

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
    )
    concern = models.ForeignKey(
        Concern,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("concern"),
    )
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    # The text, or a photo's caption, or a place's name and address.
    text = models.TextField(_("text"), max_length=TEXT_MAX, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(_("time"))
    # The platform's id of an inbound message.
    platform_id = models.CharField(max_length=128, blank=True, editable=False)
    # An outbound message's send record: its delivery status is there.
    reply = models.ForeignKey(
        Reply,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent as"),
    )
    # Written outside the 24-hour window: the citizen was asked by template to open the chat,
    # and the text goes out when they do.
    held = models.BooleanField(_("waiting for the citizen"), default=False)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    media_id = models.CharField(max_length=128, blank=True, editable=False)
    mime_type = models.CharField(max_length=100, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    # Path of the downloaded file under the media directory (a random name, never the
    # citizen's file name).
    file = models.CharField(max_length=200, blank=True, editable=False)
    filename = models.CharField(_("file name"), max_length=240, blank=True)
    media_state = models.CharField(
        _("file"), max_length=10, choices=MediaState.choices, default="", blank=True
    )
    media_attempts = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="message_conversation_idx"),
            models.Index(fields=["created_at"], name="message_created_idx"),
            models.Index(
                fields=["conversation", "created_at"],
                name="message_held_idx",
                condition=models.Q(held=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk}"

    @property
    def has_file(self) -> bool:
        return self.media_state == self.MediaState.STORED and bool(self.file)


class ConcernEvent(models.Model):
    """A concern's history: status changes and what was added, by whom (None: the citizen
    or the receiving system). Shown to staff; the citizen is told of status changes."""

    concern = models.ForeignKey(
        Concern, on_delete=models.CASCADE, related_name="events", verbose_name=_("concern")
    )
    at = models.DateTimeField(_("time"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("concern event")
        verbose_name_plural = _("concern events")

    def __str__(self) -> str:
        return f"{self.concern_id}: {self.status}"


class ReportDraft(models.Model):
    """A guided report under way in the chat: which step it is at and what was given so far.
    The one piece of dialogue state Stadtbote keeps (decision 0010); it ends with the report,
    with "Abbrechen", or when it has not been touched for DRAFT_HOURS."""

    class Step(models.TextChoices):
        CATEGORY = "category", _("category")
        LOCATION = "location", _("location")
        PHOTO = "photo", _("photo")
        DESCRIPTION = "description", _("description")
        # Adding to a concern already reported: the next message goes to it.
        ADDING = "adding", _("adding to a concern")

    subscriber = models.OneToOneField(
        Subscriber, on_delete=models.CASCADE, related_name="report_draft"
    )
    step = models.CharField(max_length=12, choices=Step.choices)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    address = models.CharField(max_length=255, blank=True)
    photo = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, null=True, blank=True)
    # The message that started the report ("Melden"): it and every later message of the
    # citizen are the report's, and get the concern once it is made.
    first_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("report under way")
        verbose_name_plural = _("reports under way")

    def __str__(self) -> str:
        return f"ReportDraft {self.pk}"


class CannedReply(models.Model):
    title = models.CharField(_("title"), max_length=80)
    text = models.TextField(_("text"), max_length=TEXT_MAX)
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        verbose_name=_("department"),
        help_text=_("Empty: offered to every department."),
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title


class OfficeHours(models.Model):
    """One opening span of a weekday (Monday = 0); a day may have several spans."""

    weekday = models.PositiveSmallIntegerField(_("weekday"), validators=[MaxValueValidator(6)])
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("office hours")
        verbose_name_plural = _("office hours")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")), name="office_hours_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday}: {self.opens}–{self.closes}"


class ClosedDay(models.Model):
    """A day the office is closed beyond the state's public holidays (Christmas Eve, a
    works outing); or, with `open`, a public holiday on which it opens after all."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    open = models.BooleanField(_("open after all"), default=False)

    class Meta:
        ordering = ["date"]
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


def reference_for(pk: int, at: datetime) -> str:
    """The number a citizen quotes: short, readable on the phone, not a phone number."""
    return f"M-{at:%Y}-{pk:05d}"
