"""The webhook endpoint: verify, store the raw body durably, answer 200. Nothing else here;
the worker applies what was stored (stadtbote.channels.inbound).

Two doors with the same checks. `receive_post` is a bare ASGI app: stadtbote.asgi sends every
`POST /webhooks/whatsapp` to it, past Django's middleware and request objects, and it stores
through the group commit (channels.intake). That is the path Meta's traffic takes in
production. `webhook` is the Django view: the GET handshake, other methods (405), and POSTs
that reach Django some other way (the test client, a WSGI server), stored one by one.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from stadtbote.channels import inbound, intake
from stadtbote.channels.whatsapp import signature

log = logging.getLogger(__name__)

PATH = "/webhooks/whatsapp"
CHANNEL = "whatsapp"

Refusal = tuple[int, str]


def refuse_length(content_length: str | None) -> Refusal | None:
    """Before reading the body: 400 for an unreadable Content-Length, 413 for one over the
    limit."""
    try:
        declared = int(content_length or 0)
    except ValueError:
        return 400, "bad Content-Length"
    if declared < 0:
        return 400, "bad Content-Length"
    if declared > settings.WEBHOOK_MAX_BYTES:
        return 413, "body too large"
    return None


def refuse_body(body: bytes, signature_header: str | None) -> Refusal | None:
    """After reading it: 413 over the limit (a missing or false Content-Length), 401 without a
    signature, 403 with a wrong one."""
    if len(body) > settings.WEBHOOK_MAX_BYTES:
        return 413, "body too large"
    if not signature_header:
        return 401, "signature missing"
    if not signature.is_valid(settings.WHATSAPP["APP_SECRET"], body, signature_header):
        log.warning("webhook refused: signature does not match (%d bytes)", len(body))
        return 403, "signature invalid"
    return None


# --- the Django view ---------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest) -> HttpResponseBase:
    if request.method == "GET":
        return _handshake(request)
    return _receive(request)


def _handshake(request: HttpRequest) -> HttpResponse:
    expected = settings.WHATSAPP["VERIFY_TOKEN"]
    token = request.GET.get("hub.verify_token", "")
    if (
        request.GET.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(token.encode(), expected.encode())
    ):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return HttpResponse("verification failed", status=403, content_type="text/plain")


def _receive(request: HttpRequest) -> HttpResponse:
    refused = refuse_length(request.headers.get("Content-Length"))
    if refused is not None:
        return _refusal(refused)
    body = request.read(settings.WEBHOOK_MAX_BYTES + 1)
    refused = refuse_body(body, request.headers.get("X-Hub-Signature-256"))
    if refused is not None:
        return _refusal(refused)
    stored = inbound.store(channel=CHANNEL, body=body)
    log.debug("webhook stored id=%s new=%s", stored.pk, stored.created)
    return HttpResponse("ok", content_type="text/plain")


def _refusal(refused: Refusal) -> HttpResponse:
    status, text = refused
    return HttpResponse(text, status=status, content_type="text/plain")


# --- the bare ASGI path --------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def receive_post(scope: Scope, receive: Receive, send: Send) -> None:
    """`POST /webhooks/whatsapp` as an ASGI app: the same checks and answers as the view, and
    the 200 only after the body's batch is committed."""
    content_length = signature_header = None
    for name, value in scope["headers"]:
        # Repeated headers are joined with a comma, as Django does, so they fail the checks.
        if name == b"content-length":
            content_length = _joined(content_length, value)
        elif name == b"x-hub-signature-256":
            signature_header = _joined(signature_header, value)

    refused = refuse_length(content_length)
    if refused is not None:
        # Refused unread: closing the connection spares reading what follows.
        await _answer(send, *refused, close=True)
        return
    body = await _read_body(receive, settings.WEBHOOK_MAX_BYTES)
    if body is None:
        return  # the client went away; nobody to answer
    refused = refuse_body(body, signature_header)
    if refused is not None:
        await _answer(send, *refused, close=refused[0] == 413)
        return
    try:
        await intake.store(CHANNEL, body)
    except intake.NotStored:
        # Logged by the writer. Not a 200, so Meta delivers the same bytes again later.
        await _answer(send, 500, "not stored")
        return
    await _answer(send, 200, "ok")


def _joined(previous: str | None, value: bytes) -> str:
    text = value.decode("latin-1")
    return text if previous is None else f"{previous},{text}"


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or as much as shows it is over `limit` (limit + 1 bytes or more);
    None if the client disconnected."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, text: str, *, close: bool = False) -> None:
    content = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(content)).encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
