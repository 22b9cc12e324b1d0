"""The guided report in the chat ("Melden"), from the webhook to the concern and the answer:
each step, every wrong input at it, forged and repeated taps, a stale draft, a place outside
the city, cancelling, and additions to one's own (and not someone else's) concern."""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from stadtbote.dialogue import tasks, texts
from stadtbote.dialogue.commands import Command, parse
from stadtbote.dialogue.models import Reply
from stadtbote.inbox import actions, geo, reporting
from stadtbote.inbox import report_texts as say
from stadtbote.inbox.models import Category, Concern, Message, OfficeHours, ReportDraft, Status
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import District, Subscriber
from tests.helpers import ALICE, BOB, active_subscriber, compact, envelope, post_webhook, wamid

pytestmark = pytest.mark.django_db

# Inside the box below: Marburg's market square. Outside: Gießen.
BOUNDS = "50.75,8.65,50.87,8.83"
MARKET = (50.8096, 8.7706)
GIESSEN = (50.5841, 8.6784)
PNG = "image/png"


@pytest.fixture(autouse=True)
def always_open():
    """No office hours, so answers do not depend on the hour the suite runs (the away
    notice is tests/test_auto_answers.py's)."""
    OfficeHours.objects.all().delete()


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    monkeypatch.setattr(tasks, "send_replies", lambda: None)
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


# --- what the phone sends -------------------------------------------------------------------


def send(sender: str, body: dict[str, Any], *, message_id: str | None = None) -> str:
    message_id = message_id or wamid()
    payload = envelope(
        {
            "contacts": [{"profile": {"name": "Test"}, "wa_id": sender}],
            "messages": [
                {"from": sender, "id": message_id, "timestamp": str(int(time.time())), **body}
            ],
        }
    )
    assert post_webhook(_client(), compact(payload)).status_code == 200
    tasks.apply_inbound_once()
    return message_id


def _client():
    from django.test import Client

    return Client()


def write(sender: str, text: str, **kw: Any) -> str:
    return send(sender, {"type": "text", "text": {"body": text}}, **kw)


def tap(sender: str, choice_id: str, *, kind: str = "button_reply", **kw: Any) -> str:
    body = {
        "type": "interactive",
        "interactive": {"type": kind, kind: {"id": choice_id, "title": "x"}},
    }
    return send(sender, body, **kw)


def pick(sender: str, choice_id: str, **kw: Any) -> str:
    return tap(sender, choice_id, kind="list_reply", **kw)


def pin(sender: str, latitude: float, longitude: float, **place: str) -> str:
    return send(
        sender,
        {"type": "location", "location": {"latitude": latitude, "longitude": longitude, **place}},
    )


def media(sender: str, kind: str, mime_type: str = PNG, **extra: Any) -> str:
    return send(
        sender, {"type": kind, kind: {"id": f"media-{wamid()}", "mime_type": mime_type, **extra}}
    )


def photo(sender: str, **extra: Any) -> str:
    return media(sender, "image", **extra)


# --- what the city answers ------------------------------------------------------------------


def last() -> dict[str, Any]:
    return Reply.objects.order_by("-id").first().content


def last_text() -> str:
    return last()["text"]


def buttons() -> list[str]:
    return [b["id"] for b in last()["buttons"]]


def rows() -> list[str]:
    return [r["id"] for r in last()["menu"]["rows"]]


def draft() -> ReportDraft | None:
    return ReportDraft.objects.first()


def category(name: str) -> Category:
    return Category.objects.get(name=name)


def lighting() -> str:
    return f"report:cat:{category('Beleuchtung').pk}"


def report_until(step: str, sender: str = ALICE) -> None:
    """Melden and the answers up to `step` (location, photo, description)."""
    write(sender, "Melden")
    pick(sender, lighting())
    if step == "location":
        return
    pin(sender, *MARKET)
    if step == "photo":
        return
    tap(sender, say.SKIP)


# --- starting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Melden", "melden!", "Mangel melden", "Mängel melden", "Meldung", "report", "Meldne"]
)
def test_the_report_words_are_understood(text):
    assert parse(text) is Command.REPORT


def test_melden_offers_the_active_categories_as_a_list_with_cancel():
    Category.objects.filter(name="Sonstiges").update(active=False)
    write(ALICE, "Melden")
    menu = last()["menu"]
    assert [r["title"] for r in menu["rows"]] == [
        "Straße/Gehweg",
        "Beleuchtung",
        "Müll",
        "Grünflächen",
        "Verkehrszeichen",
        "Abbrechen",
    ]
    assert menu["rows"][1] == {
        "id": lighting(),
        "title": "Beleuchtung",
        "description": "Straßenlaterne defekt",
    }
    assert menu["rows"][-1]["id"] == say.CANCEL
    assert "Worum geht es?" in last_text()
    assert draft().step == ReportDraft.Step.CATEGORY
    # Stored for staff too, though it is a command.
    assert list(Message.objects.values_list("direction", "text")) == [("in", "Melden")]


def test_help_and_its_menu_offer_the_report():
    write(ALICE, "Hilfe")
    assert "*Melden*" in last_text()
    assert rows()[0] == "menu:report"
    assert len(rows()) <= 10
    pick(ALICE, "menu:report")
    assert draft().step == ReportDraft.Step.CATEGORY
    assert lighting() in rows()


def test_more_than_ten_categories_are_shown_page_by_page():
    for n in range(6):
        Category.objects.create(name=f"Extra {n}", service_code=f"extra-{n}", position=100 + n)
    write(ALICE, "Melden")
    first = rows()
    assert len(first) == 10
    assert first[-2:] == ["report:page:2", say.CANCEL]
    pick(ALICE, "report:page:2")
    second = rows()
    assert len(second) == 5 and second[-1] == say.CANCEL
    assert set(first[:8]).isdisjoint(second)
    pick(ALICE, second[0])
    assert draft().category.name == "Extra 2"


def test_without_active_categories_the_citizen_is_asked_to_just_write():
    Category.objects.update(active=False)
    write(ALICE, "Melden")
    assert last_text() == say.no_categories("de").text
    assert draft() is None


def test_a_new_melden_starts_afresh():
    report_until("photo")
    write(ALICE, "Melden")
    assert draft().step == ReportDraft.Step.CATEGORY
    assert draft().category is None and draft().latitude is None


# --- the whole report -----------------------------------------------------------------------


def test_a_stranger_reports_a_street_light_with_a_pin_and_a_photo():
    write(ALICE, "Melden")
    pick(ALICE, lighting())
    assert "*Beleuchtung*" in last_text() and "Standort" in last_text()
    assert buttons() == [say.CANCEL]
    pin(ALICE, *MARKET, name="Marktplatz", address="Markt 1, Marburg")
    assert buttons() == [say.SKIP, say.CANCEL]
    photo(ALICE, caption="hier")
    assert "Beschreiben Sie" in last_text()
    write(ALICE, "Die Laterne vor dem Rathaus ist seit Tagen dunkel.")

    concern = Concern.objects.get()
    assert concern.reference.startswith("M-") and concern.reference in last_text()
    assert buttons() == [f"report:add:{concern.pk}"]
    assert "110 oder 112" in last_text()
    assert concern.category.name == "Beleuchtung"
    assert concern.department.name == "Tiefbauamt"
    assert (concern.latitude, concern.longitude) == MARKET
    assert concern.address == "Marktplatz, Markt 1, Marburg"
    assert concern.description == "Die Laterne vor dem Rathaus ist seit Tagen dunkel."
    assert concern.source == Concern.Source.CHAT and concern.status == Status.NEW
    assert concern.photo.kind == Message.Kind.IMAGE
    assert concern.photo.media_state == Message.MediaState.PENDING
    assert concern.conversation.subscriber == subscribers.find(ALICE)
    assert concern.district is None
    # Every message of the report is the concern's, in the order sent, and so is the
    # confirmation with the reference number (staff see what the citizen was told).
    assert list(Message.objects.values_list("direction", "kind", "concern")) == [
        ("in", "text", concern.pk),
        ("in", "text", concern.pk),
        ("in", "location", concern.pk),
        ("in", "image", concern.pk),
        ("in", "text", concern.pk),
        ("auto", "text", concern.pk),
    ]
    confirmation = Message.objects.get(direction="auto")
    assert concern.reference in confirmation.text
    assert confirmation.reply == Reply.objects.order_by("id").last()
    assert draft() is None
    assert subscribers.find(ALICE).status == Subscriber.Status.CONTACT  # not subscribed by it


def test_a_subscriber_with_one_district_reports_without_a_photo_by_address():
    subscriber = active_subscriber()
    north = District.objects.create(name="Nord", slug="nord")
    subscriber.districts.add(north)
    write(ALICE, "Melden")
    pick(ALICE, f"report:cat:{category('Müll').pk}")
    write(ALICE, "  Am Grün\n 12 ")
    tap(ALICE, say.SKIP)
    write(ALICE, "Sperrmüll auf dem Gehweg")
    concern = Concern.objects.get()
    assert concern.address == "Am Grün 12"
    assert concern.latitude is None and concern.photo is None
    assert concern.district == north


def test_with_several_districts_the_district_is_left_to_staff():
    subscriber = active_subscriber()
    subscriber.districts.add(
        District.objects.create(name="Nord", slug="nord"),
        District.objects.create(name="Süd", slug="sued"),
    )
    report_until("description")
    write(ALICE, "Schlagloch")
    assert Concern.objects.get().district is None


def test_a_text_at_the_photo_step_is_the_description():
    report_until("photo")
    write(ALICE, "Laterne flackert")
    concern = Concern.objects.get()
    assert concern.description == "Laterne flackert" and concern.photo is None


def test_typing_ohne_foto_skips_the_photo():
    report_until("photo")
    write(ALICE, "ohne Foto")
    assert draft().step == ReportDraft.Step.DESCRIPTION
    assert not Concern.objects.exists()


def test_a_photo_sent_as_a_file_is_the_photo():
    report_until("photo")
    media(ALICE, "document", "image/jpeg", filename="IMG_1.jpg")
    assert draft().step == ReportDraft.Step.DESCRIPTION
    assert draft().photo.kind == Message.Kind.DOCUMENT


def test_several_photos_at_once_are_all_kept_and_answered_once():
    report_until("photo")
    first = photo(ALICE)
    photo(ALICE)
    photo(ALICE)
    assert Reply.objects.filter(in_reply_to=first).count() == 1
    assert Reply.objects.count() == 4  # list, place, photo question, description question
    write(ALICE, "Drei Laternen aus")
    concern = Concern.objects.get()
    assert concern.photo.platform_id == first
    assert concern.messages.filter(kind=Message.Kind.IMAGE).count() == 3


def test_a_photo_after_ohne_foto_is_the_photo_after_all():
    report_until("description")
    photo(ALICE)
    assert "Beschreiben Sie" in last_text() and not last_text().startswith("Bitte")
    write(ALICE, "Laterne aus")
    assert Concern.objects.get().photo is not None


def test_a_category_typed_instead_of_picked_is_taken():
    write(ALICE, "Melden")
    write(ALICE, "müll")
    assert draft().step == ReportDraft.Step.LOCATION
    assert draft().category.name == "Müll"


def test_an_english_citizen_is_asked_in_english():
    subscriber = subscribers.find_or_create(ALICE)
    subscribers.set_language(subscriber, "en")
    write(ALICE, "report")
    assert "What is it about?" in last_text()
    assert last()["menu"]["rows"][-1]["title"] == "Cancel"


# --- wrong input ----------------------------------------------------------------------------


def test_wrong_kinds_get_a_hint_repeating_the_question_and_are_kept():
    write(ALICE, "Melden")
    photo(ALICE)  # a photo before the category
    assert "Bitte wählen Sie zuerst aus der Liste" in last_text() and rows()
    pick(ALICE, lighting())
    photo(ALICE)  # a photo where the place is asked
    assert last_text().startswith("Zuerst brauchen wir den Ort.")
    assert "Standort" in last_text()
    send(ALICE, {"type": "unsupported", "unsupported": {"type": "poll"}})
    assert last_text().startswith("Zuerst brauchen wir den Ort.")
    write(ALICE, "👍")  # no words: no address
    assert draft().step == ReportDraft.Step.LOCATION
    pin(ALICE, *MARKET)
    media(ALICE, "sticker", "image/webp")
    assert last_text().startswith("Das ist kein Foto.") and buttons() == [say.SKIP, say.CANCEL]
    media(ALICE, "audio", "audio/ogg", voice=True)
    assert draft().step == ReportDraft.Step.PHOTO
    tap(ALICE, say.SKIP)
    media(ALICE, "audio", "audio/ogg", voice=True)
    assert last_text().startswith("Bitte beschreiben Sie es als Text.")
    pin(ALICE, *MARKET)
    assert draft().step == ReportDraft.Step.DESCRIPTION
    assert not Concern.objects.exists()
    write(ALICE, "Laterne aus")
    # Nothing was lost: all thirteen messages are in the conversation, all the concern's.
    concern = Concern.objects.get()
    assert Message.objects.filter(direction="in").count() == 13
    assert not Message.objects.filter(concern__isnull=True).exists()
    assert concern.photo is None


@pytest.mark.parametrize(
    "choice",
    [
        "report:cat:999",
        "report:cat:²",
        "report:cat:",
        "report:cat:-1",
        "report:cat:1" + "0" * 30,
        "report:page:x",
        "report:page:0",
        "report:bogus",
        "report:",
        "report:skip",
    ],
)
def test_forged_or_out_of_place_taps_change_nothing_and_repeat_the_question(choice):
    write(ALICE, "Melden")
    before = ReportDraft.objects.values().get()
    pick(ALICE, choice)
    assert ReportDraft.objects.values().get() == before
    assert lighting() in rows()  # the list again
    assert not Concern.objects.exists()


def test_an_inactive_category_is_refused():
    write(ALICE, "Melden")
    Category.objects.filter(name="Beleuchtung").update(active=False)
    pick(ALICE, f"report:cat:{category('Beleuchtung').pk}")
    assert last_text().startswith("Diese Auswahl gibt es nicht (mehr).")
    assert draft().step == ReportDraft.Step.CATEGORY


def test_a_category_tap_without_a_report_under_way_answers_calmly():
    pick(ALICE, lighting())
    assert last_text() == say.nothing_open("de").text
    assert not ReportDraft.objects.exists() and not Message.objects.exists()


def test_a_repeated_category_tap_makes_no_second_draft_or_concern():
    write(ALICE, "Melden")
    tapped = pick(ALICE, lighting())
    pick(ALICE, lighting(), message_id=tapped)  # the same webhook again
    pick(ALICE, lighting())  # a second tap on the same row
    assert ReportDraft.objects.count() == 1
    assert draft().step == ReportDraft.Step.LOCATION
    assert Message.objects.count() == 3  # Melden and two taps; the repeated webhook once
    pin(ALICE, *MARKET)
    tap(ALICE, say.SKIP)
    described = write(ALICE, "dunkel")
    write(ALICE, "dunkel", message_id=described)
    assert Concern.objects.count() == 1


def test_changing_the_category_later_keeps_the_step():
    report_until("photo")
    pick(ALICE, f"report:cat:{category('Müll').pk}")
    assert draft().step == ReportDraft.Step.PHOTO and draft().category.name == "Müll"
    assert buttons() == [say.SKIP, say.CANCEL]


# --- stale, cancelled -----------------------------------------------------------------------


def test_a_stale_draft_is_dropped_and_the_message_treated_normally():
    report_until("location")
    ReportDraft.objects.update(updated_at=draft().updated_at - timedelta(hours=2, minutes=1))
    write(ALICE, "Wann ist der Wertstoffhof offen?")
    assert draft() is None
    assert not Concern.objects.exists()
    assert Message.objects.order_by("-id").first().text == "Wann ist der Wertstoffhof offen?"


def test_a_draft_touched_within_two_hours_is_kept():
    report_until("location")
    ReportDraft.objects.update(updated_at=draft().updated_at - timedelta(hours=1, minutes=59))
    write(ALICE, "Marktplatz 3")
    assert draft().step == ReportDraft.Step.PHOTO


def test_a_tap_on_a_stale_draft_answers_calmly():
    report_until("photo")
    ReportDraft.objects.update(updated_at=draft().updated_at - timedelta(hours=3))
    tap(ALICE, say.SKIP)
    assert last_text() == say.nothing_open("de").text
    assert draft() is None


@pytest.mark.parametrize("how", ["button", "list", "typed"])
def test_cancel_ends_the_report_and_nothing_is_reported(how):
    write(ALICE, "Melden")
    if how == "list":
        pick(ALICE, say.CANCEL)
    else:
        pick(ALICE, lighting())
        if how == "button":
            tap(ALICE, say.CANCEL)
        else:
            write(ALICE, "Abbrechen!")
    assert last_text() == say.cancelled("de").text
    assert draft() is None and not Concern.objects.exists()
    write(ALICE, "Hallo?")  # a later message is an ordinary one
    assert draft() is None


def test_cancel_typed_in_english_cancels_the_report_and_unsubscribes_nobody():
    active_subscriber()
    report_until("location")
    write(ALICE, "Cancel")
    assert last_text() == say.cancelled("de").text
    assert draft() is None
    assert subscribers.find(ALICE).status == Subscriber.Status.ACTIVE
    write(ALICE, "cancel")  # without a report it means Stop, as before
    assert subscribers.find(ALICE).status != Subscriber.Status.ACTIVE


def test_cancel_without_a_report_answers_calmly():
    tap(ALICE, say.CANCEL)
    assert last_text() == say.nothing_open("de").text


def test_commands_keep_working_during_a_report():
    report_until("location")
    write(ALICE, "Hilfe")
    assert last_text() == texts.help_text().text
    assert draft().step == ReportDraft.Step.LOCATION
    write(ALICE, "Stop")
    assert subscribers.find(ALICE).status != Subscriber.Status.ACTIVE
    pin(ALICE, *MARKET)  # the report goes on
    assert draft().step == ReportDraft.Step.PHOTO


# --- outside the city -----------------------------------------------------------------------


@override_settings(CITY_BOUNDS=BOUNDS, CITY_NAME="Marburg")
def test_a_place_outside_the_city_is_politely_refused_and_asked_again():
    report_until("location")
    pin(ALICE, *GIESSEN)
    assert last_text().startswith("Dieser Ort liegt außerhalb von Marburg.")
    assert "zuständige Gemeinde" in last_text()
    assert draft().step == ReportDraft.Step.LOCATION and draft().latitude is None
    pin(ALICE, *MARKET)
    assert draft().step == ReportDraft.Step.PHOTO


@override_settings(CITY_BOUNDS=BOUNDS)
def test_a_place_that_is_no_place_is_asked_again():
    report_until("location")
    pin(ALICE, 91.0, 8.7)
    assert last_text().startswith("Diesen Ort können wir nicht lesen.")
    assert draft().step == ReportDraft.Step.LOCATION


@pytest.mark.parametrize(
    "bounds",
    ["50,8,51", "a,b,c,d", "51,8,50,9", "50,9,51,8", "50,8,91,9", "nan,8,51,9", "50,8,51,9,1"],
)
def test_malformed_city_bounds_fail_loudly(bounds):
    with (
        override_settings(CITY_BOUNDS=bounds),
        pytest.raises(ImproperlyConfigured, match="CITY_BOUNDS"),
    ):
        geo.bounds()


def test_a_malformed_city_bounds_stops_the_start(tmp_path):
    env = {**os.environ, "STADTBOTE_DATA_DIR": str(tmp_path), "STADTBOTE_CITY_BOUNDS": "8,50,9"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "stadtbote.cli", "check"], env=env, capture_output=True, check=False
    )
    assert result.returncode != 0
    assert b"STADTBOTE_CITY_BOUNDS must be 'south,west,north,east'" in result.stderr


def test_city_bounds_are_read():
    with override_settings(CITY_BOUNDS=" 50.75, 8.65 ,50.87,8.83"):
        assert geo.in_city(*MARKET) and not geo.in_city(*GIESSEN)
    with override_settings(CITY_BOUNDS=""):
        assert geo.bounds() is None
        assert geo.in_city(*GIESSEN)
        assert not geo.in_city(math.nan, 8.0) and not geo.in_city(0.0, 181.0)


# --- additions ------------------------------------------------------------------------------


def reported(sender: str = ALICE) -> Concern:
    report_until("description", sender)
    write(sender, "Laterne aus")
    return Concern.objects.filter(conversation__subscriber=subscribers.find(sender)).latest("pk")


def test_ergaenzen_attaches_the_next_message_and_the_conversation_awaits_an_answer():
    concern = reported()
    conversation = concern.conversation
    conversation.awaiting_since = None  # staff answered meanwhile
    conversation.save()
    tap(ALICE, f"report:add:{concern.pk}")
    assert concern.reference in last_text() and buttons() == [say.CANCEL]
    assert draft().step == ReportDraft.Step.ADDING
    photo(ALICE)
    assert last_text() == f"Danke, zu Ihrer Meldung {concern.reference} hinzugefügt."
    assert Message.objects.order_by("-id").first().concern == concern
    assert draft() is None
    conversation.refresh_from_db()
    assert conversation.awaiting_since is not None
    write(ALICE, "Noch etwas")  # the next one is an ordinary message again
    assert Message.objects.order_by("-id").first().concern is None


def test_a_sticker_or_a_voice_message_is_an_addition_too_but_not_an_unsupported_one():
    concern = reported()
    tap(ALICE, f"report:add:{concern.pk}")
    send(ALICE, {"type": "unsupported", "unsupported": {"type": "poll"}})
    assert last_text().startswith("Das können wir nicht anhängen.")
    media(ALICE, "audio", "audio/ogg", voice=True)
    assert Message.objects.order_by("-id").first().concern == concern


def test_a_resolved_concern_takes_an_addition_without_reopening():
    concern = reported()
    actions.set_concern_status(concern, Status.RESOLVED)
    tap(ALICE, f"report:add:{concern.pk}")
    write(ALICE, "Sie ist wieder kaputt")
    concern.refresh_from_db()
    assert concern.status == Status.RESOLVED
    assert concern.messages.filter(text="Sie ist wieder kaputt").exists()
    assert concern.conversation.awaiting_since is not None


@pytest.mark.parametrize("forged", ["999999", "²", "", "abc"])
def test_ergaenzen_with_an_unknown_id_changes_nothing(forged):
    reported()
    tap(ALICE, f"report:add:{forged}")
    assert last_text() == say.unknown_concern("de").text
    assert draft() is None


def test_ergaenzen_for_someone_elses_concern_is_refused():
    alices = reported(ALICE)
    before = Message.objects.count()
    tap(BOB, f"report:add:{alices.pk}")
    assert last_text() == say.unknown_concern("de").text
    assert draft() is None and Message.objects.count() == before
    write(BOB, "Das ist meins")
    assert not alices.messages.filter(text="Das ist meins").exists()


def test_a_text_with_the_citizens_own_reference_number_is_attached():
    concern = reported()
    number = concern.reference.removeprefix("M-").replace("-", " ")
    write(ALICE, f"Zu meiner Meldung m-{number}: jetzt auch die zweite Laterne")
    assert last_text() == f"Danke, zu Ihrer Meldung {concern.reference} hinzugefügt."
    assert concern.messages.filter(text__contains="zweite Laterne").exists()


def test_someone_elses_reference_number_is_just_a_message():
    alices = reported(ALICE)
    write(BOB, f"Was ist mit {alices.reference}?")
    assert not alices.messages.filter(text__startswith="Was ist mit").exists()
    assert last_text() == texts.received_from_stranger().text


# --- privacy --------------------------------------------------------------------------------


def test_the_log_holds_no_number_and_no_text(caplog):
    caplog.set_level(logging.DEBUG)
    report_until("description")
    write(ALICE, "Geheime Beschreibung")
    pick(ALICE, "report:bogus")
    logged = caplog.text
    assert ALICE not in logged and "Geheime" not in logged
    assert "reported in the chat" in logged


def test_the_reporting_module_ignores_what_is_no_report():
    subscriber = subscribers.find_or_create(ALICE)
    from django.utils import timezone

    from stadtbote.channels.types import InboundText

    event = InboundText(sender=ALICE, message_id=wamid(), timestamp=timezone.now(), text="Hallo")
    assert reporting.on_message(subscriber, event) is None
    assert not Message.objects.exists()
