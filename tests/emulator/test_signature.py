"""Webhook bodies are compact UTF-8 JSON signed like Meta signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from whatsapp_emulator.jsonio import encode_compact
from whatsapp_emulator.webhooks import retry_delay, sign

from .support import shared_file


def _pywa_test_vector() -> tuple[str, str, bytes]:
    """Secret, header and body of the real signed webhook quoted in the shared material."""
    readme = shared_file("README.md").read_text("utf-8")
    contract = shared_file("cloud-api-contract.md").read_text("utf-8")
    secret = re.search(r"app secret: `([0-9a-f]+)`", readme)
    header = re.search(r"X-Hub-Signature-256: (sha256=[0-9a-f]{64})", readme)
    body = re.search(r"^\s*`(\{\"object\":\"whatsapp_business_account\".*\})`\s*$", contract, re.M)
    assert secret and header and body, "the test vector moved in the shared material"
    return secret.group(1), header.group(1), body.group(1).encode("utf-8")


def test_it_reproduces_the_signature_of_a_real_meta_webhook() -> None:
    secret, header, body = _pywa_test_vector()

    assert sign(secret, body) == header


def test_a_signature_changes_with_a_single_byte() -> None:
    secret, header, body = _pywa_test_vector()

    assert sign(secret, body.replace(b"PyWa", b"Pywa")) != header
    assert sign(secret + "0", body) != header


def test_it_signs_with_hmac_sha256_in_lowercase_hex() -> None:
    body = b'{"object":"whatsapp_business_account"}'

    expected = hmac.new(b"geheim", body, hashlib.sha256).hexdigest()
    assert sign("geheim", body) == f"sha256={expected}"


def test_bodies_are_compact_utf8_without_escapes() -> None:
    body = encode_compact({"text": {"body": "Grüße aus Köln 👋"}, "n": [1, 2]})

    assert body == '{"text":{"body":"Grüße aus Köln 👋"},"n":[1,2]}'.encode()
    assert json.loads(body) == {"text": {"body": "Grüße aus Köln 👋"}, "n": [1, 2]}


def test_retries_back_off_exponentially_up_to_the_cap() -> None:
    delays = [retry_delay(attempt, base=1.0, cap=60.0) for attempt in range(1, 9)]

    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert retry_delay(10_000, base=1.0, cap=60.0) == 60.0
