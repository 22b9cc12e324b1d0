"""The inbox in a real browser: an agent logs in, finds the citizen's conversation, sees the
photo and where the place lies in the city, answers with a canned reply and resolves the
concern; the answer is queued for the chat and the citizen is told of the resolution."""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

import pytest
from django.test import override_settings

from stadtbote.accounts import roles
from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.dialogue.models import Reply
from stadtbote.inbox import signals
from stadtbote.inbox.models import CannedReply, Message, Status
from tests.inbox_pages import chat_concern, citizen, sends_place, stored_photo, writes

PASSWORD = "ein recht langes Passwort"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module", autouse=True)
def _database_beside_playwright():
    # As in test_accessibility: Playwright's idle loop in this thread makes Django think
    # database calls come from async code; they do not.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def told():
    heard: list[dict] = []

    def listen(sender, **kwargs):
        heard.append(kwargs)

    signals.concern_status_changed.connect(listen, weak=False)
    yield heard
    signals.concern_status_changed.disconnect(listen)


@override_settings(CITY_BOUNDS="50.78,8.72,50.84,8.81")
def test_an_agent_answers_with_a_canned_reply_and_resolves_the_concern(
    live_server, page, django_user_model, told
):
    agent = django_user_model.objects.create_user("gerd", password=PASSWORD)
    roles.assign(agent, Role.AGENT)
    conversation = writes(citizen(), "Vor dem Rathaus ist ein tiefes Schlagloch.").conversation
    photo = stored_photo(conversation, caption="Das Loch")
    place = sends_place(conversation.subscriber, 50.8098, 8.7707)
    concern = chat_concern(
        conversation, photo=photo, latitude=place.latitude, longitude=place.longitude
    )
    CannedReply.objects.create(
        title="Danke, wird erledigt", text="Danke für Ihre Meldung! Der Bauhof kümmert sich."
    )

    # The inbox sends a stranger to the login, and back.
    page.goto(f"{live_server.url}/posteingang/")
    page.fill("#id_username", "gerd")
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlparse(url).path == "/posteingang/")
    row = page.locator("table.inbox tbody tr").first
    assert concern.reference in row.inner_text()
    row.get_by_role("link", name=f"Bürger·in #{conversation.pk}").click()
    page.wait_for_url(lambda url: urlparse(url).path == f"/posteingang/{conversation.pk}/")

    # The photo is there (loaded from the inbox itself) and the place is on the city's map.
    photo_img = page.locator(f"li#m{photo.pk} img.photo")
    photo_img.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth", photo_img.element_handle())
    assert page.locator(f"li#m{place.pk} svg.citymap circle.pin").count() == 1
    card = page.locator("section.concern")
    assert concern.reference in card.inner_text()
    assert card.locator("svg.citymap").count() == 1 and card.locator("img.photo").count() == 1
    assert "openstreetmap.org/?mlat=50.809800" in (
        card.get_by_role("link", name=re.compile("OpenStreetMap")).get_attribute("href") or ""
    )

    # A canned reply fills the empty answer as it is chosen; sent, it is queued for the chat.
    page.select_option("#id_canned", label="Danke, wird erledigt")
    assert page.input_value("#id_text") == "Danke für Ihre Meldung! Der Bauhof kümmert sich."
    page.click("form[action$='/antworten/'] button[type=submit]")
    page.wait_for_selector("text=Die Antwort ist unterwegs.")
    answer = Message.objects.get(direction=Message.Direction.OUT)
    assert answer.reply is not None and not answer.held
    assert Reply.objects.get(pk=answer.reply_id).content["text"].startswith("Danke für Ihre")
    assert page.locator(f"li#m{answer.pk}.msg-out").count() == 1

    # Resolved with a note: the concern says so, and the citizen's notification is triggered.
    page.select_option(f"#concern{concern.pk}_status", "resolved")
    page.fill(f"#concern{concern.pk}_note", "Das Loch ist geflickt.")
    card.get_by_role("button", name="Status der Meldung ändern").click()
    page.wait_for_selector(f"text=Meldung {concern.reference}: erledigt.")
    assert urlparse(page.url).path == f"/posteingang/{conversation.pk}/"
    concern.refresh_from_db()
    assert concern.status == Status.RESOLVED and concern.status_note == "Das Loch ist geflickt."
    assert [(t["status"], t["by"].username) for t in told] == [(Status.RESOLVED, "gerd")]
    # The citizen is told (inside the window, as free text), and staff see what was said.
    news = Message.objects.get(direction=Message.Direction.AUTO, concern=concern)
    assert news.reply is not None and concern.reference in news.text
    assert page.locator(f"li#m{news.pk}.msg-auto").count() == 1
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "inbox.answered",
        "inbox.concern_status_changed",
    }
