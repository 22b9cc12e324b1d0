"""Meta's answers and failed requests -> TransportError, sorted by what a retry would do.

A retry is safe only when the first request certainly did not take effect, because the Cloud
API has no idempotency key: a message sent twice arrives twice. So there are three outcomes:

- not accepted, worth retrying: Meta's error body with a throttle or transient code (Meta
  advises classifying by code, not HTTP status), a 429 or 503 without one (refused before any
  handling), or a connection that was never made;
- not accepted, not worth retrying: Meta's error body with any other code;
- unknown: the request went out and no trustworthy answer came back (timeout, connection reset
  or closed after sending, a gateway's 502/504, a 200 without a message id). Meta may have
  accepted the message, so it is not resent; it fails with OUTCOME_UNKNOWN.
"""

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
# Without Meta's error body, only these statuses say the request was refused before it was
# handled (RFC 9110: 503 the server cannot handle it now, 429 too many requests). A 500 or a
# gateway's 502/504 may come after the message was accepted behind the gateway.
REFUSED_UNHANDLED = {429, 503}

OUTCOME_UNKNOWN = "outcome unknown; not resent to avoid a duplicate"


class OutcomeUnknown(TransportError):
    """The request may have been accepted: it is not resent (permanent), and it fails with
    OUTCOME_UNKNOWN. `cause` names what happened (an exception type or an HTTP status)."""

    def __init__(self, cause: str) -> None:
        super().__init__(OUTCOME_UNKNOWN, permanent=True)
        self.cause = cause


def from_response(http_status: int, payload: Any) -> TransportError:
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return _without_error_body(http_status)
    code = error.get("code")
    code = code if isinstance(code, int) else None
    title = str(error.get("message", ""))[:120]
    if code in THROTTLED:
        return TransportError(title, permanent=False, retry_after=THROTTLED[code], code=code)
    # Meta's error body is Meta's word that the message was not accepted (131000 "Message
    # failed to send"), so a 5xx with one is retried, unlike a bare 5xx.
    if code in TRANSIENT or http_status >= 500 or error.get("is_transient") is True:
        return TransportError(title, permanent=False, code=code)
    return TransportError(title, permanent=True, code=code)


def _without_error_body(http_status: int) -> TransportError:
    if http_status in REFUSED_UNHANDLED:
        return TransportError(f"HTTP {http_status} without an error body", permanent=False)
    if http_status >= 500 or 200 <= http_status < 300:
        return OutcomeUnknown(f"HTTP {http_status} without a message id or error body")
    return TransportError(f"HTTP {http_status} without an error body", permanent=True)
