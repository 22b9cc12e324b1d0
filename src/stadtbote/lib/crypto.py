"""Phone numbers at rest: AES-GCM for the value, a keyed HMAC for look-ups.

Both keys are derived from a field key with HKDF under different labels, so a leaked database
dump reveals neither the numbers nor (without the key) which number a hash belongs to.

Keys rotate without downtime: STADTBOTE_FIELD_KEY is the current key, and the keys it replaced
stay readable while listed in STADTBOTE_FIELD_KEYS_PREVIOUS. Every ciphertext names its key, and
look-ups try the index of every known key, until `stadtbote rotate_field_key` has moved all rows
to the current one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_NONCE_BYTES = 12
_KEY_ID_BYTES = 4
_VERSION = b"\x01"  # version byte, then the key id, the nonce and the ciphertext


@dataclass(frozen=True)
class FieldKey:
    key_id: bytes
    aead: AESGCM
    index_key: bytes


def _derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret.encode())


@cache
def _field_key(secret: str) -> FieldKey:
    encryption_key = _derive(secret, b"stadtbote phone encryption")
    return FieldKey(
        key_id=hashlib.sha256(encryption_key).digest()[:_KEY_ID_BYTES],
        aead=AESGCM(encryption_key),
        index_key=_derive(secret, b"stadtbote phone index"),
    )


def current_key() -> FieldKey:
    return _field_key(settings.FIELD_KEY)


def known_keys() -> list[FieldKey]:
    """The current key first, then the previous ones still being rotated away from."""
    return [current_key(), *(_field_key(k) for k in settings.FIELD_KEYS_PREVIOUS)]


def encrypt(plaintext: str) -> bytes:
    key = current_key()
    nonce = os.urandom(_NONCE_BYTES)
    header = _VERSION + key.key_id
    return header + nonce + key.aead.encrypt(nonce, plaintext.encode(), header)


def key_id_of(token: bytes) -> bytes:
    return bytes(token)[1 : 1 + _KEY_ID_BYTES]


def decrypt(token: bytes) -> str:
    token = bytes(token)
    if token[:1] != _VERSION:
        raise ValueError("unknown encryption version")
    header = token[: 1 + _KEY_ID_BYTES]
    key = next((k for k in known_keys() if k.key_id == key_id_of(token)), None)
    if key is None:
        raise ValueError("encrypted with a key that is no longer configured")
    nonce = token[len(header) : len(header) + _NONCE_BYTES]
    return key.aead.decrypt(nonce, token[len(header) + _NONCE_BYTES :], header).decode()


def blind_index(value: str, key: FieldKey | None = None) -> str:
    """A keyed hash that finds a row by its phone number without storing the number."""
    index_key = (key or current_key()).index_key
    return hmac.new(index_key, value.encode(), hashlib.sha256).hexdigest()


def blind_indexes(value: str) -> list[str]:
    """The value's index under every known key: what a look-up must try during a rotation."""
    return [blind_index(value, key) for key in known_keys()]
