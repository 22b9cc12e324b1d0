"""What a citizen is told automatically: the acknowledgement, the away notice outside office
hours, the emergency hint and the calm answer to a flood; each at most once per period, all
in one message, each kept in the conversation. Through the webhook and the router, with a
controlled clock (seeded hours: Monday to Thursday 8 to 16, Friday 8 to 12)."""

from __future__ import annotations

import logging

import pytest

from stadtbote.dialogue import tasks, texts
from stadtbote.dialogue.models import Reply
from stadtbote.inbox import emergency, expect_texts
from stadtbote.inbox.models import Conversation, Message
from stadtbote.subscribers import actions as subscribers
from tests.engine_support import clock  # noqa: F401 -- fixture
from tests.helpers import ALICE, BOB, active_subscriber, compact, post_webhook, text_message

pytestmark = pytest.mark.django_db

HINT = expect_texts.emergency("de")
ACK = texts.received().text


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch, settings):
    monkeypatch.setattr(tasks, "send_replies", lambda: None)
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)
    settings.HOLIDAY_STATE = "BW"
    settings.INBOX_AUTO_ANSWER_HOURS = 12
    settings.INBOX_FLOOD_MESSAGES = 20


def say(client, text: str, sender: str = ALICE) -> None:
    assert post_webhook(client, compact(text_message(sender, text))).status_code == 200
    while tasks.apply_inbound_once():
        pass


def replies() -> list[str]:
    return [r.content["text"] for r in Reply.objects.order_by("id")]


def test_inside_office_hours_the_first_message_is_acknowledged_once(client, clock):
    clock.set("2026-11-24 10:00")
    active_subscriber()
    say(client, "Wann ist die Sperrmüllabfuhr?")
    say(client, "In der Gartenstraße.")
    say(client, "Danke!")
    assert replies() == [ACK]
    conversation = Conversation.objects.get()
    assert conversation.awaiting_since is not None  # an automatic answer is no answer
    assert conversation.away_notice_at is None


def test_outside_office_hours_the_acknowledgement_says_when_someone_answers(client, clock):
    clock.set("2026-11-24 19:30")  # Tuesday evening
    active_subscriber()
    say(client, "Die Laterne vor Nr. 5 ist aus.")
    say(client, "Schon seit Tagen.")
    assert replies() == [ACK + "\n\nGerade ist niemand im Dienst. Wir antworten ab morgen, 8 Uhr."]
    # The next evening, still unanswered: the notice once more, with a thank-you of its own.
    clock.set("2026-11-25 19:45")
    say(client, "Noch immer aus.")
    assert replies()[1:] == [
        "Danke für Ihre Nachricht! Gerade ist niemand im Dienst. Wir antworten ab morgen, 8 Uhr."
    ]


def test_friday_afternoon_in_english_names_monday(client, clock):
    clock.set("2026-11-27 14:00")
    subscriber = active_subscriber()
    subscribers.set_language(subscriber, "en")
    say(client, "The bin was not emptied.")
    assert replies() == [
        texts.received("en").text
        + "\n\nNobody is on duty right now. We will answer from Monday at 8:00."
    ]


def test_a_holiday_counts_as_closed(client, clock):
    clock.set("2026-12-25 11:00")  # Christmas Day, a Friday
    active_subscriber()
    say(client, "Frohe Weihnachten, eine Frage zum Müll.")
    assert replies()[0].endswith("antworten ab Montag, 8 Uhr.")


def test_a_stranger_is_told_how_to_subscribe(client, clock):
    clock.set("2026-11-24 10:00")
    say(client, "Wann fährt der Bus?", sender=BOB)
    assert replies() == [texts.received_from_stranger().text]


def test_an_emergency_gets_the_hint_first_in_one_message_even_in_office_hours(client, clock):
    clock.set("2026-11-24 10:00")
    active_subscriber()
    say(client, "Es brennt in der Garage nebenan!")
    assert replies() == [HINT + "\n\n" + ACK]
    clock.set("2026-11-24 11:00")
    say(client, "Das Feuer wird größer")
    assert len(replies()) == 1  # once per period
    # Half a day later a new emergency gets the hint again, here outside office hours.
    clock.set("2026-11-24 22:30")
    say(client, "Jetzt ein Unfall an der Kreuzung, jemand ist verletzt")
    assert replies()[1] == (
        HINT + "\n\nDanke für Ihre Nachricht! "
        "Gerade ist niemand im Dienst. Wir antworten ab morgen, 8 Uhr."
    )


def test_a_flood_of_fifty_messages_gets_at_most_two_answers(client, clock):
    clock.set("2026-11-24 10:00")
    active_subscriber()
    for n in range(50):
        say(client, f"Nachricht Nummer {n}")
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 50
    answers = replies()
    assert len(answers) <= 2
    assert answers == [ACK, expect_texts.flood("de")]


def test_a_flood_is_answered_once_per_period_and_an_emergency_still_gets_the_hint(
    client, clock, settings
):
    settings.INBOX_FLOOD_MESSAGES = 3
    clock.set("2026-11-24 19:00")  # closed: not even the away notice comes through a flood
    active_subscriber()
    for n in range(3):
        say(client, f"Zeile {n}")
    assert len(replies()) == 1
    for n in range(5):
        say(client, f"Noch eine Zeile {n}")
    assert replies()[1:] == [expect_texts.flood("de")]
    say(client, "Hilfe, ein Überfall vor dem Rathaus!")
    assert replies()[2:] == [HINT]
    say(client, "Feuer!")
    assert len(replies()) == 3
    clock.set("2026-11-25 08:00")  # a new period, and still writing fast
    say(client, "Und noch etwas")
    assert replies()[3:] == [expect_texts.flood("de")]


def test_each_automatic_answer_is_kept_in_the_conversation_with_its_send_record(client, clock):
    clock.set("2026-11-24 20:00")
    active_subscriber()
    say(client, "Unfall auf der B27!")
    say(client, "Noch etwas")
    auto = list(Message.objects.filter(direction=Message.Direction.AUTO))
    assert [m.reply_id for m in auto] == list(Reply.objects.values_list("id", flat=True))
    assert [m.text for m in auto] == replies()
    assert Reply.objects.get().in_reply_to.startswith("wamid.")


def test_a_repeated_webhook_is_answered_once(client, clock):
    clock.set("2026-11-24 20:00")
    active_subscriber()
    body = compact(text_message(ALICE, "Notfall!"))
    for _ in range(3):
        assert post_webhook(client, body).status_code == 200
    while tasks.apply_inbound_once():
        pass
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 1
    assert len(replies()) == 1


def test_commands_are_not_counted_or_answered_here(client, clock):
    clock.set("2026-11-24 20:00")
    active_subscriber()
    say(client, "Themen")
    assert not Message.objects.exists()
    assert expect_texts.flood("de") not in replies()


def test_no_number_and_no_text_in_the_logs(client, clock, caplog, settings):
    settings.INBOX_FLOOD_MESSAGES = 2
    caplog.set_level(logging.DEBUG)
    clock.set("2026-11-24 20:00")
    active_subscriber()
    for text in ("Es brennt im Keller", "zweite Zeile", "dritte Zeile"):
        say(client, text)
    assert len(replies()) == 2
    assert ALICE not in caplog.text
    for secret in ("brennt", "Keller", "Zeile"):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        "Es brennt!",
        "Feuer im Hinterhof",
        "Die Feuerwehr muss kommen",
        "Wohnungsbrand in der Lindenstraße",
        "Verkehrsunfall an der Ampel",
        "UNFALL",
        "jemand ist verletzt",
        "Notfall",
        "häusliche Gewalt nebenan",
        "Raubüberfall an der Tankstelle",
        "Ueberfall",
        "U\u0308berfall",  # decomposed: U + combining diaeresis
        "Er schlägt seine Frau",
        "ein Mann liegt bewusstlos am Boden",
        "das Kind blutet stark",
        "Hilfe!",
        "HILFE !!!",
        "There is a fire in the building",
        "car accident on main street",
        "someone is injured",
        "EMERGENCY",
        "domestic violence",
        "I was attacked",
        "a man is unconscious",
        "he is bleeding",
        "help!",
        "🆘",
        "🚑 schnell",
        "Brandschutztür blockiert",  # not an emergency, but recall comes first (emergency.py)
    ],
)
def test_what_looks_like_an_emergency(text):
    assert emergency.looks_like_emergency(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Wann ist die Sperrmüllabfuhr?",
        "Ich brauche Hilfe beim Antrag",
        "Can you help me with my application?",
        "Feuerwerk nach Mitternacht ist zu laut",
        "Fireworks every night",
        "Ausflug nach Brandenburg",
        "Die Straßenlaterne ist kaputt",
        "Danke, das ging schnell 🔥",
        "Schlagloch in der Hauptstraße",
    ],
)
def test_what_does_not(text):
    assert not emergency.looks_like_emergency(text)


def test_without_a_next_opening_in_sight_as_soon_as_possible(client, clock, monkeypatch):
    from stadtbote.inbox import office_hours
    from stadtbote.inbox.models import OfficeHours

    monkeypatch.setattr(office_hours, "LOOKAHEAD_DAYS", 3)
    OfficeHours.objects.exclude(weekday=0).delete()  # Mondays only, five days away
    clock.set("2026-11-24 10:00")
    active_subscriber()
    say(client, "Eine Frage")
    assert replies() == [
        ACK + "\n\nGerade ist niemand im Dienst. Wir antworten so bald wie möglich."
    ]


def test_without_office_hours_no_away_notice(client, clock):
    from stadtbote.inbox.models import OfficeHours

    OfficeHours.objects.all().delete()
    clock.set("2026-11-29 03:00")  # a Sunday night
    active_subscriber()
    say(client, "Eine Frage")
    assert replies() == [ACK]
