"""The German catalogue is complete: every entry translated, none fuzzy, none twice, and
every message the code marks for translation (Python and templates) is in it. The last
check extracts the messages as `makemessages` does, so it needs GNU gettext's xgettext."""

from __future__ import annotations

import ast
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

import stadtbote

PACKAGE = Path(stadtbote.__file__).parent
PO = PACKAGE / "locale" / "de" / "LC_MESSAGES" / "django.po"


@dataclass
class Entry:
    context: str | None
    msgid: str
    strings: list[str]
    fuzzy: bool
    line: int


def entries(text: str) -> list[Entry]:
    """Every entry of a .po file, translated or not (the compiler keeps only the translated)."""
    found: list[Entry] = []
    for block_start, block in _blocks(text):
        if block[0].startswith("#~") or all(line.startswith("#") for line in block):
            continue
        fields: dict[str, str] = {}
        key = ""
        fuzzy = False
        for line in block:
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[key] += ast.literal_eval(line)
            else:
                key, _, rest = line.partition(" ")
                fields[key] = ast.literal_eval(rest)
        strings = [v for k, v in fields.items() if k.startswith("msgstr")]
        found.append(Entry(fields.get("msgctxt"), fields["msgid"], strings, fuzzy, block_start))
    return [e for e in found if e.msgid]  # the header has the empty msgid


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 1
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            if not current:
                start = number
            current.append(line.strip())
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def test_every_entry_is_translated_and_none_is_fuzzy():
    catalogue = entries(PO.read_text(encoding="utf-8"))
    assert len(catalogue) > 300
    assert [e.msgid for e in catalogue if e.fuzzy] == []
    assert [e.msgid for e in catalogue if not all(s.strip() for s in e.strings)] == []


def test_no_message_is_in_the_catalogue_twice():
    keys = [(e.context, e.msgid) for e in entries(PO.read_text(encoding="utf-8"))]
    assert sorted(k for k in set(keys) if keys.count(k) > 1) == []


def test_translation_functions_go_by_names_the_extraction_knows():
    # makemessages finds `_`, `gettext`, `gettext_lazy`, `ngettext`, `pgettext`… by name: a
    # message marked through another alias would be translated by nobody.
    aliased = re.compile(r"import\s+(?:\w*gettext\w*)\s+as\s+(?!_\b)\w+")
    found = [
        f"{path.relative_to(PACKAGE)}: {match.group(0)}"
        for path in PACKAGE.rglob("*.py")
        for match in aliased.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_reader_sees_what_is_wrong():
    broken = (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Yes"\nmsgstr ""\n\n#, fuzzy\nmsgid "No"\nmsgstr "Nein"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "eins"\nmsgstr[1] ""\n'
    )
    read = {e.msgid: e for e in entries(broken)}
    assert read["Yes"].strings == [""] and read["No"].fuzzy and read["one"].strings[1] == ""


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_every_message_marked_in_the_code_is_in_the_catalogue(tmp_path):
    copy = tmp_path / "stadtbote"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    cwd = os.getcwd()
    try:
        os.chdir(copy)
        with override_settings(LOCALE_PATHS=[copy / "locale"]):
            call_command(
                "makemessages",
                locale=["de"],
                ignore_patterns=["migrations/*"],
                no_location=True,
                no_obsolete=True,
                verbosity=0,
            )
    finally:
        os.chdir(cwd)
    merged = entries((copy / "locale" / "de" / "LC_MESSAGES" / "django.po").read_text("utf-8"))
    missing = sorted(e.msgid for e in merged if e.fuzzy or not all(s for s in e.strings))
    assert missing == []
