"""The issue's "done means", tried as a new user would, through the real app, its worker and
the real emulator over HTTP: a citizen reports a dark street light on the emulator's phone page
(list, location form, photo form, description) and reads the reference number; an agent sees
the concern in the inbox with the photo (downloaded through the emulator) and its place on the
city's map, and resolves it with a note; the phone page shows the news; an Open311 client reads
the same concern, with the note and a media URL that serves the photo."""

from __future__ import annotations

import re
import secrets
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from tests.e2e.stack import Stack, StackOptions, wait_until

pytestmark = pytest.mark.e2e

CITIZEN = "491701120042"
LATITUDE, LONGITUDE = 50.8096, 8.7706  # the market square, inside the bounds below
DESCRIPTION = "Laterne vor Hausnummer 12 ist seit Tagen aus"
NOTE = "Leuchtmittel getauscht."
REFERENCE = re.compile(r"M-\d{4}-\d{5,}")

# One process start: an agent with a password to log in and an API token for Open311.
_AGENT = """
from django.contrib.auth.models import User
from stadtbote.accounts import roles
from stadtbote.accounts.roles import Role
from stadtbote.accounts.tokens import create_token
agent = User.objects.create_user("gerd", "gerd@stadt.example", PASSWORD)
roles.assign(agent, Role.AGENT)
print(create_token(agent))
"""


def png(width: int, height: int) -> bytes:
    """A real (decodable) PNG, yellow like a street light, built here: no image in the repo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\xd4\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bit, RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PHOTO = png(48, 32)


@pytest.fixture
def stack_options() -> StackOptions:
    return StackOptions(
        env={"STADTBOTE_CITY_BOUNDS": "50.75,8.65,50.87,8.83", "STADTBOTE_CITY_NAME": "Marburg"}
    )


def test_a_reported_street_light_is_seen_resolved_told_and_read_over_open311(stack, browser, page):
    try:
        _journey(stack, browser, page)
    except AssertionError:
        print(stack.logs())
        raise


def _journey(stack: Stack, browser: Any, phone: Any) -> None:
    password = secrets.token_urlsafe(12)
    token = stack.command("shell", "-c", _AGENT.replace("PASSWORD", repr(password)))
    token = token.strip().splitlines()[-1]

    reference = _report_on_the_phone_page(stack, phone)

    agent = browser.new_context(locale="de-DE").new_page()
    try:
        _resolve_in_the_inbox(stack, agent, reference, password)
    finally:
        agent.context.close()

    # The phone page shows the news, with the reference number and the agent's note.
    news = _city_says(phone, f"Ihre Meldung {reference} ist erledigt")
    assert NOTE in news.inner_text()

    _read_over_open311(stack, reference, token)


def _city_says(phone: Any, fragment: str) -> Any:
    """The newest bubble from the city with `fragment`, once the page (polling) shows it."""
    bubble = phone.locator("#p1-messages li.from-city").filter(has_text=fragment).last
    bubble.wait_for()
    return bubble


def _answered(phone: Any, act: Callable[[], None], fragment: str) -> Any:
    """Does `act` and waits for the city's next bubble with `fragment`: one already shown
    before does not count."""
    bubbles = phone.locator("#p1-messages li.from-city")
    seen = bubbles.count()
    act()

    def answer() -> Any:
        new = [bubbles.nth(i) for i in range(seen, bubbles.count())]
        return next((bubble for bubble in new if fragment in bubble.inner_text()), None)

    return wait_until(answer, what=f"an answer with {fragment!r}", interval=0.2)


def _write(phone: Any, text: str) -> None:
    phone.fill("#p1-text", text)
    phone.press("#p1-text", "Enter")


def _report_on_the_phone_page(stack: Stack, phone: Any) -> str:
    phone.goto(f"{stack.emulator_url}/phone")
    phone.fill("#number", CITIZEN)
    phone.get_by_role("button", name="Öffnen").click()
    phone.wait_for_function(f"document.getElementById('p1-number').textContent === '{CITIZEN}'")

    # "Melden": the categories come as a list; open it and pick "Beleuchtung".
    listed = _answered(phone, lambda: _write(phone, "Melden"), "Worum geht es?")
    listed.locator("button.opener").click()
    _answered(phone, listed.get_by_role("button", name="Beleuchtung").click, "Standort")

    # The place with the page's location form (German decimal commas, as a user types them).
    phone.get_by_text("Standort teilen").click()
    phone.fill("#p1-latitude", f"{LATITUDE}".replace(".", ","))
    phone.fill("#p1-longitude", f"{LONGITUDE}".replace(".", ","))
    phone.fill("#p1-place", "Marktplatz")
    phone.fill("#p1-address", "Marktplatz 12, 35037 Marburg")
    send_place = phone.get_by_role("button", name="Standort senden").click
    _answered(phone, send_place, "Haben Sie ein Foto")

    # The photo with the page's photo form; the phone shows it as sent.
    phone.get_by_text("Foto anhängen").click()
    phone.set_input_files(
        "#p1-photo", {"name": "laterne.png", "mimeType": "image/png", "buffer": PHOTO}
    )
    _answered(phone, phone.get_by_role("button", name="Foto senden").click, "Beschreiben Sie")
    sent = phone.locator("#p1-messages li.from-me img").last
    loaded = "img => img.complete && img.naturalWidth"
    wait_until(lambda: phone.evaluate(loaded, sent.element_handle()), what="the photo sent")

    answer = _answered(phone, lambda: _write(phone, DESCRIPTION), "Ihre Nummer")
    found = REFERENCE.search(answer.inner_text())
    assert found, answer.inner_text()
    assert phone.inner_text("#p1-problem") == "" and phone.inner_text("#problem") == ""
    return found.group(0)


def _resolve_in_the_inbox(stack: Stack, agent: Any, reference: str, password: str) -> None:
    # The inbox sends a stranger to the login, and back.
    agent.goto(f"{stack.app_url}/posteingang/")
    agent.fill("#id_username", "gerd")
    agent.fill("#id_password", password)
    agent.keyboard.press("Enter")
    agent.wait_for_url(lambda url: urlparse(url).path == "/posteingang/")
    # An agent of the lighting's department looks at what is theirs.
    agent.get_by_label("Abteilung").select_option(label="Tiefbauamt")
    agent.get_by_role("button", name="Anzeigen").click()
    agent.wait_for_url(lambda url: "department=" in urlparse(url).query)
    row = agent.locator("table.inbox tbody tr").filter(has_text=reference)
    assert row.count() == 1
    assert "Tiefbauamt" in row.inner_text()
    row.get_by_role("link", name=re.compile(r"Bürger·in #\d+")).click()
    agent.wait_for_url(lambda url: re.fullmatch(r"/posteingang/\d+/", urlparse(url).path))

    # The worker downloads the photo from the emulator after the report; until then the card
    # says the photo is pending, so the agent looks again, as a person would.
    card = agent.locator("section.concern").filter(has_text=reference)

    def photo_shown() -> bool:
        if card.locator("img.photo").count():
            return True
        agent.reload()
        return False

    wait_until(photo_shown, what="the photo on the concern's card", interval=0.5)
    photo = card.locator("img.photo")
    loaded = "img => img.complete && img.naturalWidth"
    wait_until(lambda: agent.evaluate(loaded, photo.element_handle()), what="the photo loaded")
    size = agent.evaluate("img => [img.naturalWidth, img.naturalHeight]", photo.element_handle())
    assert size == [48, 32]  # the very picture the phone sent
    facts = card.locator("dl.facts").inner_text()
    assert "Beleuchtung" in facts and DESCRIPTION in facts

    # The place: a pin on the city's map and the OpenStreetMap link with the coordinates sent.
    assert card.locator("svg.citymap circle.pin").count() == 1
    osm = card.get_by_role("link", name=re.compile("OpenStreetMap")).get_attribute("href") or ""
    assert f"mlat={LATITUDE:.6f}&mlon={LONGITUDE:.6f}" in osm, osm
    assert f"{LATITUDE:.5f}".replace(".", ",") in card.locator(".coordinates").inner_text()

    # Resolved, with a note.
    status = card.locator("select[name=status]")
    status.select_option("resolved")
    card.locator("textarea[name=note], input[name=note]").fill(NOTE)
    card.get_by_role("button", name="Status der Meldung ändern").click()
    agent.wait_for_selector(f"text=Meldung {reference}: erledigt.")
    assert NOTE in card.locator("dl.facts").inner_text()


def _read_over_open311(stack: Stack, reference: str, token: str) -> None:
    base = f"{stack.app_url}/open311/v2/requests/{reference}"
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        answer = client.get(f"{base}.json")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        (request,) = answer.json()
        assert request["service_request_id"] == reference
        assert (request["status"], request["service_code"]) == ("closed", "beleuchtung")
        assert (request["lat"], request["long"]) == (LATITUDE, LONGITUDE)
        assert request["status_notes"] == NOTE
        assert request["description"] == DESCRIPTION
        assert "Marktplatz 12" in request["address"]
        assert request["agency_responsible"] == "Tiefbauamt"

        answer = client.get(f"{base}.xml")
        assert answer.status_code == 200, answer.text
        root = ET.fromstring(answer.content)
        (xml_request,) = root.findall("request")
        field = {child.tag: (child.text or "") for child in xml_request}
        assert field["service_request_id"] == reference
        assert (field["status"], field["service_code"]) == ("closed", "beleuchtung")
        assert (float(field["lat"]), float(field["long"])) == (LATITUDE, LONGITUDE)
        assert field["status_notes"] == NOTE
        assert field["media_url"] == request["media_url"]

        # The media URL serves the photo as sent, to anyone holding the link (no key needed).
        assert request["media_url"].startswith(f"{stack.app_url}/open311/v2/media/")
        photo = httpx.get(request["media_url"], timeout=30)
        assert photo.status_code == 200
        assert photo.headers["content-type"] == "image/png"
        assert photo.content == PHOTO

        # Without the key the concern is not readable.
        assert httpx.get(f"{base}.json", timeout=30).status_code == 403
