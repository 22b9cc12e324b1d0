"""What a citizen's free text means. Tolerant, because many who write are over 60: any case,
punctuation or emoji around the word, a polite extra word ("Start bitte"), umlauts written out
("Loeschen"), and one slip of the finger in the longer command words ("Abmleden")."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Command(StrEnum):
    START = "start"
    STOP = "stop"
    TOPICS = "topics"
    DISTRICTS = "districts"
    LANGUAGE = "language"
    PAUSE = "pause"
    DATA = "data"
    ERASE = "erase"
    HELP = "help"
    REPORT = "report"


@dataclass(frozen=True)
class Match:
    command: Command
    language: str | None  # "en" when the word was English, "de" when German, None if both


_GERMAN = {
    Command.START: {"start", "starten", "anmelden", "anmeldung", "hallo", "abonnieren"},
    Command.STOP: {"stop", "stopp", "abmelden", "ende", "beenden", "abbestellen", "kündigen"},
    Command.TOPICS: {"themen", "thema"},
    Command.DISTRICTS: {"stadtteil", "stadtteile", "ortsteil", "ortsteile"},
    Command.LANGUAGE: {"sprache"},
    Command.PAUSE: {"pause", "pausieren", "urlaub"},
    Command.DATA: {"daten", "auskunft", "meinedaten"},
    Command.ERASE: {"löschen", "loeschen", "loschen"},
    Command.HELP: {"hilfe", "menü", "menu", "?"},
    # "Mangel melden" and "Schaden melden" are joined into one word before the look-up.
    Command.REPORT: {
        "melden",
        "meldung",
        "mangelmelden",
        "mängelmelden",
        "maengelmelden",
        "schadenmelden",
    },
}
_ENGLISH = {
    Command.START: {"subscribe", "join", "hello", "hi"},
    Command.STOP: {"unsubscribe", "cancel", "quit", "end"},
    Command.TOPICS: {"topics", "topic"},
    Command.DISTRICTS: {"district", "districts", "area"},
    Command.LANGUAGE: {"language", "english"},
    Command.PAUSE: {"holiday", "vacation"},
    Command.DATA: {"data", "mydata"},
    Command.ERASE: {"delete", "erase", "forget"},
    Command.HELP: {"help", "info"},
    Command.REPORT: {"report"},
}
_SHARED = {"start", "stop", "pause", "info", "menu", "?"}
_FILLERS = {
    "bitte",
    "please",
    "jetzt",
    "now",
    "danke",
    "thanks",
    "mal",
    "mich",
    "me",
    "my",
    "meine",
}
_TOKEN = re.compile(r"[^\W_]+|\?", re.UNICODE)
# Typos are forgiven only where one slip cannot turn into another word we know: any one edit in
# words of six letters or more, two swapped neighbours ("Stpo", "Strat") from four letters on.
_TYPO_MIN_LENGTH = 6
_SWAP_MIN_LENGTH = 4


def _lookup() -> dict[str, Match]:
    table: dict[str, Match] = {}
    for language, words_by_command in (("de", _GERMAN), ("en", _ENGLISH)):
        for command, words in words_by_command.items():
            for word in words:
                table[word] = Match(command, None if word in _SHARED else language)
    return table


_LOOKUP = _lookup()
_TYPO_CANDIDATES = [w for w in _LOOKUP if len(w) >= _SWAP_MIN_LENGTH]


_POST_REFERENCE = re.compile(r"p\d{1,10}")


def parse(text: str) -> Command | None:
    match = understand(text)
    return match.command if match else None


def understand(text: str) -> Match | None:
    """The command a short message asks for, or None for anything else (a concern, a chat)."""
    folded = unicodedata.normalize("NFKC", text[:200]).casefold()
    # "Start p123" comes from a shared post's subscribe link: the reference is no word.
    tokens = [
        t for t in _TOKEN.findall(folded) if t not in _FILLERS and not _POST_REFERENCE.fullmatch(t)
    ]
    # A lone "?" asks for help; beside a word ("Hilfe?", "Stop?") it is just punctuation.
    words = [t for t in tokens if t != "?"] or tokens[:1]
    if not words or len(words) > 2:
        return None
    tokens = words
    # "meine Daten", "Pause bitte": one word carries the command; two command words do not.
    joined = "".join(tokens)
    if joined in _LOOKUP:
        return _LOOKUP[joined]
    if len(tokens) != 1:
        return None
    word = tokens[0]
    if word in _LOOKUP:
        return _LOOKUP[word]
    return _forgiving(word)


def _forgiving(word: str) -> Match | None:
    close = {
        _LOOKUP[known]
        for known in _TYPO_CANDIDATES
        if _swapped(word, known)
        or (len(known) >= _TYPO_MIN_LENGTH and _one_edit_apart(word, known))
    }
    return close.pop() if len(close) == 1 else None


def _swapped(a: str, b: str) -> bool:
    """Two neighbouring letters swapped: "stpo" for "stop"."""
    if len(a) != len(b) or a == b:
        return False
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and a[diffs[0]] == b[diffs[1]]
        and a[diffs[1]] == b[diffs[0]]
    )


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter inserted, left out, or replaced."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
