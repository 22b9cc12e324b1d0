"""Phone numbers at rest: AES-GCM for the value, a keyed HMAC for look-ups.

Both keys are derived from STADTBOTE_FIELD_KEY with HKDF under different labels, so a leaked
database dump reveals neither the numbers nor (without the key) which number a hash belongs to.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_NONCE_BYTES = 12
_VERSION = b"\x01"  # leading byte so the scheme can be rotated later


def _derive(label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(
        settings.FIELD_KEY.encode()
    )


@cache
def _keys(field_key: str) -> tuple[AESGCM, bytes]:
    return AESGCM(_derive(b"stadtbote phone encryption")), _derive(b"stadtbote phone index")


def _current() -> tuple[AESGCM, bytes]:
    return _keys(settings.FIELD_KEY)


def encrypt(plaintext: str) -> bytes:
    aead, _ = _current()
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + aead.encrypt(nonce, plaintext.encode(), _VERSION)


def decrypt(token: bytes) -> str:
    aead, _ = _current()
    token = bytes(token)
    if token[:1] != _VERSION:
        raise ValueError("unknown encryption version")
    nonce, ciphertext = token[1 : 1 + _NONCE_BYTES], token[1 + _NONCE_BYTES :]
    return aead.decrypt(nonce, ciphertext, _VERSION).decode()


def blind_index(value: str) -> str:
    """A keyed hash that finds a row by its phone number without storing the number."""
    _, key = _current()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
