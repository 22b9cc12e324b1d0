"""The control API under ``/_emulator``: act as a citizen's phone and look inside the emulator.

Tests and the phone page use it; Meta has no such thing. Bad input gets HTTP 400 with
``{"error": "..."}``. Numbers in paths are wa_ids: 6 to 15 digits, no "+".

- ``GET /health`` → ``{"ok": true}``
- ``GET /users`` → ``{"users": [{"wa_id", "name", "messages", "incoming", "outgoing",
  "unread"}]}``
- ``GET /users/{wa_id}/messages`` → ``{"wa_id", "name", "messages": [{"id", "direction"
  ("in" | "out"), "timestamp", "type", "text" | "interactive", ["context_id"], "status"}]}``
- ``POST /users/{wa_id}/send`` with ``{"type": "text", "text", ["name"]}`` or
  ``{"type": "button_reply", "id", ["title"], "context_id", ["name"]}`` → ``{"id": wamid}``
- ``POST /users/{wa_id}/read`` → ``{"read": count}`` (the phone opens the chat)
- ``GET /messages`` → ``{"messages": [{"id", "timestamp", "phone_number_id", "to", "wa_id",
  "type", "body"}]}``, every accepted Graph API send
- ``GET /webhooks`` → ``{"pending", "attempts": [{"time", "url", "attempt", "kind", "detail",
  "message_id", "ok", "status_code", "error", "next_retry_in"}]}``
- ``POST /verify-webhook`` with optional ``{"verify_token"}`` → ``{"ok", "url", "challenge",
  "status_code", "body", "error"}``
- ``POST /reset`` → ``{"ok": true}``
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from whatsapp_emulator.emulator import Emulator
from whatsapp_emulator.jsonio import InvalidJson, decode_json
from whatsapp_emulator.validation import TEXT_BODY_MAX

PREFIX = "/_emulator"
PROFILE_NAME_MAX = 100

Endpoint = Callable[[Request], Awaitable[Response]]


class ControlError(Exception):
    """Bad input to the control API; answered with HTTP 400."""


def _route(method: str, path: str, endpoint: Endpoint) -> Route:
    """A route whose ControlError becomes a JSON error answer."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ControlError as error:
            return JSONResponse({"error": str(error)}, status_code=400)

    return Route(path, guarded, methods=[method])


class ControlApi:
    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    def routes(self) -> list[BaseRoute]:
        routes = [
            _route("GET", "/health", self.health),
            _route("GET", "/users", self.users),
            _route("GET", "/users/{wa_id}/messages", self.chat),
            _route("POST", "/users/{wa_id}/send", self.send),
            _route("POST", "/users/{wa_id}/read", self.read),
            _route("GET", "/messages", self.sent_messages),
            _route("GET", "/webhooks", self.webhook_log),
            _route("POST", "/verify-webhook", self.verify_webhook),
            _route("POST", "/reset", self.reset),
        ]
        return [Mount(PREFIX, routes=routes)]

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def users(self, request: Request) -> Response:
        users = self._emulator.state.users.values()
        return JSONResponse({"users": [user.summary() for user in users]})

    async def chat(self, request: Request) -> Response:
        wa_id = _wa_id(request)
        # Looking at a chat does not create the user, so the phone page may poll any number.
        user = self._emulator.state.users.get(wa_id)
        messages = [] if user is None else [message.to_json() for message in user.messages]
        name = None if user is None else user.name
        return JSONResponse({"wa_id": wa_id, "name": name, "messages": messages})

    async def send(self, request: Request) -> Response:
        wa_id = _wa_id(request)
        body = await _json_object(request)
        name = _optional_text(body, "name", PROFILE_NAME_MAX)
        kind = body.get("type")
        if kind == "text":
            text = _optional_text(body, "text", TEXT_BODY_MAX)
            if text is None:
                raise ControlError("text is required for type 'text'")
            message = self._emulator.receive_text(wa_id, text, name)
        elif kind == "button_reply":
            context_id, reply = self._tapped_button(wa_id, body)
            message = self._emulator.receive_button_reply(wa_id, reply, context_id, name)
        else:
            raise ControlError("type must be 'text' or 'button_reply'")
        return JSONResponse({"id": message.id})

    async def read(self, request: Request) -> Response:
        return JSONResponse({"read": self._emulator.phone_reads(_wa_id(request))})

    async def sent_messages(self, request: Request) -> Response:
        sent = self._emulator.state.sent
        return JSONResponse({"messages": [record.to_json() for record in sent]})

    async def webhook_log(self, request: Request) -> Response:
        webhooks = self._emulator.webhooks
        return JSONResponse(
            {
                "pending": webhooks.pending,
                "attempts": [attempt.to_json() for attempt in webhooks.attempts],
            }
        )

    async def verify_webhook(self, request: Request) -> Response:
        config = self._emulator.config
        if config.webhook_url is None:
            raise ControlError("no webhook URL is configured (EMULATOR_WEBHOOK_URL, --webhook-url)")
        # An optional other token lets a test check that the receiver refuses wrong ones.
        body = await _json_object(request) if await request.body() else {}
        verify_token = body.get("verify_token", config.verify_token)
        if not isinstance(verify_token, str):
            raise ControlError("verify_token must be a string")
        result = await self._emulator.webhooks.verify_subscription(config.webhook_url, verify_token)
        return JSONResponse(result)

    async def reset(self, request: Request) -> Response:
        self._emulator.reset()
        return JSONResponse({"ok": True})

    def _tapped_button(self, wa_id: str, body: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The business message and reply button a button_reply refers to.

        A phone can only tap buttons it was sent, so the reply must name a message with
        buttons that went to this user; this catches tests that tap made-up buttons.
        """
        button_id = body.get("id")
        context_id = body.get("context_id")
        if not isinstance(button_id, str) or not button_id:
            raise ControlError("id (the button id) is required for type 'button_reply'")
        if not isinstance(context_id, str) or not context_id:
            raise ControlError("context_id (the message with the buttons) is required")
        found = self._emulator.state.find_message(context_id)
        if found is None or found[0].wa_id != wa_id or found[1].direction != "out":
            raise ControlError(f"{context_id} is not a message the business sent to {wa_id}")
        reply = found[1].button(button_id)
        if reply is None:
            raise ControlError(f"message {context_id} has no reply button with id {button_id!r}")
        title = body.get("title", reply["title"])
        if title != reply["title"]:
            raise ControlError(f"the button {button_id!r} is titled {reply['title']!r}")
        return context_id, reply


def _wa_id(request: Request) -> str:
    wa_id: str = request.path_params["wa_id"]
    if not (wa_id.isascii() and wa_id.isdigit() and 6 <= len(wa_id) <= 15):
        raise ControlError("the number must be 6 to 15 digits without + or spaces")
    return wa_id


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = decode_json(await request.body())
    except InvalidJson as error:
        raise ControlError(str(error)) from None
    if not isinstance(body, dict):
        raise ControlError("the request body must be a JSON object")
    return body


def _optional_text(body: dict[str, Any], key: str, max_length: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ControlError(f"{key} must be a non-empty string")
    if len(value) > max_length:
        raise ControlError(f"{key} must be at most {max_length} characters long")
    return value
