"""Pre-aggregated counters behind the dashboards. The rollup (rollup.py) writes them every
minute from the big tables; the pages and the API read only these, so their cost does not
grow with the number of subscribers or deliveries. Aggregates only: no row names a person."""

from __future__ import annotations

from django.db import models

from stadtbote.broadcasts.models import Post


class Rollup(models.Model):
    """One row (id 1): when the rollup last ran. Locked while a rollup runs, so that two
    workers running it at the same minute do the work once."""

    ran_at = models.DateTimeField(null=True, blank=True)
    # Status events recorded after this were not yet looked at (see rollup._touched_posts).
    statuses_seen_at = models.DateTimeField(null=True, blank=True)
    audience_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Rollup at {self.ran_at}"


class SubscriberDay(models.Model):
    """One local day (the city's time zone): the consent ledger's flows of that day, and the
    active subscribers at the day's last rollup (None for days before the first rollup: the
    pages derive them backwards from the flows)."""

    day = models.DateField(unique=True)
    active = models.IntegerField(null=True, blank=True)
    requested = models.IntegerField(default=0)
    confirmed = models.IntegerField(default=0)
    imported = models.IntegerField(default=0)
    withdrawn = models.IntegerField(default=0)
    expired = models.IntegerField(default=0)
    erased = models.IntegerField(default=0)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.active}"


class AudienceDay(models.Model):
    """Active subscribers who chose a topic or a district, at the day's last audience count."""

    class Kind(models.TextChoices):
        TOPIC = "topic"
        DISTRICT = "district"

    day = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    ref = models.IntegerField()  # the topic's or district's id
    active = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "kind", "ref"], name="audience_day_once"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.ref}: {self.active}"


class PostFigures(models.Model):
    """A post's funnel, cost and opt-outs as of `refreshed_at`. Recomputed as a whole (never
    incremented), so a post counted twice is counted right."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="figures")
    total = models.IntegerField(default=0)
    queued = models.IntegerField(default=0)
    held = models.IntegerField(default=0)
    sending = models.IntegerField(default=0)
    sent = models.IntegerField(default=0)
    delivered = models.IntegerField(default=0)
    read = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    failed_by_reason = models.JSONField(default=dict)
    actual_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    opt_outs_24h = models.IntegerField(default=0)
    # The 24 hours after the post started are over: opt_outs_24h will not change any more.
    opt_outs_final = models.BooleanField(default=False)
    # The citizens' current emoji reactions in the chat, {emoji: count} (broadcasts.reactions.
    # counts; in no order once stored: sort with reactions.ranked). Reactions to the post in
    # the WhatsApp Channel are another thing: staff type those in (ChannelPosting.reactions).
    reactions = models.JSONField(default=dict)
    refreshed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Figures of post {self.post_id}"


class ReactionDay(models.Model):
    """The citizens' signals of one local day: emoji reactions to posts given that day (in
    the chat; still standing when the day was last counted, a reaction changed on a later
    day counts there again) with their split by emoji, and messages forwarded to the city's
    number that day."""

    day = models.DateField(unique=True)
    reactions = models.IntegerField(default=0)
    by_emoji = models.JSONField(default=dict)  # {emoji: count}, in no order (see above)
    forwarded = models.IntegerField(default=0)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.reactions} reactions"
