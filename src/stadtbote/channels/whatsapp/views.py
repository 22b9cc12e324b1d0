"""The webhook endpoint: verify, store the raw body durably, answer 200. Nothing else here;
the worker applies what was stored (stadtbote.channels.inbound)."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from stadtbote.channels import inbound
from stadtbote.channels.whatsapp import signature

log = logging.getLogger(__name__)


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
    limit = settings.WEBHOOK_MAX_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return HttpResponse("bad Content-Length", status=400, content_type="text/plain")
    if declared > limit:
        return HttpResponse("body too large", status=413, content_type="text/plain")
    body = request.read(limit + 1)
    if len(body) > limit:
        return HttpResponse("body too large", status=413, content_type="text/plain")

    header = request.headers.get("X-Hub-Signature-256")
    if not header:
        return HttpResponse("signature missing", status=401, content_type="text/plain")
    if not signature.is_valid(settings.WHATSAPP["APP_SECRET"], body, header):
        log.warning("webhook refused: signature does not match (%d bytes)", len(body))
        return HttpResponse("signature invalid", status=403, content_type="text/plain")

    stored = inbound.store(channel="whatsapp", body=body)
    log.debug("webhook stored id=%s new=%s", stored.pk, stored.created)
    return HttpResponse("ok", content_type="text/plain")
