"""Does a message look like an emergency? Then the citizen is told at once to call 110 or 112,
because the chat is read during office hours only.

Recall before precision: a needless hint costs a citizen a second of reading, a missed one may
cost a life. So stems match inside German compounds ("Verkehrsunfall", "Wohnungsbrand",
"Raubüberfall"), inflections are covered by prefixes ("brennt", "brennende", "verletzte"),
and ambiguous words stay in ("Brandschutz", "schlägt vor", "gewaltig" give a hint too).
Only a few frequent harmless words are taken out before matching: fireworks ("Feuerwerk",
"fireworks": every New Year the city gets complaints about them, and a fire they cause is named
as one), and "Brandenburg". "Hilfe" and "help" count only with an exclamation mark ("Hilfe!"),
as "Ich brauche Hilfe beim Antrag" is the chat's everyday business. 🔥 is not a keyword (it
mostly means "great"); 🆘 🚑 🚒 🚨 are.

Texts are compared after Unicode normalisation (NFKD without accents, case-folded), with
umlauts and their spelled-out forms made equal (ä, ae and a all become a), so "Überfall",
"Ueberfall", "UBERFALL" and "Überfall" in a decomposed encoding all match.
"""

from __future__ import annotations

import re
import unicodedata

# Matched at the start of a word, so inflected forms match too.
WORD_STARTS = (
    # German
    "feuer",  # Feuer, Feuerwehr
    "brennt",
    "brenne",  # brennen, brennende
    "verletz",  # verletzt, Verletzte, Verletzung
    "bewusstlos",
    "bewustlos",
    "ohnmacht",
    "blutet",
    "blutend",
    "blutung",
    "schlagt",  # schlägt (schlägt zu, schlägt mich)
    "pruegel",
    "prugel",
    "messerangriff",
    "angegriffen",
    "bedroh",  # bedroht, Bedrohung
    "erstick",
    "ertrink",
    "ertrunken",
    "rettungswagen",
    "krankenwagen",
    "notarzt",
    "rauchentwicklung",
    "qualm",
    "einbruch",
    "eingebrochen",
    "explosion",
    "explodiert",
    "gasgeruch",
    "riecht nach gas",
    "vergiftet",
    "suizid",
    "selbstmord",
    "umbringen",
    # English
    "fire",
    "burning",
    "burns",
    "smoke",
    "accident",
    "crash",
    "injur",  # injured, injury
    "hurt",
    "emergenc",
    "violen",  # violence, violent
    "attack",
    "assault",
    "stabbed",
    "unconscious",
    "fainted",
    "bleeding",
    "drowning",
    "ambulance",
    "gas leak",
    "overdose",
    "suicid",
    "kill",
)
# Matched anywhere, for German compounds that end in them.
ANYWHERE = (
    "unfall",
    "brand",
    "notfall",
    "notruf",
    "uberfall",
    "gewalt",
    "🆘",
    "🚑",
    "🚒",
    "🚨",
)
# Calls for help need the exclamation mark.
CRIES = (r"\bhilfe\s*!", r"\bhelp\s*!", r"\bsos\b", r"\bmayday\b")
# Harmless words removed before matching (see the module's docstring).
HARMLESS = (r"\w*feuerwerk\w*", r"\w*firework\w*", r"\w*brandenburg\w*")


def normalise(text: str) -> str:
    """Case-folded, without accents, with ä/ae/a (and ö, ü) made one letter."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return plain.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def _compile() -> re.Pattern[str]:
    starts = "|".join(re.escape(normalise(s)) for s in WORD_STARTS)
    anywhere = "|".join(re.escape(normalise(s)) for s in ANYWHERE)
    cries = "|".join(CRIES)
    return re.compile(rf"\b(?:{starts})|(?:{anywhere})|{cries}")


_PATTERN = _compile()
_HARMLESS = re.compile("|".join(normalise(h) for h in HARMLESS))


def looks_like_emergency(text: str) -> bool:
    if not text:
        return False
    cleaned = _HARMLESS.sub(" ", normalise(text))
    return _PATTERN.search(cleaned) is not None
