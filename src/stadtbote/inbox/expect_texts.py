"""The inbox's automatic answers in the chat, in German and English: what a citizen may expect
(when someone answers, whom to call in an emergency, patience when they write a lot).

The acknowledgement of a first message is the dialogue's (dialogue/texts.py "received"); these
are added to it or stand alone, and auto_answers.py joins them into one message.
"""

from __future__ import annotations

_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "emergency": (
            "🚨 Ist jemand in Gefahr? Rufen Sie sofort 112 an (Feuerwehr und Rettungsdienst) "
            "oder 110 (Polizei). Dieser Chat ist kein Notruf und wird nicht rund um die Uhr "
            "gelesen."
        ),
        "thanks": "Danke für Ihre Nachricht!",
        "away": "Gerade ist niemand im Dienst. Wir antworten ab {when}.",
        "away_unknown": "Gerade ist niemand im Dienst. Wir antworten so bald wie möglich.",
        "flood": (
            "Wir haben Ihre Nachrichten erhalten und lesen alle; bitte haben Sie etwas Geduld."
        ),
    },
    "en": {
        "emergency": (
            "🚨 Is someone in danger? Call 112 now (fire brigade and ambulance) or 110 "
            "(police). This chat is not an emergency line and is not read around the clock."
        ),
        "thanks": "Thank you for your message!",
        "away": "Nobody is on duty right now. We will answer from {when}.",
        "away_unknown": "Nobody is on duty right now. We will answer as soon as we can.",
        "flood": ("We have received your messages and will read all of them; please bear with us."),
    },
}


def words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["de"])


def emergency(language: str) -> str:
    return words(language)["emergency"]


def thanks(language: str) -> str:
    return words(language)["thanks"]


def away(language: str, when: str | None) -> str:
    w = words(language)
    return w["away"].format(when=when) if when else w["away_unknown"]


def flood(language: str) -> str:
    return words(language)["flood"]
