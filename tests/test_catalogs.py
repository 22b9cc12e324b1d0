"""The .po → .mo compiler used by `make setup` (no GNU gettext needed), and the staff pages
in German by default and in English on request."""

from __future__ import annotations

import gettext
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from stadtbote.lib import catalogs

PO = r"""
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

#: somewhere.py:1
msgid "Log in"
msgstr "Anmelden"

msgid ""
"A long text "
"in two lines with a \"quote\"\n"
msgstr "Ein langer Text mit einem „Zitat“\n"

#, fuzzy
msgid "Maybe"
msgstr "Vielleicht"

msgid "Untranslated"
msgstr ""

msgctxt "month"
msgid "May"
msgstr "Mai"

msgid "one post"
msgid_plural "%(n)d posts"
msgstr[0] "ein Beitrag"
msgstr[1] "%(n)d Beiträge"
"""


def load(data: bytes) -> gettext.GNUTranslations:
    return gettext.GNUTranslations(io.BytesIO(data))


def test_it_compiles_what_makemessages_writes():
    translations = load(catalogs.to_mo(catalogs.parse(PO)))
    assert translations.gettext("Log in") == "Anmelden"
    assert translations.gettext('A long text in two lines with a "quote"\n').startswith("Ein")
    assert translations.gettext("Maybe") == "Maybe"  # fuzzy: left out
    assert translations.gettext("Untranslated") == "Untranslated"
    assert translations.pgettext("month", "May") == "Mai"
    assert translations.gettext("May") == "May"
    assert translations.ngettext("one post", "%(n)d posts", 1) == "ein Beitrag"
    assert translations.ngettext("one post", "%(n)d posts", 3) == "%(n)d Beiträge"


@pytest.mark.parametrize(
    "broken", ['msgid "open', 'msgid "x"\nmsgstr "y"\n"dangling"\nbogus "z"', '"no keyword"']
)
def test_a_broken_catalogue_is_refused_with_the_line(broken):
    with pytest.raises(catalogs.CatalogError, match=r"<po>:\d+"):
        catalogs.parse(broken)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
def test_the_projects_catalogue_compiles_as_msgfmt_compiles_it(tmp_path):
    po = Path(catalogs.__file__).parents[1] / "locale" / "de" / "LC_MESSAGES" / "django.po"
    subprocess.run(["msgfmt", "-o", tmp_path / "ref.mo", po], check=True)
    ours = load(catalogs.to_mo(catalogs.parse(po.read_text(encoding="utf-8"))))._catalog  # type: ignore[attr-defined]
    theirs = load((tmp_path / "ref.mo").read_bytes())._catalog  # type: ignore[attr-defined]
    # The header ("") differs by design: msgfmt drops the POT-Creation-Date line.
    assert {k: v for k, v in ours.items() if k} == {k: v for k, v in theirs.items() if k}
    assert len(ours) > 100


def test_compiling_a_tree_writes_only_what_changed(tmp_path):
    po = tmp_path / "de" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(PO, encoding="utf-8")
    assert catalogs.compile_tree(tmp_path) == [po.with_suffix(".mo")]
    assert catalogs.compile_tree(tmp_path) == []


@pytest.mark.django_db
def test_the_staff_login_speaks_german_by_default_and_english_on_request(client):
    assert "Bei Stadtbote anmelden" in client.get("/staff/login/").content.decode()
    english = client.get("/staff/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Log in to Stadtbote" in english and 'lang="en"' in english
