"""The price table kept by an administrator in the newsroom: amounts changed per country and
category (recorded with old and new amount), countries added; wrong amounts refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.broadcasts.models import Price
from tests.helpers import staff_login, staff_with_roles

pytestmark = pytest.mark.django_db

URL = "/redaktion/einstellungen/preise/"


@pytest.fixture
def admin_client(client, django_user_model):
    staff_login(client, staff_with_roles(django_user_model, ida=Role.ADMINISTRATOR)["ida"])
    return client


def _table():
    return {f"price_{p.pk}": str(p.amount) for p in Price.objects.all()}


def _amounts():
    return {(p.country, p.category): p.amount for p in Price.objects.all()}


def test_the_migration_brings_german_rates_to_start_from():
    assert Price.objects.filter(country="DE", category="MARKETING").exists()


def test_an_amount_is_changed_and_recorded_with_old_and_new(admin_client):
    marketing = Price.objects.get(country="DE", category="MARKETING")
    old = marketing.amount
    answer = admin_client.post(
        URL, {**_table(), "form": "amounts", f"price_{marketing.pk}": "0.1234"}
    )
    assert answer.status_code == 302
    marketing.refresh_from_db()
    assert marketing.amount == Decimal("0.1234")
    entry = AuditEntry.objects.get(action="settings.price_changed")
    assert entry.details == {"amount": [str(old), "0.1234"]}
    assert AuditEntry.objects.filter(action="settings.price_changed").count() == 1  # only it


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("-0.01", "greater than or equal to 0"),
        ("0.12345", "4 decimal places"),
        ("abc", "number"),
        ("", "required"),
        ("100000", "digits"),
    ],
)
def test_a_wrong_amount_is_refused_and_nothing_changes(admin_client, value, problem):
    before = _amounts()
    marketing = Price.objects.get(country="DE", category="MARKETING")
    answer = admin_client.post(
        URL,
        {**_table(), "form": "amounts", f"price_{marketing.pk}": value},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 200
    assert problem in " ".join(answer.context["table"].errors[f"price_{marketing.pk}"])
    assert _amounts() == before
    assert not AuditEntry.objects.filter(action__startswith="settings.").exists()


NEW = {
    "form": "country",
    "new-country": "at",
    "new-marketing": "0.09",
    "new-utility": "0.04",
    "new-authentication": "0.03",
}


def test_a_country_is_added_with_a_rate_per_category(admin_client):
    assert admin_client.post(URL, NEW).status_code == 302
    added = {p.category: p.amount for p in Price.objects.filter(country="AT")}
    assert added == {
        "MARKETING": Decimal("0.09"),
        "UTILITY": Decimal("0.04"),
        "AUTHENTICATION": Decimal("0.03"),
    }
    entry = AuditEntry.objects.get(action="settings.price_country_added")
    assert entry.target_label == "AT" and entry.details["amounts"]["MARKETING"] == "0.09"


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"new-country": "DE"}, "new-country", "in the table already"),
        ({"new-country": "A"}, "new-country", "at least 2"),
        ({"new-country": "AUT"}, "new-country", "at most 2"),
        ({"new-country": "1A"}, "new-country", "Two letters"),
        ({"new-utility": "-1"}, "new-utility", "greater than or equal to 0"),
        ({"new-marketing": ""}, "new-marketing", "required"),
    ],
)
def test_a_wrong_country_is_refused(admin_client, change, field, problem):
    before = _amounts()
    answer = admin_client.post(URL, {**NEW, **change}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    errors = answer.context["country"].errors
    assert problem in " ".join(errors[field.removeprefix("new-")])
    assert _amounts() == before
