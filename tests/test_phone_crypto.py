from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from django.test import override_settings

from stadtbote.lib import crypto, phone


def test_it_round_trips_a_phone_number():
    token = crypto.encrypt("491701234567")
    assert b"491701234567" not in token
    assert crypto.decrypt(token) == "491701234567"


def test_it_encrypts_the_same_number_differently_each_time():
    assert crypto.encrypt("491701234567") != crypto.encrypt("491701234567")


def test_it_refuses_ciphertext_made_with_a_key_it_does_not_know():
    token = crypto.encrypt("491701234567")
    with (
        override_settings(FIELD_KEY="another key entirely"),
        pytest.raises(ValueError, match="no longer configured"),
    ):
        crypto.decrypt(token)


def test_a_previous_key_still_decrypts_and_finds_during_a_rotation(settings):
    old_key = settings.FIELD_KEY
    token = crypto.encrypt("491701234567")
    old_index = crypto.blind_index("491701234567")
    with override_settings(FIELD_KEY="the new key", FIELD_KEYS_PREVIOUS=[old_key]):
        assert crypto.decrypt(token) == "491701234567"
        assert crypto.blind_indexes("491701234567") == [
            crypto.blind_index("491701234567"),
            old_index,
        ]
        assert crypto.key_id_of(crypto.encrypt("x")) != crypto.key_id_of(token)


def test_it_refuses_tampered_ciphertext():
    token = bytearray(crypto.encrypt("491701234567"))
    token[-1] ^= 1
    with pytest.raises(InvalidTag):
        crypto.decrypt(bytes(token))


def test_the_blind_index_is_stable_and_keyed():
    index = crypto.blind_index("491701234567")
    assert index == crypto.blind_index("491701234567")
    assert "491701234567" not in index
    with override_settings(FIELD_KEY="another key entirely"):
        assert crypto.blind_index("491701234567") != index


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+49 170 1234567", "491701234567"),
        ("0049-170-1234567", "491701234567"),
        ("491701234567", "491701234567"),
    ],
)
def test_it_normalizes_phone_numbers(raw, expected):
    assert phone.normalize(raw) == expected


@pytest.mark.parametrize("raw", ["", "123", "abc", "+49 170 1234567 1234567"])
def test_it_rejects_what_is_not_a_phone_number(raw):
    with pytest.raises(phone.InvalidPhoneNumber):
        phone.normalize(raw)
