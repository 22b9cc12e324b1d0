"""Compiles gettext catalogues (.po) into the binary form Django reads (.mo).

Django's own `compilemessages` needs GNU gettext's `msgfmt` on the machine; this needs nothing
but Python, so that `make setup` works on a fresh machine. It reads what `makemessages`
writes: `msgctxt`, `msgid`, `msgid_plural`, `msgstr`/`msgstr[n]`, continued strings, C
escapes; fuzzy and untranslated entries are left out, as msgfmt does.

    python -m stadtbote.lib.catalogs DIRECTORY   # every .po below it, where the .mo is older
"""

from __future__ import annotations

import ast
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAGIC = 0x950412DE


class CatalogError(ValueError):
    pass


@dataclass
class _Entry:
    context: str | None = None
    msgid: str | None = None
    plural: str | None = None
    strings: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False


def _unquote(text: str, where: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise CatalogError(f"{where}: expected a quoted string")
    try:
        value = ast.literal_eval(text)  # C escapes are Python escapes for what .po files hold
    except (ValueError, SyntaxError) as exc:
        raise CatalogError(f"{where}: {exc}") from exc
    if not isinstance(value, str):
        raise CatalogError(f"{where}: expected a string")
    return value


def parse(text: str, name: str = "<po>") -> dict[str, str]:
    """The translated messages of a .po file, keyed as in a .mo file (context and plural
    forms joined with EOT and NUL)."""
    entries: list[_Entry] = []
    entry = _Entry()
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry, target
        if entry.msgid is not None:
            entries.append(entry)
        entry, target = _Entry(), None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        where = f"{name}:{number}"
        if not line:
            continue
        if line.startswith("#,"):
            if entry.msgid is not None:
                finish()
            entry.fuzzy = "fuzzy" in line
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if target is None:
                raise CatalogError(f"{where}: a continued string without a keyword")
            kind, index = target
            value = _unquote(line, where)
            if kind == "msgstr":
                entry.strings[index] += value
            else:
                setattr(entry, kind, (getattr(entry, kind) or "") + value)
            continue
        starts_another = keyword == "msgctxt" or (keyword == "msgid" and entry.strings)
        if starts_another and entry.msgid is not None:
            finish()
        if keyword == "msgctxt":
            entry.context, target = _unquote(rest, where), ("context", 0)
        elif keyword == "msgid":
            entry.msgid, target = _unquote(rest, where), ("msgid", 0)
        elif keyword == "msgid_plural":
            entry.plural, target = _unquote(rest, where), ("plural", 0)
        elif keyword == "msgstr":
            entry.strings[0], target = _unquote(rest, where), ("msgstr", 0)
        elif keyword.startswith("msgstr[") and keyword.endswith("]"):
            index = int(keyword[7:-1])
            entry.strings[index], target = _unquote(rest, where), ("msgstr", index)
        else:
            raise CatalogError(f"{where}: unknown keyword {keyword!r}")
    finish()

    messages: dict[str, str] = {}
    for e in entries:
        assert e.msgid is not None
        forms = [e.strings[i] for i in sorted(e.strings)]
        header = e.msgid == "" and e.context is None
        if not header and (e.fuzzy or not any(forms)):
            continue
        key = e.msgid if e.plural is None else f"{e.msgid}\0{e.plural}"
        if e.context is not None:
            key = f"{e.context}\x04{key}"
        messages[key] = "\0".join(forms)
    return messages


def to_mo(messages: dict[str, str]) -> bytes:
    """GNU .mo: a header, two tables of (length, offset), then the strings, each NUL-ended;
    keys sorted, no hash table (readers then search the sorted keys)."""
    keys = sorted(messages, key=lambda k: k.encode())
    ids = [k.encode() for k in keys]
    strs = [messages[k].encode() for k in keys]
    count = len(keys)
    start = 7 * 4 + 16 * count
    id_table: list[tuple[int, int]] = []
    str_table: list[tuple[int, int]] = []
    blob = b""
    for data, table in ((ids, id_table), (strs, str_table)):
        for item in data:
            table.append((len(item), start + len(blob)))
            blob += item + b"\0"
    header = struct.pack("<7I", MAGIC, 0, count, 7 * 4, 7 * 4 + 8 * count, 0, 0)
    tables = b"".join(struct.pack("<2I", *pair) for pair in id_table + str_table)
    return header + tables + blob


def compile_tree(root: Path) -> list[Path]:
    """Writes a .mo next to every .po below `root` that is newer than it; returns them."""
    written = []
    for po in sorted(root.rglob("*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.write_bytes(to_mo(parse(po.read_text(encoding="utf-8"), str(po))))
        written.append(mo)
    return written


if __name__ == "__main__":
    for path in compile_tree(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        sys.stdout.write(f"compiled {path}\n")
