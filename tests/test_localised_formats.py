"""Dates, counts and money follow the page's language: German "02.12.2026, 14:05" and
"1.234,50 €", English "02/12/2026, 14:05" and "€1,234.50"; times are the city's
(Europe/Berlin). On the newsroom's post page, in the public archive and in the admin."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import translation

from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Post, Price, Template
from stadtbote.lib import localise
from tests.helpers import BOB, active_subscriber, staff_login, staff_with_roles

pytestmark = pytest.mark.django_db

# 13:05 UTC in December is 14:05 in Berlin.
SENT = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)


@pytest.fixture
def editor(django_user_model):
    return staff_with_roles(django_user_model, erika=Role.EDITOR)["erika"]


@pytest.fixture
def costly_draft(editor):
    """A draft reaching one subscriber outside the window at a (made-up) price of 1,234.50."""
    Template.objects.create(
        name=settings.POST_TEMPLATE,
        language="de",
        body="Neues aus der Stadt: {{1}}",
        status=Template.Status.APPROVED,
    )
    Price.objects.filter(category="MARKETING").update(amount=Decimal("1234.5"))
    active_subscriber(BOB, wrote_just_now=False)
    return actions.create_post(editor, title="Markt", text="Samstag", publish_at=None)


def in_language(client, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_the_archive_writes_the_date_in_the_pages_language_and_berlin_time(client, editor):
    post = actions.create_post(editor, title="Markt", text="Samstag")
    Post.objects.filter(pk=post.pk).update(status=Post.Status.SENT, send_started_at=SENT)
    german = client.get("/archiv/").content.decode()
    english = client.get("/archiv/?lang=en").content.decode()
    assert "2. Dezember 2026, 14:05" in german
    assert "2 December 2026, 14:05" in english and "Dezember" not in english
    single = client.get(f"/archiv/{post.pk}-markt/?lang=en").content.decode()
    assert "2 December 2026, 14:05" in single


def test_the_newsroom_post_page_writes_money_and_times_in_the_staffs_language(
    client, editor, costly_draft
):
    Post.objects.filter(pk=costly_draft.pk).update(publish_at=SENT)
    staff_login(client, editor)
    german = client.get(f"/redaktion/{costly_draft.pk}/").content.decode()
    assert "1.234,50 €" in german and "02.12.2026, 14:05" in german
    english = in_language(client, "en").get(f"/redaktion/{costly_draft.pk}/").content.decode()
    assert "€1,234.50" in english and "02/12/2026, 14:05" in english
    assert "1.234,50" not in english


def test_the_admin_writes_the_cost_and_counts_in_the_staffs_language(client, editor, costly_draft):
    staff_login(client, editor)
    url = f"/admin/broadcasts/post/{costly_draft.pk}/change/"
    german = client.get(url)
    assert german.status_code == 200
    assert "Empfänger und Kosten" in german.content.decode()
    assert "etwa 1.234,50 €" in german.content.decode()
    english = in_language(client, "en").get(url).content.decode()
    assert "Recipients and cost" in english and "about €1,234.50" in english


def test_counts_are_grouped_and_unknown_amounts_are_a_dash():
    with translation.override("de"):
        assert localise.count(1234567) == "1.234.567"
        assert localise.money(Decimal("0.11")) == "0,11 €"
        assert localise.money(Decimal("5"), "CHF") == "5,00 CHF"
        assert localise.money(None) == "–" and localise.money("abc") == "–"
    with translation.override("en"):
        assert localise.count(1234567) == "1,234,567"
        assert localise.money(Decimal("1234.5")) == "€1,234.50"
        assert localise.money(Decimal("5"), "CHF") == "CHF 5.00"
