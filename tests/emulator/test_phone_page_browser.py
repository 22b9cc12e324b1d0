"""The phone page in Chromium: what a city's staff does in a training, click by click.

The emulator runs under uvicorn on 127.0.0.1 in a thread, with a small webhook receiver in
another, so each test sees the exact webhooks the app would get.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from whatsapp_emulator.app import create_app
from whatsapp_emulator.emulator import Emulator

from .inbound_support import (
    LIST_INTERACTIVE,
    b64,
    list_message,
    record_business_message,
    tiny_png,
)
from .support import (
    AUTH,
    BUSINESS_ACCOUNT_ID,
    CITIZEN,
    SEND_PATH,
    button_message,
    make_config,
    text_message,
)

expect = pytest.importorskip("playwright.sync_api").expect

SECOND = "491709876543"


@dataclass
class Hooks:
    """Webhook bodies the emulator delivered, in arrival order."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, body: dict[str, Any]) -> None:
        with self.lock:
            self.bodies.append(body)

    def clear(self) -> None:
        with self.lock:
            self.bodies.clear()

    def values(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                change["value"] for body in self.bodies for change in body["entry"][0]["changes"]
            ]

    def messages(self) -> list[dict[str, Any]]:
        return [message for value in self.values() for message in value.get("messages", [])]


def start_receiver(hooks: Hooks) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            hooks.add(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Live:
    url: str
    emulator: Emulator
    hooks: Hooks
    http: httpx.Client

    def graph_send(self, body: dict[str, Any]) -> str:
        response = self.http.post(SEND_PATH, json=body, headers=AUTH)
        assert response.status_code == 200, response.text
        wamid: str = response.json()["messages"][0]["id"]
        return wamid

    def citizen_sends(self, body: dict[str, Any], wa_id: str = CITIZEN) -> str:
        response = self.http.post(f"/_emulator/users/{wa_id}/send", json=body)
        assert response.status_code == 200, response.text
        wamid: str = response.json()["id"]
        return wamid

    def chat(self, wa_id: str = CITIZEN) -> dict[str, Any]:
        chat: dict[str, Any] = self.http.get(f"/_emulator/users/{wa_id}/messages").json()
        return chat

    def wait_for_message(self, condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first webhook message that satisfies the condition (polls, never times)."""
        found: list[dict[str, Any]] = []

        def check() -> bool:
            found[:] = [message for message in self.hooks.messages() if condition(message)]
            return bool(found)

        wait_until(check)
        return found[0]


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def server() -> Iterator[Live]:
    hooks = Hooks()
    receiver = start_receiver(hooks)
    host, port = receiver.server_address[:2]
    app = create_app(
        make_config(
            webhook_url=f"http://{host}:{port}/webhook", sent_delay=0.01, delivered_delay=0.02
        )
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: uvicorn_server.started)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with httpx.Client(base_url=url, trust_env=False) as http:
        yield Live(url=url, emulator=app.state.emulator, hooks=hooks, http=http)
    uvicorn_server.should_exit = True
    thread.join(timeout=10)
    receiver.shutdown()
    sock.close()


@pytest.fixture
def live(server: Live) -> Live:
    assert server.http.post("/_emulator/reset").status_code == 200
    # Deliveries queued before the reset are dropped; wait for none in flight, then forget.
    wait_until(lambda: server.http.get("/_emulator/webhooks").json()["pending"] == 0)
    server.hooks.clear()
    return server


@pytest.fixture
def phone_page(page: Any, live: Live) -> Iterator[Any]:
    """The page, failing the test on any script error or Content-Security-Policy report."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    assert problems == []


def open_phone(page: Any, live: Live, query: str = "") -> Any:
    page.goto(f"{live.url}/phone{query}")
    expect(page.locator("#p1-number")).to_have_text(re.compile(r"\d+"))
    return page.locator("#p1-messages")


def city_message(page: Any, text: str) -> Any:
    return page.locator("#p1-messages li.from-city").filter(has_text=text)


def test_a_citizen_is_picked_and_writes_a_text(phone_page: Any, live: Live) -> None:
    open_phone(phone_page, live)
    phone_page.get_by_label("Telefonnummer mit Ländervorwahl, nur Ziffern").fill("+49 170 5550001")
    phone_page.get_by_role("button", name="Öffnen").click()
    expect(phone_page.locator("#p1-number")).to_have_text("491705550001")

    phone_page.locator("#p1-text").fill("Wann ist der Wertstoffhof offen?")
    phone_page.locator("#p1-composer").get_by_role("button", name="Senden").click()

    mine = phone_page.locator("#p1-messages li.from-me")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Wann ist der Wertstoffhof offen?")
    expect(mine).to_contain_text("Zugestellt")
    message = live.wait_for_message(lambda m: m.get("type") == "text")
    assert message["from"] == "491705550001"
    assert message["text"] == {"body": "Wann ist der Wertstoffhof offen?"}
    expect(phone_page).to_have_url(re.compile(r"wa_id=491705550001"))
    expect(phone_page.locator("#users")).to_contain_text("491705550001")


def test_the_citizens_own_message_shows_when_the_city_read_it(phone_page: Any, live: Live) -> None:
    wamid = live.citizen_sends({"type": "text", "text": "Hallo"})
    open_phone(phone_page, live)
    mine = phone_page.locator("#p1-messages li.from-me")
    expect(mine).to_contain_text("Zugestellt")

    read = live.http.post(
        SEND_PATH,
        json={"messaging_product": "whatsapp", "status": "read", "message_id": wamid},
        headers=AUTH,
    )

    assert read.status_code == 200
    expect(mine).to_contain_text("Gelesen")


def test_a_citizen_opens_from_the_address_and_two_phones_stand_side_by_side(
    phone_page: Any, live: Live
) -> None:
    phone_page.set_viewport_size({"width": 1600, "height": 1000})
    live.citizen_sends(
        {"type": "text", "text": "Ich bin die Zweite", "name": "Erika"}, wa_id=SECOND
    )

    open_phone(phone_page, live, f"?wa_id={CITIZEN}&wa_id={SECOND}")

    expect(phone_page.locator("#p1-number")).to_have_text(CITIZEN)
    expect(phone_page.locator("#p2-number")).to_have_text(SECOND)
    expect(phone_page.locator("#p2-messages")).to_contain_text("Ich bin die Zweite")
    first = phone_page.locator("#p1-messages").bounding_box()
    second = phone_page.locator("#p2-messages").bounding_box()
    assert second["x"] > first["x"] + first["width"]
    assert abs(second["y"] - first["y"]) < 2

    phone_page.get_by_role("button", name="Telefon schließen").click()
    expect(phone_page.locator("#p2-messages")).to_have_count(0)
    expect(phone_page).to_have_url(re.compile(rf"\?wa_id={CITIZEN}$"))

    phone_page.get_by_role("button", name=f"{SECOND} daneben öffnen").click()
    expect(phone_page.locator("#p2-number")).to_have_text(SECOND)


def test_an_invalid_number_in_the_address_is_explained(phone_page: Any, live: Live) -> None:
    phone_page.goto(f"{live.url}/?wa_id=12ab")

    expect(phone_page.get_by_role("alert").first).to_contain_text("ungültig")
    expect(phone_page.locator("#p1-number")).to_have_text(CITIZEN)


def test_a_tap_on_a_reply_button_reaches_the_app(phone_page: Any, live: Live) -> None:
    live.citizen_sends({"type": "text", "text": "Start"})
    wamid = live.graph_send(button_message([("subscribe", "Ja, gerne"), ("no", "Nein")]))
    open_phone(phone_page, live)
    bubble = city_message(phone_page, "Möchten Sie Nachrichten bekommen?")

    bubble.get_by_role("button", name="Ja, gerne").click()

    message = live.wait_for_message(lambda m: m.get("type") == "interactive")
    assert message["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "subscribe", "title": "Ja, gerne"},
    }
    assert message["context"]["id"] == wamid
    # The emulator's own delivery log names the tap once the receiver has answered.
    wait_until(
        lambda: any(
            attempt["kind"] == "message"
            and attempt["message_id"] == message["id"]
            and attempt["ok"]
            for attempt in live.http.get("/_emulator/webhooks").json()["attempts"]
        )
    )
    expect(phone_page.locator("#p1-messages li.from-me").last).to_contain_text("Ja, gerne")


def test_a_list_opens_and_a_row_is_picked(phone_page: Any, live: Live) -> None:
    live.citizen_sends({"type": "text", "text": "Abfall"})
    response = live.http.post(SEND_PATH, json=list_message(), headers=AUTH)
    if response.status_code == 200:
        wamid = response.json()["messages"][0]["id"]
    else:
        # Until the Graph route takes lists, the list goes straight into the chat.
        wamid = record_business_message(
            live.emulator, CITIZEN, "interactive", interactive=LIST_INTERACTIVE
        )
    open_phone(phone_page, live)
    bubble = city_message(phone_page, "Für welchen Bezirk")
    expect(bubble).to_contain_text("Abfallkalender")
    row = bubble.get_by_role("button", name=re.compile("Altstadt"))
    expect(row).to_be_hidden()

    opener = bubble.get_by_role("button", name=re.compile("Bezirk wählen"))
    opener.click()
    expect(opener).to_have_attribute("aria-expanded", "true")
    expect(bubble).to_contain_text("Innenstadt")
    expect(row).to_contain_text("Dienstags")
    row.click()

    message = live.wait_for_message(lambda m: m.get("type") == "interactive")
    assert message["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "district-1", "title": "Altstadt", "description": "Dienstags"},
    }
    assert message["context"]["id"] == wamid
    expect(phone_page.locator("#p1-messages li.from-me").last).to_contain_text("Altstadt")


def test_a_template_quick_reply_is_tapped(phone_page: Any, live: Live) -> None:
    template = {
        "name": "sperrmuell_termin",
        "language": "de",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Sperrmüll"},
            {
                "type": "BODY",
                "text": "Ihr Termin ist am {{1}}. Passt das?",
                "example": {"body_text": [["Montag"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Passt"},
                    {"type": "QUICK_REPLY", "text": "Anderer Termin"},
                ],
            },
        ],
    }
    created = live.http.post(
        f"/v23.0/{BUSINESS_ACCOUNT_ID}/message_templates", json=template, headers=AUTH
    )
    if created.status_code in (404, 405):
        pytest.skip("templates are not emulated yet (no message_templates route)")
    assert created.status_code in (200, 400), created.text  # 400: made by an earlier run
    wamid = live.graph_send(
        {
            "messaging_product": "whatsapp",
            "to": CITIZEN,
            "type": "template",
            "template": {
                "name": "sperrmuell_termin",
                "language": {"code": "de"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "Montag, 3. März"}]},
                    {
                        "type": "button",
                        "sub_type": "quick_reply",
                        "index": "1",
                        "parameters": [{"type": "payload", "payload": "RESCHEDULE"}],
                    },
                ],
            },
        }
    )
    open_phone(phone_page, live)
    bubble = city_message(phone_page, "Ihr Termin ist am Montag, 3. März. Passt das?")
    expect(bubble).to_contain_text("Sperrmüll")

    bubble.get_by_role("button", name="Anderer Termin").click()

    message = live.wait_for_message(lambda m: m.get("type") == "button")
    assert message["button"] == {"payload": "RESCHEDULE", "text": "Anderer Termin"}
    assert message["context"]["id"] == wamid


def test_a_template_with_a_picture_header_shows_the_picture(phone_page: Any, live: Live) -> None:
    template = {
        "name": "baustelle_hinweis",
        "language": "de",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "IMAGE"},
            {"type": "BODY", "text": "Baustelle in der Kaiserstraße ab Montag."},
        ],
    }
    created = live.http.post(
        f"/v23.0/{BUSINESS_ACCOUNT_ID}/message_templates", json=template, headers=AUTH
    )
    if created.status_code in (404, 405):
        pytest.skip("templates are not emulated yet (no message_templates route)")
    live.citizen_sends(
        {"type": "image", "media": {"data_base64": b64(tiny_png(60, 20)), "mime_type": "image/png"}}
    )
    media_id = live.chat()["messages"][-1]["media"]["id"]
    header = {"type": "header", "parameters": [{"type": "image", "image": {"id": media_id}}]}
    live.graph_send(
        {
            "messaging_product": "whatsapp",
            "to": CITIZEN,
            "type": "template",
            "template": {
                "name": "baustelle_hinweis",
                "language": {"code": "de"},
                "components": [header],
            },
        }
    )
    open_phone(phone_page, live)

    picture = city_message(phone_page, "Baustelle in der Kaiserstraße").get_by_role(
        "img", name="Bild der Stadt"
    )
    expect(picture).to_be_visible()
    wait_until(lambda: picture.evaluate("element => element.naturalWidth") == 60)


def test_the_citizen_reacts_and_sees_the_citys_reaction(phone_page: Any, live: Live) -> None:
    mine = live.citizen_sends({"type": "text", "text": "Danke für die Info"})
    wamid = live.graph_send(text_message("Die Bibliothek hat heute bis 20 Uhr offen."))
    reaction = {
        "messaging_product": "whatsapp",
        "to": CITIZEN,
        "type": "reaction",
        "reaction": {"message_id": mine, "emoji": "❤️"},
    }
    if live.http.post(SEND_PATH, json=reaction, headers=AUTH).status_code != 200:
        # Until the Graph route takes reactions, the city's reaction goes straight into the chat.
        record_business_message(live.emulator, CITIZEN, "reaction", reaction=reaction["reaction"])
    open_phone(phone_page, live)
    expect(phone_page.locator("#p1-messages li.from-me")).to_contain_text("Reaktion der Stadt: ❤️")
    bubble = city_message(phone_page, "Die Bibliothek")

    bubble.get_by_role("button", name="Reagieren auf diese Nachricht").click()
    bubble.get_by_role("button", name="Mit 👍 reagieren").click()

    message = live.wait_for_message(lambda m: m.get("type") == "reaction")
    assert message["reaction"] == {"message_id": wamid, "emoji": "👍"}
    expect(bubble).to_contain_text("Ihre Reaktion: 👍")

    bubble.get_by_role("button", name="Reaktion ändern auf diese Nachricht").click()
    bubble.get_by_role("button", name="Reaktion entfernen").click()

    live.wait_for_message(lambda m: m.get("type") == "reaction" and m["reaction"]["emoji"] == "")
    expect(bubble).not_to_contain_text("Ihre Reaktion")
    expect(bubble.get_by_role("button", name="Reagieren auf diese Nachricht")).to_be_visible()


def test_the_citizen_sends_a_location(phone_page: Any, live: Live) -> None:
    open_phone(phone_page, live)
    phone_page.locator("#p1-place-box summary").click()
    expect(phone_page.get_by_label("Breitengrad")).to_have_value("49,0093")

    phone_page.get_by_label("Name des Ortes (freiwillig)").fill("Schlagloch vor dem Rathaus")
    phone_page.locator("#p1-place-form").get_by_role("button", name="Standort senden").click()

    message = live.wait_for_message(lambda m: m.get("type") == "location")
    assert message["location"] == {
        "latitude": 49.0093,
        "longitude": 8.4039,
        "name": "Schlagloch vor dem Rathaus",
        "address": "Marktplatz, 76133 Karlsruhe",
    }
    mine = phone_page.locator("#p1-messages li.from-me")
    expect(mine).to_contain_text("Schlagloch vor dem Rathaus")
    expect(mine).to_contain_text("49,0093° N, 8,4039° O")
    expect(phone_page.locator("#p1-place-form")).to_be_hidden()


def test_a_wrong_coordinate_is_explained_and_not_sent(phone_page: Any, live: Live) -> None:
    open_phone(phone_page, live)
    phone_page.locator("#p1-place-box summary").click()
    phone_page.get_by_label("Breitengrad").fill("95")

    phone_page.locator("#p1-place-form").get_by_role("button", name="Standort senden").click()

    expect(phone_page.locator("#p1-problem")).to_contain_text("zwischen -90 und 90")
    expect(phone_page.get_by_label("Breitengrad")).to_be_focused()
    assert live.chat()["messages"] == []


def test_the_citizen_sends_a_photo(phone_page: Any, live: Live) -> None:
    png = tiny_png(width=40, height=30)
    open_phone(phone_page, live)
    phone_page.locator("#p1-photo-box summary").click()

    phone_page.get_by_label("Foto (JPEG oder PNG, höchstens 5 MB)").set_input_files(
        {"name": "schlagloch.png", "mimeType": "image/png", "buffer": png}
    )
    phone_page.get_by_label("Bildunterschrift (freiwillig)").fill("Schlagloch in der Hauptstraße")
    phone_page.locator("#p1-photo-form").get_by_role("button", name="Foto senden").click()

    message = live.wait_for_message(lambda m: m.get("type") == "image")
    assert message["image"]["caption"] == "Schlagloch in der Hauptstraße"
    assert message["image"]["mime_type"] == "image/png"
    download = live.http.get(f"/_emulator/media/{message['image']['id']}")
    assert download.content == png
    image = phone_page.get_by_role("img", name="Schlagloch in der Hauptstraße")
    expect(image).to_be_visible()
    wait_until(lambda: image.evaluate("element => element.complete && element.naturalWidth") == 40)


def test_a_photo_of_the_wrong_kind_is_refused_in_the_page(phone_page: Any, live: Live) -> None:
    open_phone(phone_page, live)
    phone_page.locator("#p1-photo-box summary").click()
    phone_page.get_by_label("Foto (JPEG oder PNG, höchstens 5 MB)").set_input_files(
        {"name": "notiz.txt", "mimeType": "text/plain", "buffer": b"kein Bild"}
    )

    phone_page.locator("#p1-photo-form").get_by_role("button", name="Foto senden").click()

    expect(phone_page.locator("#p1-problem")).to_contain_text("JPEG oder PNG")
    assert live.chat()["messages"] == []


def test_business_media_and_places_are_shown(phone_page: Any, live: Live) -> None:
    live.citizen_sends({"type": "text", "text": "Start"})
    photo = live.citizen_sends(
        {"type": "image", "media": {"data_base64": b64(tiny_png()), "mime_type": "image/png"}}
    )
    media_id = live.chat()["messages"][-1]["media"]["id"]
    assert photo
    image = {"id": media_id, "caption": "Der neue Spielplatz"}
    document = {"link": f"{live.url}/_emulator/media/{media_id}", "filename": "Plan.pdf"}
    place = {
        "latitude": 49.0069,
        "longitude": 8.4037,
        "name": "Schlossplatz",
        "address": "Schlossbezirk 10",
    }
    sent = [
        live.http.post(
            SEND_PATH,
            json={"messaging_product": "whatsapp", "to": CITIZEN, "type": kind, kind: body},
            headers=AUTH,
        )
        for kind, body in (("image", image), ("document", document), ("location", place))
    ]
    if any(response.status_code != 200 for response in sent):
        pytest.skip(
            f"the Graph route does not send images, documents or places yet: {sent[0].text}"
        )
    open_phone(phone_page, live)

    picture = phone_page.locator("#p1-messages li.from-city").get_by_role(
        "img", name="Der neue Spielplatz"
    )
    expect(picture).to_be_visible()
    link = phone_page.locator("#p1-messages li.from-city").get_by_role(
        "link", name=re.compile("Plan.pdf")
    )
    expect(link).to_have_attribute("download", "Plan.pdf")
    expect(city_message(phone_page, "Schlossplatz")).to_contain_text("49,0069° N, 8,4037° O")


def test_formatting_is_rendered_and_markup_stays_text(phone_page: Any, live: Live) -> None:
    live.citizen_sends({"type": "text", "text": "Start"})
    live.graph_send(
        text_message(
            "*Wichtig* _heute_ ~gestern~ ```code_name``` <script>window.hacked = 1</script>"
            '<img src=x id="injected">'
        )
    )
    open_phone(phone_page, live)
    bubble = city_message(phone_page, "Wichtig")

    expect(bubble.locator("strong")).to_have_text("Wichtig")
    expect(bubble.locator("em")).to_have_text("heute")
    expect(bubble.locator("s")).to_have_text("gestern")
    expect(bubble.locator("code")).to_have_text("code_name")
    expect(bubble).to_contain_text("<script>window.hacked = 1</script>")
    assert phone_page.locator("#injected").count() == 0
    assert bubble.locator("script").count() == 0
    assert phone_page.evaluate("() => window.hacked") is None


def test_the_marketing_switch_stops_and_resumes(phone_page: Any, live: Live) -> None:
    open_phone(phone_page, live)
    switch = phone_page.get_by_role("switch", name="Werbung stoppen")
    expect(switch).not_to_be_checked()

    switch.check()

    expect(phone_page.locator("#p1-marketing-state")).to_contain_text("keine Werbung")
    wait_until(lambda: any(v.get("user_preferences") for v in live.hooks.values()))
    [stop] = [p for v in live.hooks.values() for p in v.get("user_preferences", [])]
    assert (stop["wa_id"], stop["value"]) == (CITIZEN, "stop")
    assert live.chat()["marketing_stopped"] is True

    switch.uncheck()

    wait_until(lambda: len([v for v in live.hooks.values() if v.get("user_preferences")]) == 2)
    expect(switch).not_to_be_checked()
    assert live.chat()["marketing_stopped"] is False


def test_the_chat_is_read_when_it_is_visible(phone_page: Any, live: Live) -> None:
    live.citizen_sends({"type": "text", "text": "Start"})
    wamid = live.graph_send(text_message("Willkommen beim Stadtboten!"))
    open_phone(phone_page, live)
    expect(city_message(phone_page, "Willkommen")).to_be_visible()

    wait_until(
        lambda: any(m["id"] == wamid and m["status"] == "read" for m in live.chat()["messages"])
    )


def test_keyboard_only_reaches_the_text_box_and_enter_sends(phone_page: Any, live: Live) -> None:
    open_phone(phone_page, live)
    phone_page.locator("body").focus()
    for _ in range(40):
        phone_page.keyboard.press("Tab")
        if phone_page.evaluate("() => document.activeElement.id") == "p1-text":
            break
    expect(phone_page.locator("#p1-text")).to_be_focused()

    phone_page.keyboard.type("Hallo mit der Tastatur")
    phone_page.keyboard.press("Enter")

    message = live.wait_for_message(lambda m: m.get("type") == "text")
    assert message["text"] == {"body": "Hallo mit der Tastatur"}
    expect(phone_page.locator("#p1-text")).to_have_value("")
    expect(phone_page.locator("#p1-text")).to_be_focused()


def test_the_skip_link_is_the_first_stop_and_jumps_to_the_text_box(
    phone_page: Any, live: Live
) -> None:
    open_phone(phone_page, live)
    phone_page.locator("body").focus()

    phone_page.keyboard.press("Tab")
    skip = phone_page.get_by_role("link", name="Zum Eingabefeld springen")
    expect(skip).to_be_focused()
    phone_page.keyboard.press("Enter")

    expect(phone_page.locator("#p1-text")).to_be_focused()


def test_focus_is_visible_and_every_field_has_a_label(phone_page: Any, live: Live) -> None:
    live.citizen_sends({"type": "text", "text": "Start"})
    live.graph_send(button_message([("yes", "Ja")]))
    open_phone(phone_page, live, f"?wa_id={CITIZEN}&wa_id={SECOND}")
    expect(city_message(phone_page, "Möchten Sie")).to_be_visible()
    phone_page.locator("#p1-place-box summary").click()

    unlabelled = phone_page.evaluate(
        """() => [...document.querySelectorAll("input, textarea, select")]
            .filter((field) => field.labels.length === 0 && !field.getAttribute("aria-label"))
            .map((field) => field.outerHTML)"""
    )
    assert unlabelled == []
    duplicates = phone_page.evaluate(
        """() => { const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
                   return ids.filter((id, i) => ids.indexOf(id) !== i); }"""
    )
    assert duplicates == []
    button = city_message(phone_page, "Möchten Sie").get_by_role("button", name="Ja")
    button.focus()
    phone_page.keyboard.press("Shift+Tab")
    phone_page.keyboard.press("Tab")
    outline = button.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline == "solid"


def test_the_layout_looks_right(phone_page: Any, live: Live, tmp_path: Path) -> None:
    """A screenshot to look at by eye (kept in pytest's temporary folder, never committed)."""
    phone_page.set_viewport_size({"width": 1600, "height": 1100})
    mine = live.citizen_sends({"type": "text", "text": "Hallo, ich möchte den *Abfallkalender*."})
    live.graph_send(
        button_message([("yes", "Ja, gerne"), ("no", "Nein")], body="Für welche Straße?")
    )
    live.citizen_sends(
        {"type": "reaction", "message_id": live.chat()["messages"][-1]["id"], "emoji": "👍"}
    )
    live.citizen_sends(
        {"type": "location", "latitude": 49.0093, "longitude": 8.4039, "name": "Marktplatz"}
    )
    live.citizen_sends(
        {
            "type": "image",
            "media": {
                "data_base64": b64(tiny_png(160, 90)),
                "mime_type": "image/png",
                "caption": "Hier",
            },
        }
    )
    live.citizen_sends({"type": "text", "text": "Hallo aus dem zweiten Telefon"}, wa_id=SECOND)
    assert mine
    open_phone(phone_page, live, f"?wa_id={CITIZEN}&wa_id={SECOND}")
    # The reaction shows on the message it belongs to, not as a message of its own.
    expect(phone_page.locator("#p1-messages > li")).to_have_count(4)
    expect(phone_page.locator("#p2-messages > li")).to_have_count(1)

    path = tmp_path / "phone-page.png"
    phone_page.screenshot(path=str(path), full_page=True)

    assert path.stat().st_size > 10_000
