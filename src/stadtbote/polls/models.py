"""A poll is a post whose message asks a question with two to ten answers. It travels like
any post (audience, approval, schedule, pacing, templates outside the window); what the poll
adds is its options and the votes citizens cast by tapping them."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from stadtbote.broadcasts.models import Post
from stadtbote.subscribers.models import District, Subscriber

MIN_OPTIONS, MAX_OPTIONS = 2, 10
# WhatsApp: a reply button's title has at most 20 characters, a list row's 24. A poll of up
# to three options is sent as buttons, so its labels must fit 20.
BUTTON_LABEL_MAX, ROW_LABEL_MAX = 20, 24
MAX_BUTTONS = 3
QUESTION_MAX = 1024  # the body of an interactive message


def new_key() -> str:
    # In the choice id a phone sends back ("poll:12:k3f9a0"): not guessable, so a forged tap
    # on an option of another poll (or a made-up one) is told apart and counted as rejected.
    return secrets.token_hex(4)


class Poll(models.Model):
    post = models.OneToOneField(
        Post, on_delete=models.CASCADE, related_name="poll", verbose_name=_("post")
    )
    multiple = models.BooleanField(
        _("several answers allowed"),
        default=False,
        help_text=_("Each tap adds an answer; tapping it again takes it back."),
    )
    closes_at = models.DateTimeField(
        _("closes at"), null=True, blank=True, help_text=_("Empty: open until closed by hand.")
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Once a poll has been closed for the retention period, its votes are cut loose from the
    # subscribers (see polls.retention); the numbers of voters, which can no longer be counted
    # per person then, are kept here: {"all": n, "<district id>": n}.
    anonymised_at = models.DateTimeField(_("votes anonymised at"), null=True, blank=True)
    frozen_voters = models.JSONField(default=dict, blank=True, editable=False)
    results_post = models.OneToOneField(
        Post,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="results_of",
        verbose_name=_("results post"),
    )

    class Meta:
        verbose_name = _("poll")
        verbose_name_plural = _("polls")

    def __str__(self) -> str:
        return self.post.title

    def closing_time(self) -> datetime | None:
        """When votes stop counting: closed by hand, or the set time, whichever came first."""
        times = [t for t in (self.closed_at, self.closes_at) if t is not None]
        return min(times) if times else None

    def is_open(self, at: datetime) -> bool:
        closing = self.closing_time()
        return closing is None or at < closing


def poll_of(post: Post) -> Poll | None:
    """The post's poll, or None for an ordinary post (no query when the post was loaded with
    select_related("poll"))."""
    try:
        return post.poll
    except Poll.DoesNotExist:
        return None


class Option(models.Model):
    poll = models.ForeignKey(
        Poll, on_delete=models.CASCADE, related_name="options", verbose_name=_("poll")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    label = models.CharField(
        _("answer"), max_length=ROW_LABEL_MAX, validators=[MaxLengthValidator(ROW_LABEL_MAX)]
    )
    key = models.CharField(max_length=16, default=new_key, editable=False)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="option_position_once"),
            models.UniqueConstraint(fields=["poll", "key"], name="option_key_once"),
        ]

    def __str__(self) -> str:
        return self.label


class Vote(models.Model):
    """One answer of one subscriber. `slot` makes "one vote per subscriber and poll" a
    database rule for both kinds: a single-answer poll always uses slot 0, so a second row
    cannot exist; a several-answers poll uses the option's position, one row per answer.
    Goes with the subscriber (cascade) when they are erased; results are counted from these
    rows, so they are always the current votes."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    option = models.ForeignKey(Option, on_delete=models.CASCADE, related_name="votes")
    # Empty once the poll's votes are anonymised (polls.retention).
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, null=True, related_name="+"
    )
    slot = models.PositiveSmallIntegerField(default=0)
    # The subscriber's district among the poll's target districts when the vote was cast,
    # for results by district; empty when the poll went to the whole city.
    district = models.ForeignKey(
        District, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The time the citizen tapped (Meta's timestamp): a late webhook of an older tap must
    # not undo a newer one.
    cast_at = models.DateTimeField()

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(fields=["poll", "subscriber", "slot"], name="vote_once"),
        ]
        indexes = [
            # Results: counted per option (and district) with the index alone.
            models.Index(fields=["poll", "option", "district"], name="vote_count_idx"),
        ]

    def __str__(self) -> str:
        return f"Vote {self.pk}"


class IgnoredTap(models.Model):
    """A tap that changed nothing: rejected (an answer that is not this poll's, or from a
    citizen the poll was not sent to) or late (after closing). Nobody's identity, only that
    it happened. A row each rather than a counter on the poll: inserts take no shared lock,
    so a burst of late taps in several workers does not queue them all on the poll's row."""

    class Kind(models.TextChoices):
        REJECTED = "rejected", _("rejected taps")
        LATE = "late", _("taps after closing")

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="ignored_taps")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ignored tap")
        verbose_name_plural = _("ignored taps")
        indexes = [models.Index(fields=["poll", "kind"], name="ignored_tap_count_idx")]

    def __str__(self) -> str:
        return f"{self.kind} tap on poll {self.poll_id}"
