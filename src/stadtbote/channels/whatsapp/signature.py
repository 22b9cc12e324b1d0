"""Meta signs every webhook body with HMAC-SHA256 of the app secret (X-Hub-Signature-256)."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(app_secret: str, body: bytes) -> str:
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def is_valid(app_secret: str, body: bytes, header: str) -> bool:
    if not app_secret or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(app_secret, body), header.strip())
