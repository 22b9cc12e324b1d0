"""What a post costs: estimated before approval from the audience and the price table, and
actually, from the pricing Meta reports in status webhooks; and the monthly budget.

Meta charges per delivered template message, by category and the recipient's country; a post
read inside the citizen's 24-hour window goes out as a free message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from stadtbote.broadcasts import audience, sending_rules
from stadtbote.broadcasts.models import Delivery, Post, Price
from stadtbote.lib.localise import money

ZERO = Decimal("0")
_OPEN = [Post.Status.SCHEDULED, Post.Status.SENDING, Post.Status.PAUSED]


def _prices() -> dict[tuple[str, str], Decimal]:
    return {(p.country, p.category): p.amount for p in Price.objects.all()}


def price(prices: dict[tuple[str, str], Decimal], country: str, category: str) -> Decimal:
    """The rate for a country, else the city's own country's rate: an estimate errs towards
    a known price rather than towards zero."""
    category = category.upper()
    return prices.get((country, category), prices.get((settings.COUNTRY, category), ZERO))


def currency() -> str:
    first = Price.objects.values_list("currency", flat=True).first()
    return first or "EUR"


@dataclass(frozen=True)
class Estimate:
    recipients: int
    free: int  # inside their 24-hour window: a free message
    charged: int  # outside: the post's template
    amount: Decimal
    currency: str


def estimate(post: Post, now: datetime | None = None) -> Estimate:
    reached = audience.count(post, now)
    category = post.template.category if post.template is not None else "MARKETING"
    prices = _prices()
    amount = sum(
        (price(prices, country, category) * n for country, n in reached.by_country.items()),
        ZERO,
    )
    if post.template is None:
        # Without a template nobody outside the window is reached, and nothing is charged.
        return Estimate(reached.total, reached.in_window, 0, ZERO, currency())
    return Estimate(
        reached.total,
        reached.in_window,
        reached.outside_window,
        amount.quantize(Decimal("0.01")),
        currency(),
    )


def actual(post: Post) -> Decimal:
    """The sum of what Meta reported as billable for this post's messages."""
    return _charged(Q(post=post))


def _charged(which: Q) -> Decimal:
    prices = _prices()
    rows = (
        Delivery.objects.filter(which)
        .exclude(billed_category="")
        .values_list("subscriber__country", "billed_category")
        .annotate(n=Count("id"))
    )
    total = sum(
        (price(prices, country or settings.COUNTRY, category) * n for country, category, n in rows),
        ZERO,
    )
    return total.quantize(Decimal("0.01"))


def month_start(now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Budget:
    monthly: Decimal  # 0: no budget
    spent: Decimal  # billed this month
    committed: Decimal  # estimated for posts approved and not yet fully sent
    blocking: bool

    def after(self, amount: Decimal) -> Decimal:
        return self.spent + self.committed + amount

    def problem(self, amount: Decimal) -> str | None:
        """A sentence for the approver when this amount would exceed the month's budget or
        bring it within 10 % of it; None when all is well or there is no budget."""
        if not self.monthly:
            return None
        after = self.after(amount)
        if after > self.monthly:
            return _(
                "This post would bring the month's spending to %(after)s of a budget of %(budget)s."
            ) % {"after": money(after), "budget": money(self.monthly)}
        if after > self.monthly * Decimal("0.9"):
            return _("After this post %(left)s of the month's budget are left.") % {
                "left": money(self.monthly - after)
            }
        return None

    def blocks(self, amount: Decimal) -> bool:
        return bool(self.monthly) and self.blocking and self.after(amount) > self.monthly


def budget(now: datetime | None = None, *, excluding: Post | None = None) -> Budget:
    now = now or timezone.now()
    start = month_start(now)
    spent = _charged(Q(dispatched_at__gte=start))
    committed = ZERO
    open_posts = Post.objects.filter(status__in=_OPEN, estimated_cost__isnull=False)
    if excluding is not None:
        open_posts = open_posts.exclude(pk=excluding.pk)
    for post in open_posts:
        remaining = (post.estimated_cost or ZERO) - actual(post)
        committed += max(remaining, ZERO)
    rules = sending_rules.current()
    return Budget(
        monthly=rules.monthly_budget,
        spent=spent,
        committed=committed.quantize(Decimal("0.01")),
        blocking=rules.budget_blocks,
    )
