"""A poll as the citizen sees it in the chat, and what the chat answers to a tap.

Choice ids are "poll:<poll id>:<option key>"; a template's single "vote" button carries
"poll:<poll id>:open" and is answered with the poll itself, now inside the 24-hour window.
Like the dialogue's texts these are per subscriber language, not gettext: the chat speaks the
citizen's language, whatever the staff member's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from django.utils import timezone

from stadtbote.broadcasts import templates
from stadtbote.broadcasts.models import Template
from stadtbote.channels.types import Button, Menu, OutboundMessage, Row, TemplateUse
from stadtbote.lib.ids import parse_id
from stadtbote.polls.models import MAX_BUTTONS, Option, Poll

PREFIX = "poll"
OPEN = "open"

_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "one": "Tippen Sie auf eine Antwort.",
        "several": "Mehrere Antworten möglich: tippen Sie jede an, die passt.",
        "until": "Abstimmen bis {when}.",
        "answer": "Antworten",
        "counted": "Danke, Ihre Stimme ist gezählt: *{label}*.",
        "change": "Sie können sie bis zum Schluss ändern: tippen Sie einfach eine andere Antwort.",
        "chosen": "Danke! Ihre Auswahl: *{labels}*.",
        "none": "Sie haben keine Antwort mehr ausgewählt.",
        "toggle": "Nochmal tippen nimmt eine Antwort zurück.",
        "closed": "Danke fürs Mitmachen! Diese Umfrage ist seit {when} beendet; "
        "Stimmen zählen nicht mehr.",
        "closed_now": "Danke fürs Mitmachen! Diese Umfrage ist beendet; Stimmen zählen nicht mehr.",
    },
    "en": {
        "one": "Tap one answer.",
        "several": "Several answers possible: tap each one that fits.",
        "until": "Vote until {when}.",
        "answer": "Answer",
        "counted": "Thank you, your vote is counted: *{label}*.",
        "change": "You can change it until the poll closes: just tap another answer.",
        "chosen": "Thank you! Your choice: *{labels}*.",
        "none": "You have no answer chosen any more.",
        "toggle": "Tapping an answer again takes it back.",
        "closed": "Thank you for taking part! This poll closed on {when}; votes no longer count.",
        "closed_now": "Thank you for taking part! This poll is closed; votes no longer count.",
    },
}


def _words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["de"])


def _when(at: datetime, language: str) -> str:
    local = timezone.localtime(at)
    return local.strftime("%d.%m.%Y, %H:%M Uhr" if language == "de" else "%d %b %Y, %H:%M")


def choice_id(poll_id: int, key: str) -> str:
    return f"{PREFIX}:{poll_id}:{key}"


def parse_choice(value: str) -> tuple[int, str] | None:
    """(poll id, option key) of a tap, or None when it is no well-formed poll choice."""
    prefix, _, rest = value.partition(":")
    raw_id, _, key = rest.partition(":")
    poll_id = parse_id(raw_id)
    if prefix != PREFIX or poll_id is None or not key or len(key) > 16:
        return None
    return poll_id, key


def ask(poll: Poll, options: Sequence[Option], language: str) -> OutboundMessage:
    """The question with its answers: reply buttons for up to three, a list for more."""
    w = _words(language)
    lines = [poll.post.text.strip(), "", w["several" if poll.multiple else "one"]]
    closing = poll.closing_time()
    if closing is not None:
        lines.append(w["until"].format(when=_when(closing, language)))
    text = "\n".join(lines)
    if len(options) <= MAX_BUTTONS:
        buttons = tuple(Button(choice_id(poll.pk, o.key), o.label) for o in options)
        return OutboundMessage(text=text, buttons=buttons)
    rows = tuple(Row(choice_id(poll.pk, o.key), o.label) for o in options)
    return OutboundMessage(text=text, menu=Menu(w["answer"], rows))


def quick_replies(poll: Poll, options: Sequence[Option], buttons: Sequence[str]) -> tuple[str, ...]:
    """The payloads for a template's quick-reply buttons. A template whose buttons are the
    poll's answers (same texts, same order, e.g. "Ja"/"Nein") votes directly; a template with
    one button ("Abstimmen") opens the poll. Empty when the template fits neither."""
    if len(buttons) == 1:
        return (choice_id(poll.pk, OPEN),)
    if _same(buttons, [o.label for o in options]):
        return tuple(choice_id(poll.pk, o.key) for o in options)
    return ()


def _same(buttons: Sequence[str], labels: Sequence[str]) -> bool:
    """The buttons are the answers: same texts (case aside), same order."""
    return [b.strip().casefold() for b in buttons] == [x.strip().casefold() for x in labels]


def template_fits(template: Template, labels: Sequence[str]) -> bool:
    buttons = template.buttons or []
    return len(buttons) == 1 or _same(buttons, labels)


def invitation(poll: Poll, options: Sequence[Option]) -> OutboundMessage | None:
    """The poll through its approved template, for citizens outside the 24-hour window;
    None without a usable template that fits."""
    template = poll.post.template
    if template is None or not template.is_usable:
        return None
    payloads = quick_replies(poll, options, template.buttons or [])
    if not payloads:
        return None
    filled = templates.fill(template, poll.post)
    assert filled.template is not None
    use: TemplateUse = replace(filled.template, quick_replies=payloads)
    return replace(filled, template=use)


def counted(language: str, label: str, poll: Poll) -> OutboundMessage:
    w = _words(language)
    text = w["counted"].format(label=label)
    if poll.is_open(timezone.now()):
        text += "\n" + w["change"]
    return OutboundMessage(text=text)


def selection(language: str, labels: Sequence[str]) -> OutboundMessage:
    w = _words(language)
    first = w["chosen"].format(labels=", ".join(labels)) if labels else w["none"]
    return OutboundMessage(text=f"{first}\n{w['toggle']}")


def closed(language: str, poll: Poll) -> OutboundMessage:
    w = _words(language)
    closing = poll.closing_time()
    if closing is None:  # the post was cancelled
        return OutboundMessage(text=w["closed_now"])
    return OutboundMessage(text=w["closed"].format(when=_when(closing, language)))
