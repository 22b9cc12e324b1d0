"""What the guided report ("Melden") and its status news say in the chat, in German and
English. Like dialogue/texts.py: short sentences, one question per message, a button wherever
a tap is easier than typing. Button titles have at most 20 characters, list rows 24."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from stadtbote.channels.types import Button, Menu, OutboundMessage, Row

PREFIX = "report"
SKIP = f"{PREFIX}:skip"
CANCEL = f"{PREFIX}:cancel"
CATEGORY = f"{PREFIX}:cat:"  # + the category's id
PAGE = f"{PREFIX}:page:"  # + the number of the list page
ADD = f"{PREFIX}:add:"  # + the concern's id
LIST_ROWS = 10  # WhatsApp's most rows in a list

_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "choose": "Auswählen",
        "category_question": (
            "Sie möchten etwas melden – danke! Worum geht es? Tippen Sie auf *Auswählen* "
            "und wählen Sie aus der Liste."
        ),
        "more": "Weitere …",
        "more_description": "Mehr Bereiche zeigen",
        "no_categories": (
            "Meldungen sind gerade nicht möglich. Schreiben Sie uns Ihr Anliegen einfach als "
            "Nachricht."
        ),
        "unknown_category": "Diese Auswahl gibt es nicht (mehr).",
        "category_hint": "Bitte wählen Sie zuerst aus der Liste, worum es geht.",
        "location_question": (
            "*{category}* – gut. Wo ist es?\n\n"
            "Bitte senden Sie den Ort: Tippen Sie auf 📎 (Büroklammer) → *Standort* und "
            "setzen Sie die Stecknadel. Sie können auch die Adresse schreiben, "
            "z. B. „Hauptstraße 5“."
        ),
        "location_hint": "Zuerst brauchen wir den Ort.",
        "not_a_place": "Diesen Ort können wir nicht lesen.",
        "outside": (
            "Dieser Ort liegt außerhalb von {city}. Dafür ist die Stadt leider nicht zuständig – "
            "bitte wenden Sie sich an die zuständige Gemeinde.\n\n"
            "Ist der Ort doch in {city}? Dann senden Sie ihn bitte noch einmal."
        ),
        "photo_question": (
            "Haben Sie ein Foto davon? Dann senden Sie es jetzt (📎 → *Kamera* oder *Galerie*). "
            "Sonst tippen Sie auf *Ohne Foto*."
        ),
        "photo_hint": "Das ist kein Foto.",
        "skip": "Ohne Foto",
        "cancel": "Abbrechen",
        "description_question": (
            "Beschreiben Sie bitte in ein paar Worten, was los ist (z. B. „Laterne brennt nicht“)."
        ),
        "description_hint": "Bitte beschreiben Sie es als Text.",
        "done": (
            "Danke! Ihre Meldung ist bei uns.\n\n"
            "Ihre Nummer: *{reference}*\n\n"
            "So geht es weiter: Die zuständige Stelle sieht sich das an. Wenn sich etwas tut, "
            "sagen wir Ihnen hier Bescheid. Dies ist keine 24-Stunden-Hotline. "
            "Im Notfall: 110 oder 112.\n\n"
            "Etwas vergessen? Tippen Sie auf *Ergänzen*."
        ),
        "add": "Ergänzen",
        "cancelled": (
            "Die Meldung ist abgebrochen, es wurde nichts gemeldet. "
            "Neu anfangen: schreiben Sie *Melden*."
        ),
        "nothing_open": (
            "Diese Meldung ist nicht mehr offen. Etwas Neues melden: schreiben Sie *Melden*."
        ),
        "addition_question": (
            "Was möchten Sie zu Ihrer Meldung *{reference}* ergänzen? "
            "Senden Sie einen Text, ein Foto oder einen Ort."
        ),
        "addition_hint": "Das können wir nicht anhängen.",
        "added": "Danke, zu Ihrer Meldung {reference} hinzugefügt.",
        "unknown_concern": (
            "Diese Meldung finden wir bei Ihnen nicht. Etwas Neues melden: schreiben Sie *Melden*."
        ),
        # Status news: the whole message inside the 24-hour window …
        "news_in_progress": "Ihre Meldung {reference} wird jetzt bearbeitet. 🛠️",
        "news_waiting": (
            "Zu Ihrer Meldung {reference}: Wir brauchen noch etwas oder warten noch auf etwas."
        ),
        "news_resolved": "Ihre Meldung {reference} ist erledigt. ✅ Danke für Ihre Hilfe!",
        "news_new": "Ihre Meldung {reference} ist wieder offen. Wir kümmern uns weiter darum.",
        "news_note": "Neues zu Ihrer Meldung {reference}.",
        "news_note_line": "Hinweis der Stadt: {note}",
        "news_waiting_add": "Etwas nachreichen? Tippen Sie auf *Ergänzen*.",
        # … and the short news in the template "Neues zu Ihrer Meldung {{1}}: {{2}}".
        "short_in_progress": "Sie wird jetzt bearbeitet.",
        "short_waiting": "Wir brauchen noch etwas oder warten noch auf etwas.",
        "short_resolved": "Sie ist erledigt. Danke für Ihre Hilfe!",
        "short_new": "Sie ist wieder offen.",
        "short_note": "Ein Hinweis der Stadt.",
    },
    "en": {
        "choose": "Choose",
        "category_question": (
            "You would like to report something – thank you! What is it about? Tap *Choose* "
            "and pick from the list."
        ),
        "more": "More …",
        "more_description": "Show more kinds",
        "no_categories": (
            "Reports are not possible right now. Just write us your concern as a message."
        ),
        "unknown_category": "This choice does not exist (any more).",
        "category_hint": "Please first pick from the list what it is about.",
        "location_question": (
            "*{category}* – fine. Where is it?\n\n"
            "Please send the place: tap 📎 (paper clip) → *Location* and set the pin. "
            "You can also write the address, e.g. “Hauptstraße 5”."
        ),
        "location_hint": "First we need the place.",
        "not_a_place": "We cannot read this place.",
        "outside": (
            "This place is outside {city}. The city is not responsible for it, sorry – please "
            "contact the municipality there.\n\n"
            "Is the place in {city} after all? Then please send it again."
        ),
        "photo_question": (
            "Do you have a photo of it? Then send it now (📎 → *Camera* or *Gallery*). "
            "Otherwise tap *No photo*."
        ),
        "photo_hint": "This is not a photo.",
        "skip": "No photo",
        "cancel": "Cancel",
        "description_question": (
            "Please describe in a few words what is wrong (e.g. “street light is out”)."
        ),
        "description_hint": "Please describe it as text.",
        "done": (
            "Thank you! We have your report.\n\n"
            "Your number: *{reference}*\n\n"
            "What happens next: the department in charge looks at it. When something "
            "changes, we tell you here. This is not a 24-hour hotline. "
            "In an emergency: 110 or 112.\n\n"
            "Forgot something? Tap *Add*."
        ),
        "add": "Add",
        "cancelled": "The report is cancelled; nothing was reported. To start again, write *Report*.",
        "nothing_open": "This report is no longer open. To report something new, write *Report*.",
        "addition_question": (
            "What would you like to add to your report *{reference}*? "
            "Send a text, a photo or a place."
        ),
        "addition_hint": "We cannot attach this.",
        "added": "Thank you, added to your report {reference}.",
        "unknown_concern": (
            "We cannot find this report of yours. To report something new, write *Report*."
        ),
        "news_in_progress": "Your report {reference} is being worked on now. 🛠️",
        "news_waiting": (
            "About your report {reference}: we need something more or are waiting for something."
        ),
        "news_resolved": "Your report {reference} is done. ✅ Thank you for your help!",
        "news_new": "Your report {reference} is open again. We keep working on it.",
        "news_note": "News about your report {reference}.",
        "news_note_line": "Note from the city: {note}",
        "news_waiting_add": "Anything to add? Tap *Add*.",
        "short_in_progress": "It is being worked on now.",
        "short_waiting": "We need something more or are waiting for something.",
        "short_resolved": "It is done. Thank you for your help!",
        "short_new": "It is open again.",
        "short_note": "A note from the city.",
    },
}


def words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["de"])


def _cancel(language: str) -> Button:
    return Button(CANCEL, words(language)["cancel"])


def category_question(
    language: str, categories: Sequence[tuple[int, str, str]], page: int = 1, *, hint: str = ""
) -> OutboundMessage:
    """The active categories as a list (id, name, description) with "Abbrechen" as its last
    row. Ten rows at most: with more, a page shows eight and a row that opens the next page."""
    w = words(language)
    per_page = LIST_ROWS - 2
    rest = categories[(page - 1) * per_page :]
    shown = rest if len(rest) < LIST_ROWS else rest[:per_page]
    rows = [Row(f"{CATEGORY}{pk}", name, description) for pk, name, description in shown]
    if len(shown) < len(rest):
        rows.append(Row(f"{PAGE}{page + 1}", w["more"], w["more_description"]))
    rows.append(Row(CANCEL, w["cancel"]))
    text = f"{hint}\n\n{w['category_question']}" if hint else w["category_question"]
    return OutboundMessage(text=text, menu=Menu(w["choose"], tuple(rows)))


def no_categories(language: str) -> OutboundMessage:
    return OutboundMessage(text=words(language)["no_categories"])


def unknown_category(language: str) -> str:
    return words(language)["unknown_category"]


def category_hint(language: str) -> str:
    return words(language)["category_hint"]


def location_question(language: str, category: str, *, hint: str = "") -> OutboundMessage:
    w = words(language)
    question = w["location_question"].format(category=category)
    return OutboundMessage(
        text=f"{hint}\n\n{question}" if hint else question, buttons=(_cancel(language),)
    )


def location_hint(language: str) -> str:
    return words(language)["location_hint"]


def not_a_place(language: str) -> str:
    return words(language)["not_a_place"]


def outside(language: str) -> OutboundMessage:
    text = words(language)["outside"].format(city=settings.CITY_NAME)
    return OutboundMessage(text=text, buttons=(_cancel(language),))


def photo_question(language: str, *, hint: str = "") -> OutboundMessage:
    w = words(language)
    return OutboundMessage(
        text=f"{hint} {w['photo_question']}" if hint else w["photo_question"],
        buttons=(Button(SKIP, w["skip"]), _cancel(language)),
    )


def photo_hint(language: str) -> str:
    return words(language)["photo_hint"]


def description_question(language: str, *, hint: str = "") -> OutboundMessage:
    w = words(language)
    return OutboundMessage(
        text=f"{hint} {w['description_question']}" if hint else w["description_question"],
        buttons=(_cancel(language),),
    )


def description_hint(language: str) -> str:
    return words(language)["description_hint"]


def add_button(language: str, concern_id: int) -> Button:
    return Button(f"{ADD}{concern_id}", words(language)["add"])


def done(language: str, reference: str, concern_id: int) -> OutboundMessage:
    return OutboundMessage(
        text=words(language)["done"].format(reference=reference),
        buttons=(add_button(language, concern_id),),
    )


def cancelled(language: str) -> OutboundMessage:
    return OutboundMessage(text=words(language)["cancelled"])


def nothing_open(language: str, *, hint: str = "") -> OutboundMessage:
    text = words(language)["nothing_open"]
    return OutboundMessage(text=f"{hint} {text}" if hint else text)


def addition_question(language: str, reference: str, *, hint: str = "") -> OutboundMessage:
    w = words(language)
    question = w["addition_question"].format(reference=reference)
    return OutboundMessage(
        text=f"{hint} {question}" if hint else question, buttons=(_cancel(language),)
    )


def addition_hint(language: str) -> str:
    return words(language)["addition_hint"]


def added(language: str, reference: str) -> OutboundMessage:
    return OutboundMessage(text=words(language)["added"].format(reference=reference))


def unknown_concern(language: str) -> OutboundMessage:
    return OutboundMessage(text=words(language)["unknown_concern"])


def news(language: str, status: str | None, reference: str, note: str) -> str:
    """The whole status message: what changed (`status` None: only a note), and the note."""
    w = words(language)
    text = w[f"news_{status or 'note'}"].format(reference=reference)
    if note:
        text += "\n\n" + w["news_note_line"].format(note=note)
    if status == "waiting":
        text += "\n\n" + w["news_waiting_add"]
    return text


def short_news(language: str, status: str | None, note: str) -> str:
    """The same in one line, for the template's {{2}}; the note stands for itself."""
    w = words(language)
    if not status and note:
        return note
    short = w[f"short_{status or 'note'}"]
    return f"{short} {note}" if note else short
