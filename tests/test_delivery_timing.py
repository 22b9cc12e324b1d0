"""Quiet hours, the daily cap per subscriber and Meta's daily limit of unique users hold
non-urgent deliveries; urgent posts ignore the first two and jump every queue."""

from __future__ import annotations

from datetime import datetime

import pytest

from stadtbote.broadcasts import actions, delivering, timing
from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.models import SendState
from tests.engine_support import (  # noqa: F401 -- fixtures
    BERLIN,
    approver,
    clock,
    dispatch_all,
    editor,
    network,
    template,
)
from tests.helpers import ALICE, BOB, active_subscriber

pytestmark = pytest.mark.django_db

CAROL = "491705555555"


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=BERLIN)


@pytest.fixture
def quiet_nights(settings):
    settings.QUIET_HOURS_START, settings.QUIET_HOURS_END = "21:00", "07:00"


@pytest.mark.parametrize(
    ("now", "until"),
    [
        ("2026-11-23 21:00", "2026-11-24 07:00"),
        ("2026-11-23 23:59", "2026-11-24 07:00"),
        ("2026-11-24 00:30", "2026-11-24 07:00"),
        ("2026-11-24 06:59", "2026-11-24 07:00"),
        ("2026-11-24 07:00", None),
        ("2026-11-24 12:00", None),
        ("2026-11-24 20:59", None),
    ],
)
def test_quiet_hours_run_over_midnight(quiet_nights, now, until):
    expected = at(until) if until else None
    assert timing.quiet_until(at(now)) == expected


def test_quiet_hours_within_a_day_and_switched_off(settings):
    settings.QUIET_HOURS_START, settings.QUIET_HOURS_END = "13:00", "14:00"
    assert timing.quiet_until(at("2026-11-24 13:30")) == at("2026-11-24 14:00")
    assert timing.quiet_until(at("2026-11-24 14:00")) is None
    settings.QUIET_HOURS_START = settings.QUIET_HOURS_END = "00:00"
    assert timing.quiet_until(at("2026-11-24 03:00")) is None


def test_quiet_hours_follow_daylight_saving_time(quiet_nights):
    # The night the clocks go back (25 Oct 2026): the quiet hours end at 07:00 local time.
    assert timing.quiet_until(at("2026-10-25 02:30")) == at("2026-10-25 07:00")


def _post(editor, **extra):
    return actions.create_post(editor, title="Markt", text="Wochenmarkt heute.", **extra)


def test_a_post_approved_at_night_is_held_until_morning(
    quiet_nights, clock, editor, approver, network
):
    clock.set("2026-11-23 22:10")
    active_subscriber(ALICE)
    post = actions.submit(_post(editor), editor)
    actions.approve(post, approver)
    dispatch_all()
    assert network.sent == []
    held = Delivery.objects.get(post=post)
    assert held.state == SendState.HELD
    assert held.last_error == "quiet hours"
    assert held.next_attempt_at == at("2026-11-24 07:00")
    assert held.attempts == 0

    clock.set("2026-11-24 07:00")
    dispatch_all()
    assert [o.to for o in network.sent] == [ALICE]


def test_an_urgent_post_goes_out_at_night(quiet_nights, clock, editor, approver, network):
    clock.set("2026-11-23 23:30")
    active_subscriber(ALICE)
    normal = actions.submit(_post(editor), editor)
    actions.approve(normal, approver)
    urgent = actions.submit(_post(editor, urgent=True), editor)
    actions.approve(urgent, approver)
    dispatch_all()
    assert [o.message.tracker for o in network.sent] == [f"d{Delivery.objects.get(post=urgent).pk}"]
    assert Delivery.objects.get(post=normal).state == SendState.HELD


def test_the_quiet_hours_hold_waiting_deliveries_in_one_statement(quiet_nights, editor):
    for n in range(5):
        active_subscriber(f"4917000000{n:02d}")
    post = _post(editor)
    actions.send_post(post)  # approved at 20:59, say; the night began before they went out
    assert delivering.hold_for_quiet_hours(at("2026-11-23 21:01")) == 5
    assert delivering.hold_for_quiet_hours(at("2026-11-24 12:00")) == 0
    assert set(Delivery.objects.values_list("state", flat=True)) == {SendState.HELD}


def test_the_daily_cap_holds_the_third_post_for_the_next_morning(settings, clock, editor, network):
    settings.DAILY_CAP = 2
    clock.set("2026-11-24 10:00")
    active_subscriber(ALICE)
    posts = [_post(editor) for _ in range(3)]
    for post in posts:
        actions.send_post(post)
        dispatch_all()
    assert len(network.to(ALICE)) == 2
    third = Delivery.objects.get(post=posts[2])
    assert (third.state, third.last_error) == (SendState.HELD, "daily cap reached")
    assert third.next_attempt_at == at("2026-11-25 00:00")  # no quiet hours: midnight

    clock.set("2026-11-25 00:00")
    dispatch_all()
    assert len(network.to(ALICE)) == 3


def test_with_quiet_hours_the_capped_post_comes_when_they_end(
    quiet_nights, settings, clock, editor, network
):
    settings.DAILY_CAP = 1
    clock.set("2026-11-24 10:00")
    active_subscriber(ALICE)
    actions.send_post(_post(editor))
    dispatch_all()
    later = _post(editor)
    actions.send_post(later)
    dispatch_all()
    assert Delivery.objects.get(post=later).next_attempt_at == at("2026-11-25 07:00")


def test_urgent_posts_ignore_the_daily_cap_and_do_not_count(settings, clock, editor, network):
    settings.DAILY_CAP = 1
    clock.set("2026-11-24 10:00")
    active_subscriber(ALICE)
    for _ in range(2):
        actions.send_post(_post(editor, urgent=True))
        dispatch_all()
    actions.send_post(_post(editor))
    dispatch_all()
    assert len(network.to(ALICE)) == 3


def test_the_cap_counts_within_one_batch_too(settings, clock, editor, network):
    settings.DAILY_CAP = 1
    clock.set("2026-11-24 10:00")
    active_subscriber(ALICE)
    first, second = _post(editor), _post(editor)
    actions.send_post(first)
    actions.send_post(second)  # both queued before either is sent: one batch
    dispatch_all()
    assert len(network.to(ALICE)) == 1
    assert Delivery.objects.filter(state=SendState.HELD).count() == 1


def test_metas_daily_limit_spreads_templates_over_days(settings, clock, editor, template, network):
    settings.WHATSAPP_DAILY_UNIQUE_USERS = 2
    clock.set("2026-11-24 10:00")
    for number in (ALICE, BOB, CAROL):
        active_subscriber(number, wrote_just_now=False)  # outside the window: template
    post = _post(editor)
    actions.send_post(post)
    dispatch_all()
    assert len(network.sent) == 2
    assert all(o.message.template is not None for o in network.sent)
    held = Delivery.objects.get(post=post, state=SendState.HELD)
    assert held.last_error == "Meta's daily limit of unique users reached"
    assert held.next_attempt_at == at("2026-11-25 10:00")

    # A second post the same day reaches the two already counted, not the third.
    second = _post(editor)
    actions.send_post(second)
    dispatch_all()
    assert len(network.sent) == 4
    assert Delivery.objects.filter(post=second, state=SendState.HELD).count() == 1

    clock.set("2026-11-25 10:00")
    dispatch_all()
    # A day later the limit is free again; both posts count Carol once, as Meta does.
    assert len(network.to(CAROL)) == 2
    assert not Delivery.objects.filter(state=SendState.HELD).exists()


def test_free_messages_inside_the_window_do_not_count_towards_metas_limit(
    settings, clock, editor, template, network
):
    settings.WHATSAPP_DAILY_UNIQUE_USERS = 1
    clock.set("2026-11-24 10:00")
    for number in (ALICE, BOB, CAROL):
        active_subscriber(number)  # wrote just now: free-form
    actions.send_post(_post(editor))
    dispatch_all()
    assert len(network.sent) == 3
    assert all(o.message.template is None for o in network.sent)


def test_a_held_delivery_keeps_its_attempts_and_is_not_sent_twice(settings, clock, editor, network):
    settings.DAILY_CAP = 1
    clock.set("2026-11-24 10:00")
    active_subscriber(ALICE)
    actions.send_post(_post(editor))
    later = _post(editor)
    actions.send_post(later)
    for _ in range(3):
        dispatch_all()
    held = Delivery.objects.get(post=later)
    assert (held.state, held.attempts) == (SendState.HELD, 0)
    clock.set("2026-11-25 08:00")
    dispatch_all()
    dispatch_all()
    assert len(network.to(ALICE)) == 2
    assert Delivery.objects.get(post=later).attempts == 1


def test_cancel_and_stop_withdraw_held_deliveries_too(quiet_nights, clock, editor, network):
    clock.set("2026-11-23 22:00")
    active_subscriber(ALICE)
    stopping = active_subscriber(BOB)
    post = _post(editor)
    actions.send_post(post)
    dispatch_all()
    assert Delivery.objects.filter(state=SendState.HELD).count() == 2
    assert actions.withdraw_queued(stopping) == 1
    assert actions.cancel(post) == 1
    assert set(Delivery.objects.values_list("last_error", flat=True)) == {
        "unsubscribed",
        "cancelled",
    }


def test_a_post_with_held_deliveries_is_not_finished(quiet_nights, clock, editor, network):
    clock.set("2026-11-23 22:00")
    active_subscriber(ALICE)
    post = _post(editor)
    actions.send_post(post)
    dispatch_all()
    actions.finish_completed_posts()
    assert Post.objects.get(pk=post.pk).status == Post.Status.SENDING
    clock.set("2026-11-24 07:30")
    dispatch_all()
    actions.finish_completed_posts()
    assert Post.objects.get(pk=post.pk).status == Post.Status.SENT
