"""The part of Meta's Graph API the app talks to: ``POST /{version}/{phone_number_id}/messages``.

Checks run in the order Graph API applies them: token, path, body, throughput. Whatever a
client posts, the answer is 200 or a Graph error body, never a server error.
"""

from __future__ import annotations

import hmac
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from whatsapp_emulator import errors
from whatsapp_emulator.emulator import Emulator
from whatsapp_emulator.errors import GraphError
from whatsapp_emulator.jsonio import InvalidJson, decode_json
from whatsapp_emulator.validation import MarkRead, parse_messages_request

_VERSION = re.compile(r"v\d+\.\d+")


class GraphApi:
    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator
        self._config = emulator.config

    def routes(self) -> list[BaseRoute]:
        return [Route("/{version}/{phone_number_id}/messages", self.messages, methods=["POST"])]

    async def messages(self, request: Request) -> Response:
        try:
            return await self._messages(request)
        except GraphError as error:
            return error.response()

    async def _messages(self, request: Request) -> Response:
        self._authenticate(request)
        version = request.path_params["version"]
        if not _VERSION.fullmatch(version):
            raise errors.invalid_parameter(
                f"Unknown API version '{version}'; use a version like v23.0"
            )
        phone_number_id = request.path_params["phone_number_id"]
        if phone_number_id != self._config.phone_number_id:
            raise errors.unknown_object(phone_number_id)
        try:
            body = decode_json(await request.body())
        except InvalidJson as error:
            raise errors.invalid_json(str(error)) from None
        parsed = parse_messages_request(body)
        if isinstance(parsed, MarkRead):
            if not self._emulator.mark_read_by_business(parsed.message_id):
                raise errors.invalid_parameter(
                    f"Param message_id: no message received from a user has the ID "
                    f"'{parsed.message_id}'"
                )
            return JSONResponse({"success": True})
        if parsed.wa_id == self._config.display_phone_number:
            raise errors.recipient_is_sender()
        if not self._emulator.take_throughput():
            raise errors.rate_limit_hit()
        message = self._emulator.accept(parsed)
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": parsed.to, "wa_id": parsed.wa_id}],
                "messages": [{"id": message.id}],
            }
        )

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "").strip()
        if not header:
            raise errors.missing_access_token()
        scheme, _, token = header.partition(" ")
        expected = self._config.access_token.encode("utf-8")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode("utf-8"), expected
        ):
            raise errors.invalid_access_token()
