"""A citizen's whole journey on the emulator's phone, against the real app: subscribe, choose
topics and a district, pause, ask what is stored, erase, and then nothing personal is left."""

from __future__ import annotations

import pytest

from tests.e2e.personal_data import tables_mentioning
from tests.e2e.phone import Phone, text_of
from tests.e2e.stack import wait_until

pytestmark = pytest.mark.e2e

NUMBER = "491709876543"


def test_a_citizen_does_everything_in_the_chat_and_is_forgotten(stack):
    stack.command("load_demo_data")
    phone = Phone(stack, NUMBER)
    try:
        _journey(phone)
        # Statuses of the goodbye may still be on their way; once applied, nothing is left.
        try:
            wait_until(
                lambda: not tables_mentioning(stack, NUMBER), timeout=20, what="nothing left"
            )
        except AssertionError:
            pytest.fail(f"the number is still in {tables_mentioning(stack, NUMBER)}")
        assert tables_mentioning(stack, "Müllabfuhr") == []  # nor what they wrote
    except AssertionError:
        print(stack.logs())
        raise


def _journey(phone: Phone) -> None:
    phone.write("Hallo!")
    question = phone.wait_for(lambda m: m["type"] == "interactive", "the confirmation question")
    phone.tap(question, "subscription:confirm")
    phone.wait_for_text("Willkommen")

    # Topics from a list: pick one, see the tick, finish.
    seen = phone.count_received()
    phone.write("Themen")
    menu = phone.wait_for_new(seen, "the topics list")
    rows = menu["interactive"]["action"]["sections"][0]["rows"]
    first_topic = rows[0]
    seen = phone.count_received()
    phone.pick(menu, first_topic["id"])
    ticked = phone.wait_for_new(seen, "the list with a tick")
    assert ticked["interactive"]["action"]["sections"][0]["rows"][0]["title"].startswith("✓ ")

    # A district, then a pause of a week.
    seen = phone.count_received()
    phone.write("Stadtteil")
    districts = phone.wait_for_new(seen, "the districts list")
    seen = phone.count_received()
    phone.pick(districts, districts["interactive"]["action"]["sections"][0]["rows"][1]["id"])
    phone.wait_for_new(seen, "the districts list again")
    seen = phone.count_received()
    phone.write("Pause")
    pause = phone.wait_for_new(seen, "the pause choices")
    phone.pick(pause, "pause:7")
    phone.wait_for_text("Pause bis")

    # What is stored, in plain words, without the full number.
    phone.write("Wann kommt die Müllabfuhr?")
    phone.wait_for_text("Danke für Ihre Nachricht")
    phone.write("Daten")
    summary = phone.wait_for_text("Das speichern wir über Sie")
    assert first_topic["title"].removeprefix("✓ ") in text_of(summary)
    assert NUMBER not in text_of(summary)

    # Erase, after a confirming tap.
    seen = phone.count_received()
    phone.write("Löschen")
    ask = phone.wait_for_new(seen, "the erase question")
    phone.tap(ask, "erase:confirm")
    phone.wait_for_text("Ihre Daten sind gelöscht")
