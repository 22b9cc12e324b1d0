"""What a citizen's free text means. Tolerant: any case, punctuation or emoji around the word,
a polite extra word ("Start bitte")."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Command(StrEnum):
    START = "start"
    STOP = "stop"
    HELP = "help"


_WORDS = {
    Command.START: {"start", "starten", "anmelden", "hallo", "subscribe", "join"},
    Command.STOP: {"stop", "stopp", "abmelden", "ende", "abbestellen", "unsubscribe", "cancel"},
    Command.HELP: {"hilfe", "help", "info", "?"},
}
_LOOKUP = {word: command for command, words in _WORDS.items() for word in words}
_FILLERS = {"bitte", "please", "jetzt", "now", "danke", "thanks"}
_TOKEN = re.compile(r"[^\W_]+|\?", re.UNICODE)


def parse(text: str) -> Command | None:
    """The command a short message asks for, or None for anything else (a concern, a chat)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    tokens = [t for t in _TOKEN.findall(folded) if t not in _FILLERS]
    if len(tokens) != 1:
        return None
    return _LOOKUP.get(tokens[0])
