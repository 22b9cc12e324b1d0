"""What a post costs (estimated before approval, actual from Meta's pricing), the monthly
budget, the funnel with held and failed reasons and the ETA, the Channel outlet and the
subscriptions a shared post brought in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone, translation

from stadtbote.broadcasts import actions, channel_outlet, costs, funnel, sharing
from stadtbote.broadcasts.models import Delivery, Post, Price
from stadtbote.channels import statuses
from stadtbote.channels.models import SendState
from stadtbote.channels.types import DeliveryStatus, InboundText, StatusUpdate
from stadtbote.dialogue.router import handle
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import ConsentEvent, Subscriber
from tests.engine_support import (  # noqa: F401 -- fixtures
    approver,
    clock,
    dispatch_all,
    editor,
    network,
    template,
)
from tests.helpers import ALICE, BOB, active_subscriber

pytestmark = pytest.mark.django_db

AUSTRIAN = "436641234567"


def _post(editor, **extra) -> Post:
    return actions.create_post(editor, title="Markt", text="Wochenmarkt heute.", **extra)


def test_german_rates_come_with_the_installation():
    rates = dict(Price.objects.filter(country="DE").values_list("category", "amount"))
    assert rates == {
        "MARKETING": Decimal("0.1131"),
        "UTILITY": Decimal("0.0456"),
        "AUTHENTICATION": Decimal("0.0456"),
    }


def test_the_estimate_charges_only_those_outside_the_window_at_their_countrys_rate(
    editor, template
):
    Price.objects.create(country="AT", category="MARKETING", amount=Decimal("0.2000"))
    active_subscriber(ALICE)  # inside the window: free
    active_subscriber(BOB, wrote_just_now=False)
    active_subscriber(AUSTRIAN, wrote_just_now=False)
    estimate = costs.estimate(_post(editor))
    assert (estimate.recipients, estimate.free, estimate.charged) == (3, 1, 2)
    assert estimate.amount == Decimal("0.31")  # 0.1131 + 0.2000, rounded to cents
    assert estimate.currency == "EUR"


def test_an_unknown_country_is_estimated_at_the_citys_own_rate(editor, template):
    active_subscriber("12025550123", wrote_just_now=False)  # a US number, no US rate entered
    assert Subscriber.objects.get().country == "US"
    assert costs.estimate(_post(editor)).amount == Decimal("0.11")


def test_without_a_template_nobody_outside_the_window_is_charged(editor):
    active_subscriber(BOB, wrote_just_now=False)
    estimate = costs.estimate(_post(editor))
    assert (estimate.charged, estimate.amount) == (0, Decimal("0"))


def _report(message_id: str, category: str | None, billable: bool | None) -> StatusUpdate:
    return StatusUpdate(
        message_id=message_id,
        status=DeliveryStatus.SENT,
        timestamp=timezone.now(),
        recipient="",
        pricing_category=category,
        billable=billable,
    )


def test_the_actual_cost_comes_from_metas_pricing_in_status_webhooks(editor, template, network):
    active_subscriber(ALICE)
    active_subscriber(BOB, wrote_just_now=False)
    post = _post(editor)
    actions.send_post(post)
    dispatch_all()
    by_number = {o.to: o.message.tracker for o in network.sent}
    rows = {d.pk: d for d in Delivery.objects.filter(post=post)}
    ids = {n: rows[int(t.removeprefix("d"))].message_id for n, t in by_number.items()}
    statuses.record([_report(ids[ALICE], "service", False), _report(ids[BOB], "marketing", True)])
    assert costs.actual(post) == Decimal("0.11")
    statuses.record([_report(ids[BOB], "marketing", True)])  # a repeat is not charged twice
    assert costs.actual(post) == Decimal("0.11")


def test_a_budget_that_blocks_refuses_the_approval_and_one_that_warns_does_not(
    settings, editor, approver, template
):
    for n in range(10):
        active_subscriber(f"4917000001{n:02d}", wrote_just_now=False)
    settings.MONTHLY_BUDGET, settings.BUDGET_BLOCK = 1, True
    post = actions.submit(_post(editor), editor)
    with pytest.raises(actions.PostError, match="budget"):
        actions.approve(post, approver)
    assert Post.objects.get(pk=post.pk).status == Post.Status.SUBMITTED
    assert not Delivery.objects.exists()

    settings.BUDGET_BLOCK = False
    budget = costs.budget()
    amount = costs.estimate(post).amount
    with translation.override("en"):
        assert "to €1.13 of a budget of €1.00" in (budget.problem(amount) or "")
    with translation.override("de"):
        assert "auf 1,13 € bei einem Budget von 1,00 €" in (budget.problem(amount) or "")
    actions.approve(post, approver)
    assert Post.objects.get(pk=post.pk).estimated_cost == Decimal("1.13")


def test_an_urgent_post_is_never_blocked_by_the_budget(settings, editor, approver, template):
    active_subscriber(BOB, wrote_just_now=False)
    settings.MONTHLY_BUDGET, settings.BUDGET_BLOCK = 1, True
    Price.objects.filter(category="MARKETING").update(amount=Decimal("5"))
    post = actions.submit(_post(editor, urgent=True), editor)
    actions.approve(post, approver)
    assert Post.objects.get(pk=post.pk).status == Post.Status.SENDING


def test_approved_posts_not_yet_sent_count_as_committed(settings, editor, approver, template):
    active_subscriber(BOB, wrote_just_now=False)
    settings.MONTHLY_BUDGET = 100
    first = actions.submit(_post(editor, publish_at=timezone.now().replace(year=2099)), editor)
    actions.approve(first, approver)
    second = _post(editor)
    assert costs.budget(excluding=second).committed == Decimal("0.11")


def test_the_funnel_counts_every_stage_with_reasons(editor, network, template):
    numbers = [f"4917000002{n:02d}" for n in range(6)]
    for number in numbers:
        active_subscriber(number)
    post = _post(editor)
    actions.send_post(post)
    dispatch_all()
    rows = list(Delivery.objects.filter(post=post).order_by("id"))
    now = timezone.now()
    statuses.record(
        [
            StatusUpdate(rows[0].message_id, DeliveryStatus.READ, now, ""),
            StatusUpdate(rows[1].message_id, DeliveryStatus.DELIVERED, now, ""),
            StatusUpdate(rows[2].message_id, DeliveryStatus.SENT, now, ""),
            StatusUpdate(
                rows[3].message_id, DeliveryStatus.FAILED, now, "", 131049, "ecosystem limit"
            ),
        ]
    )
    Delivery.objects.filter(pk=rows[4].pk).update(
        state=SendState.HELD, last_error="daily cap reached"
    )
    Delivery.objects.filter(pk=rows[5].pk).update(state=SendState.QUEUED)
    counts = funnel.funnel(post)
    assert (counts.total, counts.queued, counts.held, counts.sent) == (6, 1, 1, 3)
    assert (counts.delivered, counts.read, counts.failed) == (2, 1, 1)
    assert counts.held_by_reason == {"daily cap reached": 1}
    assert counts.failed_by_reason == {"131049 ecosystem limit": 1}
    assert counts.progress == pytest.approx(4 / 6, abs=1e-3)
    assert counts.eta is not None and counts.eta >= timezone.now()


def test_the_eta_counts_the_days_metas_limit_spreads_a_post_over(settings, editor):
    settings.WHATSAPP_DAILY_UNIQUE_USERS = 250
    for n in range(3):
        active_subscriber(f"4917000003{n:02d}")
    post = _post(editor)
    actions.send_post(post)
    Delivery.objects.filter(post=post).update(
        state=SendState.HELD, last_error="Meta's daily limit of unique users reached"
    )
    counts = funnel.funnel(post)
    counts.held_by_reason = {"Meta's daily limit of unique users reached": 600}
    eta = funnel.eta(Post.objects.get(pk=post.pk), counts, timezone.now())
    assert (eta - timezone.now()).days in (2, 3)  # 600 people at 250 a day: three days


# --- the Channel outlet -------------------------------------------------------------------


def test_a_channel_posting_is_recorded_once_with_counts(editor, approver, template):
    post = actions.submit(_post(editor), editor)
    with pytest.raises(actions.PostError, match="approved"):
        channel_outlet.record_posted(post, editor)
    actions.approve(post, approver)
    channel_outlet.record_posted(post, editor)
    with pytest.raises(actions.PostError, match="already"):
        channel_outlet.record_posted(post, editor)
    posting = channel_outlet.record_counts(post, editor, followers=1200, reactions=85)
    assert (posting.followers, posting.reactions) == (1200, 85)
    with pytest.raises(actions.PostError, match="between"):
        channel_outlet.record_counts(post, editor, followers=-1, reactions=None)


def test_counts_need_the_posting_and_the_right(editor, approver, django_user_model, template):
    post = actions.submit(_post(editor), editor)
    actions.approve(post, approver)
    with pytest.raises(actions.PostError, match="first"):
        channel_outlet.record_counts(post, editor, followers=1, reactions=1)
    reader = django_user_model.objects.create(username="reader")
    with pytest.raises(actions.NotAllowed):
        channel_outlet.record_posted(post, reader)
    future = timezone.now().replace(year=2099)
    with pytest.raises(actions.PostError, match="future"):
        channel_outlet.record_posted(post, editor, posted_at=future)


# --- sharing -----------------------------------------------------------------------------


def test_a_shared_post_is_credited_with_the_subscriptions_it_brought(editor):
    post = _post(editor)
    subscriber = subscribers.find_or_create(ALICE)
    assert subscribers.request_subscription(subscriber, wording="q", referred_by_post=post.pk)
    assert subscribers.confirm_subscription(subscriber, wording="w")
    assert sharing.subscriptions_brought(post) == 1
    assert sharing.subscriptions_by_post() == {post.pk: 1}
    confirmed = ConsentEvent.objects.get(action="confirmed")
    assert confirmed.referral == f"post:{post.pk}"
    # Erased later: the count stays, from the ledger.
    subscribers.erase(subscriber, wording="weg")
    assert sharing.subscriptions_brought(post) == 1


@pytest.mark.parametrize(
    ("text", "found"), [("Start p{id}", True), ("start P{id}", True), ("Start p999999", False)]
)
def test_the_reference_is_read_from_the_start_message(editor, text, found):
    post = _post(editor)
    expected = f"post:{post.pk}" if found else ""
    assert sharing.referral_in(text.format(id=post.pk)) == expected
    assert sharing.referral_in("Start") == ""


def test_start_with_the_reference_in_the_chat_credits_the_post(editor):
    post = _post(editor)
    handle(InboundText(ALICE, "wamid.REF1", timezone.now(), f"Start p{post.pk}"))
    subscriber = Subscriber.objects.get()
    assert (subscriber.status, subscriber.referred_by_post) == ("pending", post.pk)
    subscribers.confirm_subscription(subscriber, wording="w")
    assert sharing.subscriptions_brought(post) == 1
