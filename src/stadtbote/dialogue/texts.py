"""What Stadtbote says in the chat, in German and English. Short sentences, plain language,
one thing per message; choices as buttons or a list so nobody has to type a command.

The exact wording of the confirmation question and the welcome is written into the consent
ledger, so a change here is a change of what citizens consented to: bump the privacy-notice
version (STADTBOTE_PRIVACY_NOTICE_VERSION) with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from stadtbote.channels.types import Button, Menu, OutboundMessage, Row

CONFIRM_BUTTON = "subscription:confirm"
DECLINE_BUTTON = "subscription:decline"
ERASE_CONFIRM = "erase:confirm"
ERASE_CANCEL = "erase:cancel"
ALL = "all"
DONE = "done"
PAUSE_DAYS = (7, 14, 28)

_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "question": (
            "Hallo! Hier ist der WhatsApp-Service der Stadt. 👋\n\n"
            "Möchten Sie kurze Nachrichten der Stadt bekommen? "
            "Meist 1–2 Nachrichten an Werktagen.\n\n"
            "So gehen wir mit Ihren Daten um: {privacy}\n\n"
            "Bitte bestätigen Sie:"
        ),
        "yes": "Ja, anmelden",
        "no": "Nein, danke",
        "welcome": (
            "Willkommen! ✅ Sie sind angemeldet.\n\n"
            "Sie bekommen ab jetzt Nachrichten der Stadt, meist 1–2 an Werktagen.\n"
            "Mit *Themen* und *Stadtteil* wählen Sie, worüber Sie hören möchten.\n"
            "Abmelden geht jederzeit: schreiben Sie einfach *Stop*."
        ),
        "declined": "In Ordnung, Sie sind nicht angemeldet. Mit *Start* können Sie es jederzeit tun.",
        "already": "Sie sind schon angemeldet. 🙂 Abmelden geht mit *Stop*, Hilfe mit *Hilfe*.",
        "unsubscribed": (
            "Sie sind abgemeldet und bekommen keine Nachrichten mehr. "
            "Mit *Start* können Sie sich wieder anmelden."
        ),
        "not_subscribed": (
            "Sie sind nicht angemeldet. Schreiben Sie *Start*, um Nachrichten der Stadt zu bekommen."
        ),
        "received": (
            "Danke für Ihre Nachricht! Wir haben sie erhalten, und jemand aus der Verwaltung "
            "antwortet Ihnen hier. Dies ist keine 24-Stunden-Hotline. Im Notfall: 110 oder 112."
        ),
        "received_stranger": (
            "Danke für Ihre Nachricht! Wir haben sie erhalten, und jemand aus der Verwaltung "
            "antwortet Ihnen hier. Dies ist keine 24-Stunden-Hotline. Im Notfall: 110 oder 112.\n\n"
            "Nachrichten der Stadt bekommen: schreiben Sie *Start*."
        ),
        "help": (
            "So funktioniert der Service. Tippen Sie unten auf *Auswählen* "
            "oder schreiben Sie das Wort:\n"
            "• *Melden* – einen Mangel melden (Schlagloch, Laterne, Müll …)\n"
            "• *Themen* – worüber Sie hören möchten\n"
            "• *Stadtteil* – für welche Stadtteile\n"
            "• *Pause* – eine Zeit lang nichts bekommen\n"
            "• *Sprache* – Deutsch oder English\n"
            "• *Daten* – was wir über Sie speichern\n"
            "• *Löschen* – alle Ihre Daten löschen\n"
            "• *Stop* – abmelden\n\n"
            "Dies ist keine 24-Stunden-Hotline. Im Notfall: 110 oder 112."
        ),
        "choose": "Auswählen",
        "menu_report": "Mangel melden",
        "menu_topics": "Themen",
        "menu_districts": "Stadtteile",
        "menu_pause": "Pause",
        "menu_language": "Sprache",
        "menu_data": "Meine Daten",
        "menu_erase": "Daten löschen",
        "menu_stop": "Abmelden",
        "topics_intro": "Worüber möchten Sie Nachrichten bekommen? Tippen Sie ein Thema an, um es an- oder abzuwählen.",
        "districts_intro": "Für welche Stadtteile? Tippen Sie einen Stadtteil an, um ihn an- oder abzuwählen.",
        "chosen": "Gewählt: {names}.",
        "everything": "Sie bekommen alles (keine Auswahl).",
        "all_topics": "Alle Themen",
        "all_districts": "Ganze Stadt",
        "done": "Fertig",
        "saved": "Gespeichert. 👍",
        "no_districts": "Für Stadtteile gibt es noch keine Auswahl. Sie bekommen Nachrichten für die ganze Stadt.",
        "language_question": "In welcher Sprache möchten Sie Nachrichten bekommen?",
        "language_set": "Ab jetzt schreiben wir Ihnen auf Deutsch.",
        "pause_question": "Wie lange möchten Sie Pause machen? In der Pause bekommen Sie nichts von uns.",
        "pause_days": "{days} Tage",
        "pause_off": "Pause beenden",
        "paused": "Pause bis {until}. Danach geht es von selbst weiter. *Pause* ändert das.",
        "resumed": "Die Pause ist beendet. Sie bekommen wieder Nachrichten.",
        "data": (
            "Das speichern wir über Sie:\n"
            "• Telefonnummer: {number} (verschlüsselt)\n"
            "• Status: {status}\n"
            "• Angemeldet seit: {since}\n"
            "• Themen: {topics}\n"
            "• Stadtteile: {districts}\n"
            "• Sprache: Deutsch\n"
            "• Pause: {pause}\n"
            "• Nachrichten von uns: {received}\n"
            "• Ihre Antworten in Umfragen: {votes}\n"
            "• Ihre Reaktionen auf Nachrichten: {reactions}\n"
            "• Einträge zu Ihrer Zustimmung: {consents}\n\n"
            "Mehr dazu: {privacy}\n"
            "Alles löschen: schreiben Sie *Löschen*."
        ),
        "none": "keine",
        "all_of_them": "alle",
        "erase_question": (
            "Sollen wir alle Ihre Daten löschen? Dann sind Sie auch abgemeldet. "
            "Das kann man nicht rückgängig machen."
        ),
        "erase_yes": "Ja, alles löschen",
        "erase_no": "Abbrechen",
        "erased": "Ihre Daten sind gelöscht und Sie sind abgemeldet. Auf Wiedersehen! 👋",
        "erase_cancelled": "Nichts gelöscht. 🙂",
        "status_active": "angemeldet",
        "status_pending": "wartet auf Ihre Bestätigung",
        "status_unsubscribed": "abgemeldet",
        "status_contact": "nicht angemeldet",
    },
    "en": {
        "question": (
            "Hello! This is the city's WhatsApp service. 👋\n\n"
            "Would you like short news from the city? Usually 1–2 messages on weekdays.\n\n"
            "How we handle your data: {privacy}\n\n"
            "Please confirm:"
        ),
        "yes": "Yes, subscribe",
        "no": "No, thanks",
        "welcome": (
            "Welcome! ✅ You are subscribed.\n\n"
            "From now on you get news from the city, usually 1–2 on weekdays.\n"
            "With *Topics* and *District* you choose what you hear about.\n"
            "You can stop at any time: just write *Stop*."
        ),
        "declined": "All right, you are not subscribed. Write *Start* whenever you like.",
        "already": "You are already subscribed. 🙂 *Stop* unsubscribes, *Help* shows more.",
        "unsubscribed": "You are unsubscribed and get no more messages. *Start* subscribes again.",
        "not_subscribed": "You are not subscribed. Write *Start* to get news from the city.",
        "received": (
            "Thank you for your message! We have received it, and someone from the city "
            "administration will answer you here. This is not a 24-hour hotline. "
            "In an emergency: 110 or 112."
        ),
        "received_stranger": (
            "Thank you for your message! We have received it, and someone from the city "
            "administration will answer you here. This is not a 24-hour hotline. "
            "In an emergency: 110 or 112.\n\n"
            "To get news from the city, write *Start*."
        ),
        "help": (
            "How this service works. Tap *Choose* below or write the word:\n"
            "• *Report* – report a defect (pothole, street light, litter …)\n"
            "• *Topics* – what you want to hear about\n"
            "• *District* – which parts of the city\n"
            "• *Pause* – nothing for a while\n"
            "• *Language* – Deutsch or English\n"
            "• *Data* – what we store about you\n"
            "• *Delete* – delete all your data\n"
            "• *Stop* – unsubscribe\n\n"
            "This is not a 24-hour hotline. In an emergency: 110 or 112."
        ),
        "choose": "Choose",
        "menu_report": "Report a defect",
        "menu_topics": "Topics",
        "menu_districts": "Districts",
        "menu_pause": "Pause",
        "menu_language": "Language",
        "menu_data": "My data",
        "menu_erase": "Delete my data",
        "menu_stop": "Unsubscribe",
        "topics_intro": "What would you like to hear about? Tap a topic to choose or unchoose it.",
        "districts_intro": "Which districts? Tap a district to choose or unchoose it.",
        "chosen": "Chosen: {names}.",
        "everything": "You get everything (nothing chosen).",
        "all_topics": "All topics",
        "all_districts": "Whole city",
        "done": "Done",
        "saved": "Saved. 👍",
        "no_districts": "There are no districts to choose yet. You get news for the whole city.",
        "language_question": "Which language would you like?",
        "language_set": "From now on we write to you in English.",
        "pause_question": "How long would you like a break? During the pause you get nothing from us.",
        "pause_days": "{days} days",
        "pause_off": "End the pause",
        "paused": "Paused until {until}. It ends by itself. *Pause* changes it.",
        "resumed": "The pause has ended. You get news again.",
        "data": (
            "This is what we store about you:\n"
            "• Phone number: {number} (encrypted)\n"
            "• Status: {status}\n"
            "• Subscribed since: {since}\n"
            "• Topics: {topics}\n"
            "• Districts: {districts}\n"
            "• Language: English\n"
            "• Pause: {pause}\n"
            "• Messages from us: {received}\n"
            "• Your answers in polls: {votes}\n"
            "• Your reactions to messages: {reactions}\n"
            "• Records of your consent: {consents}\n\n"
            "More: {privacy}\n"
            "To delete everything, write *Delete*."
        ),
        "none": "none",
        "all_of_them": "all",
        "erase_question": (
            "Shall we delete all your data? You will be unsubscribed too. This cannot be undone."
        ),
        "erase_yes": "Yes, delete all",
        "erase_no": "Cancel",
        "erased": "Your data is deleted and you are unsubscribed. Goodbye! 👋",
        "erase_cancelled": "Nothing deleted. 🙂",
        "status_active": "subscribed",
        "status_pending": "waiting for your confirmation",
        "status_unsubscribed": "unsubscribed",
        "status_contact": "not subscribed",
    },
}

# List rows and buttons have short limits on WhatsApp (titles ≤ 24 and ≤ 20 characters).
_ROW_TITLE_MAX = 24


def words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["de"])


def _text(language: str, key: str, **values: object) -> OutboundMessage:
    return OutboundMessage(text=words(language)[key].format(**values))


def confirmation_question(language: str = "de") -> OutboundMessage:
    w = words(language)
    return OutboundMessage(
        text=w["question"].format(privacy=settings.PRIVACY_NOTICE_URL),
        buttons=(Button(CONFIRM_BUTTON, w["yes"]), Button(DECLINE_BUTTON, w["no"])),
    )


def welcome(language: str = "de") -> OutboundMessage:
    return _text(language, "welcome")


def declined(language: str = "de") -> OutboundMessage:
    return _text(language, "declined")


def already_subscribed(language: str = "de") -> OutboundMessage:
    return _text(language, "already")


def unsubscribed(language: str = "de") -> OutboundMessage:
    return _text(language, "unsubscribed")


def not_subscribed(language: str = "de") -> OutboundMessage:
    return _text(language, "not_subscribed")


def received(language: str = "de") -> OutboundMessage:
    return _text(language, "received")


def received_from_stranger(language: str = "de") -> OutboundMessage:
    """The same, with how to subscribe, for someone who is not."""
    return _text(language, "received_stranger")


def saved(language: str = "de") -> OutboundMessage:
    return _text(language, "saved")


def help_text(language: str = "de") -> OutboundMessage:
    w = words(language)
    # Eight rows of WhatsApp's ten.
    entries = ["report", "topics", "districts", "pause", "language", "data", "erase", "stop"]
    return OutboundMessage(
        text=w["help"],
        menu=Menu(w["choose"], tuple(Row(f"menu:{e}", w[f"menu_{e}"]) for e in entries)),
    )


def _short(title: str) -> str:
    return title if len(title) <= _ROW_TITLE_MAX else title[: _ROW_TITLE_MAX - 1] + "…"


def choice_menu(
    language: str,
    *,
    prefix: str,
    intro_key: str,
    all_key: str,
    options: Sequence[tuple[int, str]],
    chosen: set[int],
) -> OutboundMessage:
    """A list to choose topics or districts one tap at a time; chosen ones carry a tick.
    WhatsApp allows ten rows: eight options, "all" and "done"."""
    w = words(language)
    names = [name for pk, name in options if pk in chosen]
    state = w["chosen"].format(names=", ".join(names)) if names else w["everything"]
    rows = [
        Row(f"{prefix}:{pk}", _short(("✓ " if pk in chosen else "") + name))
        for pk, name in options[:8]
    ]
    rows += [Row(f"{prefix}:{ALL}", w[all_key]), Row(f"{prefix}:{DONE}", w["done"])]
    return OutboundMessage(text=f"{w[intro_key]}\n\n{state}", menu=Menu(w["choose"], tuple(rows)))


def no_districts(language: str = "de") -> OutboundMessage:
    return _text(language, "no_districts")


def language_question(language: str = "de") -> OutboundMessage:
    return OutboundMessage(
        text=words(language)["language_question"],
        buttons=(Button("lang:de", "Deutsch"), Button("lang:en", "English")),
    )


def language_set(language: str) -> OutboundMessage:
    return _text(language, "language_set")


def pause_question(language: str = "de") -> OutboundMessage:
    w = words(language)
    rows = [Row(f"pause:{d}", w["pause_days"].format(days=d)) for d in PAUSE_DAYS]
    rows.append(Row("pause:off", w["pause_off"]))
    return OutboundMessage(text=w["pause_question"], menu=Menu(w["choose"], tuple(rows)))


def paused(language: str, until: datetime) -> OutboundMessage:
    local = timezone.localtime(until)
    return _text(language, "paused", until=local.strftime("%d.%m.%Y"))


def resumed(language: str = "de") -> OutboundMessage:
    return _text(language, "resumed")


def erase_question(language: str = "de") -> OutboundMessage:
    w = words(language)
    return OutboundMessage(
        text=w["erase_question"],
        buttons=(Button(ERASE_CONFIRM, w["erase_yes"]), Button(ERASE_CANCEL, w["erase_no"])),
    )


def erased(language: str = "de") -> OutboundMessage:
    return _text(language, "erased")


def erase_cancelled(language: str = "de") -> OutboundMessage:
    return _text(language, "erase_cancelled")
