"""Request bodies: what may be stored and sent on, found without a costly round trip."""

from __future__ import annotations

import pytest

from whatsapp_emulator.jsonio import InvalidJson, decode_json


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1e400}',
        b'{"a": -1e999}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": "\\ud800"}',
        b'{"a": "\\uDFFF x"}',
        '{"a": "\\ud800"}'.encode("utf-16"),
        '{"a": "\\ud800"}'.encode("utf-32-le"),
        b'{"a": "\xff"}',
    ],
)
def test_bodies_that_could_not_be_written_back_are_refused(raw: bytes) -> None:
    with pytest.raises(InvalidJson):
        decode_json(raw)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b'{"a": 1.5e308, "b": -2.5}', {"a": 1.5e308, "b": -2.5}),
        (b'{"a": "\\u00e4\\ud83d\\ude00"}', {"a": "ä😀"}),
        ('{"a": "Grüße"}'.encode("utf-16"), {"a": "Grüße"}),
        (b'\xef\xbb\xbf{"a": 1}', {"a": 1}),
        ("Straße".join(['{"a": "', '"}']).encode(), {"a": "Straße"}),
    ],
)
def test_ordinary_bodies_are_read_as_before(raw: bytes, value: object) -> None:
    assert decode_json(raw) == value
