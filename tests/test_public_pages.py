from __future__ import annotations

import pytest

from stadtbote.public.models import PageText
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import ConsentEvent
from tests.helpers import ALICE

pytestmark = pytest.mark.django_db


def test_the_subscribe_page_offers_the_click_to_chat_link_and_a_qr_code(client, settings):
    settings.WHATSAPP_DISPLAY_NUMBER = "4915100000000"
    page = client.get("/anmelden/").content.decode()
    assert 'href="https://wa.me/4915100000000?text=Start"' in page
    assert "<svg" in page
    assert "+49 151 00000000" in page
    assert 'href="/datenschutz/"' in page


def test_without_a_configured_number_the_page_says_so(client, settings):
    settings.WHATSAPP_DISPLAY_NUMBER = ""
    page = client.get("/anmelden/").content.decode()
    assert "wa.me" not in page
    assert "noch nicht eingerichtet" in page


def test_the_city_writes_its_own_texts(client):
    PageText.objects.create(
        page="subscribe", title="Coburg informiert", body="Erster Absatz.\n\nZweiter <b>Absatz</b>."
    )
    page = client.get("/anmelden/").content.decode()
    assert "<h1>Coburg informiert</h1>" in page
    assert "<p>Erster Absatz.</p>" in page
    assert "&lt;b&gt;Absatz&lt;/b&gt;" in page  # the city's text is text, never markup


def test_the_privacy_notice_shows_its_version_and_consent_records_it(client, settings):
    settings.PRIVACY_NOTICE_VERSION = "2026-11"
    assert "Fassung 2026-11" in client.get("/datenschutz/").content.decode()
    PageText.objects.create(page="privacy", title="Datenschutz", body="Neu.", version="2027-01")
    assert "Fassung 2027-01" in client.get("/datenschutz/").content.decode()
    subscriber = subscribers.find_or_create(ALICE)
    subscribers.request_subscription(subscriber, wording="q")
    assert ConsentEvent.objects.get().notice_version == "2027-01"
