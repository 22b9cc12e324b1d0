"""The sending rules (quiet hours, daily cap, monthly budget) set by an administrator in the
newsroom: checked, recorded with old and new values, in force for the dispatcher at once in
this process and within seconds in every other, and the environment's values until then."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import actions, costs, sending_rules
from stadtbote.broadcasts.models import Delivery, SendingRules
from stadtbote.channels.models import SendState
from tests.engine_support import (  # noqa: F401 -- fixtures
    BERLIN,
    approver,
    clock,
    dispatch_all,
    editor,
    network,
)
from tests.helpers import ALICE, active_subscriber, staff_login, staff_with_roles

pytestmark = pytest.mark.django_db

URL = "/redaktion/einstellungen/versand/"
GOOD = {
    "quiet_hours_start": "21:00",
    "quiet_hours_end": "07:00",
    "daily_cap": "2",
    "monthly_budget": "150.50",
    "budget_blocks": "on",
}


@pytest.fixture
def admin_client(client, django_user_model):
    ida = staff_with_roles(django_user_model, ida=Role.ADMINISTRATOR)["ida"]
    staff_login(client, ida)
    return client


def test_until_saved_the_environment_rules_apply_and_the_page_shows_them(admin_client, settings):
    settings.QUIET_HOURS_START, settings.QUIET_HOURS_END = "22:00", "06:30"
    settings.DAILY_CAP, settings.MONTHLY_BUDGET, settings.BUDGET_BLOCK = 3, 80, True
    rules = sending_rules.current()
    assert (rules.quiet_hours_start, rules.quiet_hours_end, rules.daily_cap) == (
        "22:00",
        "06:30",
        3,
    )
    assert (rules.monthly_budget, rules.budget_blocks) == (Decimal("80.00"), True)
    page = admin_client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="22:00"' in html and 'value="06:30"' in html and 'value="3"' in html
    assert not SendingRules.objects.exists()


def test_saving_stores_the_rules_and_records_old_and_new_values(admin_client):
    answer = admin_client.post(URL, GOOD)
    assert answer.status_code == 302
    row = SendingRules.objects.get()
    assert (row.quiet_hours_start, row.quiet_hours_end, row.daily_cap) == ("21:00", "07:00", 2)
    assert (row.monthly_budget, row.budget_blocks) == (Decimal("150.50"), True)
    entry = AuditEntry.objects.get(action="settings.sending_rules_changed")
    assert entry.actor_name == "ida"
    # The test environment switches the quiet hours off (00:00-00:00) and the cap (0).
    assert entry.details["changed"] == {
        "quiet_hours_start": ["00:00", "21:00"],
        "quiet_hours_end": ["00:00", "07:00"],
        "daily_cap": [0, 2],
        "monthly_budget": ["0.00", "150.50"],
        "budget_blocks": [False, True],
    }


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("quiet_hours_start", "9 Uhr", "HH:MM"),
        ("quiet_hours_start", "24:00", "HH:MM"),
        ("quiet_hours_end", "7:00", "HH:MM"),
        ("quiet_hours_end", "07:60", "HH:MM"),
        ("quiet_hours_end", "07:00:00", "at most 5 characters"),
        ("quiet_hours_start", "", "required"),
        ("daily_cap", "11", "10"),
        ("daily_cap", "-1", "0"),
        ("daily_cap", "zwei", "whole number"),
        ("monthly_budget", "-5", "0"),
        ("monthly_budget", "10.555", "2 decimal places"),
        ("monthly_budget", "12345678901", "digits"),
        ("monthly_budget", "viel", "number"),
    ],
)
def test_wrong_rules_are_refused_with_a_reason_and_change_nothing(
    admin_client, field, value, problem
):
    answer = admin_client.post(URL, {**GOOD, field: value}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    errors = answer.context["form"].errors
    assert field in errors and problem in " ".join(errors[field])
    assert not SendingRules.objects.exists()
    assert not AuditEntry.objects.filter(action="settings.sending_rules_changed").exists()


def test_a_save_in_this_process_takes_effect_at_once(admin_client):
    assert sending_rules.current().daily_cap == 0  # read, and now kept for a few seconds
    admin_client.post(URL, GOOD)
    assert sending_rules.current().daily_cap == 2


def test_a_change_made_elsewhere_is_seen_when_the_cache_expires(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(sending_rules.time, "monotonic", lambda: now[0])
    SendingRules.objects.create(
        pk=1, quiet_hours_start="21:00", quiet_hours_end="07:00", daily_cap=1, monthly_budget=0
    )
    assert sending_rules.current().daily_cap == 1
    # Another process changes the row: no signal reaches this one.
    SendingRules.objects.filter(pk=1).update(daily_cap=4)
    now[0] += sending_rules.CACHE_SECONDS - 1
    assert sending_rules.current().daily_cap == 1
    now[0] += 2
    assert sending_rules.current().daily_cap == 4


def test_the_cache_spares_the_database_within_its_time(django_assert_num_queries):
    sending_rules.current()
    with django_assert_num_queries(0):
        for _ in range(100):
            sending_rules.current()


def _post(editor, **extra):
    return actions.create_post(editor, title="Markt", text="Wochenmarkt heute.", **extra)


def test_quiet_hours_set_in_the_page_hold_a_non_urgent_post(
    admin_client, clock, editor, approver, network
):
    admin_client.post(URL, {**GOOD, "daily_cap": "0", "monthly_budget": "0"})
    clock.set("2026-11-23 22:10")
    active_subscriber(ALICE)
    post = actions.submit(_post(editor), editor)
    actions.approve(post, approver)
    dispatch_all()
    assert network.sent == []
    held = Delivery.objects.get(post=post)
    assert (held.state, held.last_error) == (SendState.HELD, "quiet hours")
    assert held.next_attempt_at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == (
        "2026-11-24 07:00"
    )


def test_a_cap_set_in_the_page_holds_the_third_post_of_a_day(admin_client, clock, editor, network):
    admin_client.post(
        URL, {**GOOD, "quiet_hours_start": "00:00", "quiet_hours_end": "00:00", "daily_cap": "2"}
    )
    clock.set("2026-11-24 10:00")
    active_subscriber(ALICE)
    posts = [_post(editor) for _ in range(3)]
    for post in posts:
        actions.send_post(post)
        dispatch_all()
    assert len(network.to(ALICE)) == 2
    third = Delivery.objects.get(post=posts[2])
    assert (third.state, third.last_error) == (SendState.HELD, "daily cap reached")


def test_a_budget_set_in_the_page_is_the_one_approvals_are_measured_against(admin_client):
    admin_client.post(URL, {**GOOD, "monthly_budget": "0.05", "budget_blocks": ""})
    budget = costs.budget()
    assert (budget.monthly, budget.blocking) == (Decimal("0.05"), False)
    assert budget.problem(Decimal("0.11")) is not None
    assert not budget.blocks(Decimal("0.11"))
