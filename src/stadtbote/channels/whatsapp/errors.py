"""Meta's error answers -> TransportError, by error code as Meta advises (not HTTP status)."""

from __future__ import annotations

from typing import Any

from stadtbote.channels.types import TransportError

# Throttles: the request was fine, the moment was not. Seconds to wait before trying again.
THROTTLED = {
    4: 60.0,  # app-level call limit
    80007: 60.0,  # WABA rate limit
    130429: 1.0,  # throughput per number
    131056: 6.0,  # pair rate: one message per ~6 s to the same user
}
# Temporary trouble on Meta's side: worth retrying with backoff.
TRANSIENT = {1, 2, 131000, 131016, 131057}


def from_response(http_status: int, payload: Any) -> TransportError:
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return TransportError(
            f"HTTP {http_status} without an error body",
            permanent=http_status < 500 and http_status != 429,
            code=None,
        )
    code = error.get("code")
    code = code if isinstance(code, int) else None
    title = str(error.get("message", ""))[:120]
    if code in THROTTLED:
        return TransportError(title, permanent=False, retry_after=THROTTLED[code], code=code)
    if code in TRANSIENT or http_status >= 500 or error.get("is_transient") is True:
        return TransportError(title, permanent=False, code=code)
    return TransportError(title, permanent=True, code=code)
