"""Reading request bodies and writing webhook bodies as JSON."""

from __future__ import annotations

import json
import math
from typing import Any


class InvalidJson(ValueError):
    """A request body that is not JSON the emulator can store and send on."""


def decode_json(raw: bytes) -> object:
    """Parse a request body.

    Rejects what ``json.loads`` would let through but cannot be written back later: NaN and
    Infinity, huge numbers and lone surrogates. Everything accepted here can be logged,
    returned by the control API and put into a webhook without failing there.
    """
    try:
        value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        # Only a \u escape can smuggle in a lone surrogate (UTF-8 bytes themselves are
        # decoded strictly), so the costly round trip is needed only for bodies with one, or
        # in UTF-16/32, where an escape is not found as these bytes.
        if b"\\u" in raw or json.detect_encoding(raw) not in ("utf-8", "utf-8-sig"):
            json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, RecursionError) as error:
        raise InvalidJson(_reason(error)) from None
    return value


def encode_compact(value: Any) -> bytes:
    """Compact UTF-8 JSON, the form Meta sends webhooks in."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not allowed in JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _reason(error: BaseException) -> str:
    if isinstance(error, UnicodeError):
        return "The request body is not valid UTF-8 text"
    if isinstance(error, RecursionError):
        return "The request body is nested too deeply"
    if isinstance(error, json.JSONDecodeError):
        return f"The request body is not valid JSON: {error.msg} at position {error.pos}"
    return f"The request body is not valid JSON: {error}"
