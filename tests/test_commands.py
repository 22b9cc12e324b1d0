from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stadtbote.dialogue.commands import Command, parse


@pytest.mark.parametrize(
    "text",
    [
        "Start",
        "start",
        "START",
        " Start! ",
        "Start bitte",
        "👋 Start",
        "Anmelden",
        "hallo",
        "Hallo!",
    ],
)
def test_it_understands_start_in_many_forms(text):
    assert parse(text) is Command.START


@pytest.mark.parametrize("text", ["Stop", "STOPP", "stop.", "Abmelden", "Ende", "abbestellen 🙏"])
def test_it_understands_stop_in_many_forms(text):
    assert parse(text) is Command.STOP


@pytest.mark.parametrize(
    "text", ["Die Ampel an der Hauptstraße ist kaputt", "Start der Baustelle?", "", "🙂"]
)
def test_it_leaves_other_messages_alone(text):
    assert parse(text) is None


@given(st.text(max_size=300))
def test_it_never_fails_on_any_text(text):
    assert parse(text) in {None, *Command}
