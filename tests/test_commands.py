from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stadtbote.dialogue.commands import _FILLERS, Command, parse


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


KNOWN = {
    "Start": Command.START,
    "Stop": Command.STOP,
    "Abmelden": Command.STOP,
    "Themen": Command.TOPICS,
    "Stadtteil": Command.DISTRICTS,
    "Sprache": Command.LANGUAGE,
    "Pause": Command.PAUSE,
    "Daten": Command.DATA,
    "Löschen": Command.ERASE,
    "Hilfe": Command.HELP,
}
decoration = st.text(alphabet=" .,!?;:-–…🙂👍🙏❤️\n\t", max_size=4)


@given(
    word=st.sampled_from(sorted(KNOWN)),
    before=decoration,
    after=decoration,
    case=st.sampled_from([str.lower, str.upper, str.title, lambda s: s]),
)
def test_case_punctuation_and_emoji_around_a_command_do_not_matter(word, before, after, case):
    assert parse(f"{before}{case(word)}{after}") is KNOWN[word]


@given(word=st.sampled_from(sorted(KNOWN)), filler=st.sampled_from(["bitte", "jetzt", "danke"]))
def test_a_polite_word_before_or_after_does_not_matter(word, filler):
    assert parse(f"{word} {filler}") is KNOWN[word]
    assert parse(f"{filler} {word}") is KNOWN[word]


@given(st.sampled_from(["stop", "abmelden", "stopp", "beenden", "abbestellen"]), st.data())
def test_two_neighbouring_letters_swapped_in_a_stop_word_still_stop(word, data):
    i = data.draw(st.integers(min_value=0, max_value=len(word) - 2))
    swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if swapped != word:
        assert parse(swapped) is Command.STOP


words = st.from_regex(r"[a-zäöüß]{2,9}", fullmatch=True).filter(lambda w: w not in _FILLERS)


@given(st.lists(words, min_size=3, max_size=8))
def test_a_sentence_is_never_a_command(sentence):
    assert parse(" ".join(sentence)) is None


def test_umlauts_written_out_are_understood():
    assert parse("Loeschen") is Command.ERASE
    assert parse("LOSCHEN") is Command.ERASE
