"""A defect report on the emulator's phone, against the real app and its worker: "Melden",
a category from the list, a pin outside the city (refused) and one inside, a PNG photo, a
description, the reference number; an addition; staff set the concern in progress and
resolved, and the phone is told each time; later, outside the 24-hour window, the news comes
as the "stadt_meldung" template."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from tests.e2e.phone import Phone, text_of
from tests.e2e.stack import Stack, StackOptions, wait_until

pytestmark = pytest.mark.e2e

CITIZEN = "491701120001"
MARKET = {"latitude": 50.8096, "longitude": 8.7706, "name": "Marktplatz"}
GIESSEN = {"latitude": 50.5841, "longitude": 8.6784}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))

_TEMPLATES = """
from stadtbote import demo
print(" ".join(demo.register_inbox_templates()))
"""

# Staff (an agent) change the concern's status, as the inbox would.
_STATUS = """
from django.contrib.auth.models import User
from stadtbote.accounts import roles
from stadtbote.accounts.roles import Role
from stadtbote.inbox import actions
from stadtbote.inbox.models import Concern, Status
agent, created = User.objects.get_or_create(username="gerd")
if created:
    roles.assign(agent, Role.AGENT)
concern = Concern.objects.get(reference="REFERENCE")
print(actions.set_concern_status(concern, Status(STATUS), by=agent, note=NOTE))
"""

_WINDOW_CLOSED = """
from datetime import timedelta
from django.utils import timezone
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import Subscriber
citizen = subscribers.find("NUMBER")
Subscriber.objects.filter(pk=citizen.pk).update(last_inbound_at=timezone.now() - timedelta(hours=25))
"""


@pytest.fixture
def stack_options() -> StackOptions:
    return StackOptions(
        env={"STADTBOTE_CITY_BOUNDS": "50.75,8.65,50.87,8.83", "STADTBOTE_CITY_NAME": "Marburg"}
    )


def test_a_citizen_reports_a_dark_street_light_and_hears_when_it_is_fixed(stack):
    try:
        _journey(stack, Phone(stack, CITIZEN))
    except AssertionError:
        print(stack.logs())
        raise


def _journey(stack: Stack, phone: Phone) -> None:
    assert stack.command("shell", "-c", _TEMPLATES).split()[-2:] == ["APPROVED", "APPROVED"]

    # 1. "Melden" brings the list of categories; the citizen picks "Beleuchtung".
    phone.write("Melden")
    listed = phone.wait_for(_interactive_with("Worum geht es?"), "the category list")
    rows = [r for s in listed["interactive"]["action"]["sections"] for r in s["rows"]]
    assert [r["title"] for r in rows][:6] == [
        "Straße/Gehweg",
        "Beleuchtung",
        "Müll",
        "Grünflächen",
        "Verkehrszeichen",
        "Sonstiges",
    ]
    assert rows[-1]["id"] == "report:cancel"
    lighting = next(r for r in rows if r["title"] == "Beleuchtung")
    _answered(phone, lambda: phone.pick(listed, lighting["id"]), "Standort")

    # 2. A pin in the neighbouring town is refused politely; one on the market square taken.
    _answered(phone, lambda: phone.send({"type": "location", **GIESSEN}), "außerhalb von Marburg")
    photo_question = _answered(
        phone, lambda: phone.send({"type": "location", **MARKET}), "Haben Sie ein Foto"
    )
    assert [b["reply"]["id"] for b in photo_question["interactive"]["action"]["buttons"]] == [
        "report:skip",
        "report:cancel",
    ]

    # 3. A photo, then the description; the answer carries the reference number.
    image = {"data_base64": base64.b64encode(PNG).decode(), "mime_type": "image/png"}
    _answered(phone, lambda: phone.send({"type": "image", "media": image}), "Beschreiben Sie")
    done = _answered(
        phone, lambda: phone.write("Die Laterne vor Haus 3 ist dunkel."), "Ihre Nummer"
    )
    reference = re.search(r"M-\d{4}-\d{5,}", text_of(done)).group(0)
    ((category, latitude, photo, description, concern_id),) = stack.query(
        "SELECT cat.name, c.latitude, c.photo_id, c.description, c.id FROM inbox_concern c"
        " JOIN inbox_category cat ON cat.id = c.category_id WHERE c.reference = %s",
        [reference],
    )
    assert (category, latitude, description) == (
        "Beleuchtung",
        MARKET["latitude"],
        "Die Laterne vor Haus 3 ist dunkel.",
    )
    assert photo is not None
    kinds = stack.query(
        "SELECT kind FROM inbox_message WHERE concern_id = %s AND direction = 'in' ORDER BY id",
        [concern_id],
    )
    assert [k for (k,) in kinds] == ["text", "text", "location", "location", "image", "text"]

    # 4. "Ergänzen": the next message is added to the report.
    add = f"report:add:{concern_id}"
    _answered(phone, lambda: phone.tap(done, add), reference)
    _answered(phone, lambda: phone.write("Auch die daneben flackert."), "hinzugefügt")

    # 5. Staff set it in progress, then resolved: the phone is told both.
    _set_status(stack, reference, "in_progress")
    phone.wait_for_text(f"Ihre Meldung {reference} wird jetzt bearbeitet")
    _set_status(stack, reference, "resolved", "Leuchtmittel getauscht.")
    resolved = phone.wait_for_text(f"Ihre Meldung {reference} ist erledigt")
    assert "Leuchtmittel getauscht." in text_of(resolved)

    # 6. A day later (outside the 24-hour window) it is reopened: the template tells it.
    stack.command("shell", "-c", _WINDOW_CLOSED.replace("NUMBER", CITIZEN))
    _set_status(stack, reference, "new", "Die Laterne ist wieder ausgefallen.")
    news = phone.wait_for(
        lambda m: m["type"] == "template" and reference in json.dumps(m.get("template")),
        "the template with the news",
    )
    assert news["template"]["name"] == "stadt_meldung"
    assert "Die Laterne ist wieder ausgefallen." in json.dumps(news["template"], ensure_ascii=False)

    # Staff see what the citizen was told, each with its send record: the confirmation with
    # the reference number and the three notifications.
    told = stack.query(
        "SELECT count(*) FROM inbox_message WHERE concern_id = %s AND direction = 'auto'"
        " AND reply_id IS NOT NULL",
        [concern_id],
    )
    assert told == [(4,)]


def _set_status(stack: Stack, reference: str, status: str, note: str = "") -> None:
    script = (
        _STATUS.replace("REFERENCE", reference)
        .replace("STATUS", repr(status))
        .replace("NOTE", repr(note))
    )
    assert stack.command("shell", "-c", script).split()[-1] == "True"


def _interactive_with(fragment: str) -> Any:
    return lambda m: m["type"] == "interactive" and fragment in text_of(m)


def _answered(phone: Phone, act: Any, fragment: str) -> dict[str, Any]:
    """Does `act` and waits for the city's next answer containing `fragment`."""
    seen = phone.count_received()
    act()
    return wait_until(
        lambda: next((m for m in phone.received()[seen:] if fragment in text_of(m)), None),
        what=f"an answer with {fragment!r}",
    )
