"""The part of Meta's Graph API the app talks to.

- ``POST /{version}/{phone_number_id}/messages``: every message type the emulator knows,
  read receipts and the typing indicator
- ``POST /{version}/{phone_number_id}/media``; ``GET`` and ``DELETE /{version}/{media_id}``;
  the download URL ``GET /whatsapp_business/attachments/?mid=...`` (see ``media.py``)
- ``GET``, ``POST`` and ``DELETE /{version}/{business_account_id}/message_templates`` and
  ``GET /{version}/{template_id}`` (see ``templates.py``)

Every route checks the Bearer token first (104 without one, 190 for a wrong one), then the
path, the body and, for sends, the throughput. Versions are any ``v{N}.{M}``. Whatever a
client posts, the answer is 200 or a Graph error body, never a server error.
"""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from whatsapp_emulator import errors, media
from whatsapp_emulator.emulator import Emulator
from whatsapp_emulator.errors import GraphError
from whatsapp_emulator.jsonio import InvalidJson, decode_json
from whatsapp_emulator.validation import MarkRead, parse_messages_request

_VERSION = re.compile(r"v\d+\.\d+")

Endpoint = Callable[[Request], Awaitable[Response]]


class GraphRoute(Route):
    """A route whose first path segment must be a Graph API version like ``v23.0``.

    Paths of other shapes fall through to later routes, so ``/{version}/{object_id}`` does
    not swallow two-segment paths of the control API or the phone page.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match == Match.NONE:
            return match, child_scope
        version = child_scope.get("path_params", {}).get("version", "")
        if not _VERSION.fullmatch(version):
            return Match.NONE, {}
        return match, child_scope


def _answering_errors(endpoint: Endpoint) -> Endpoint:
    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except GraphError as error:
            return error.response()

    return guarded


class GraphApi:
    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    def routes(self) -> list[BaseRoute]:
        return [
            Route(
                "/{version}/{phone_number_id}/messages",
                _answering_errors(self.messages),
                methods=["POST"],
            ),
            GraphRoute(
                "/{version}/{phone_number_id}/media",
                _answering_errors(self.upload_media),
                methods=["POST"],
            ),
            GraphRoute(
                "/{version}/{business_account_id}/message_templates",
                _answering_errors(self.message_templates),
                methods=["GET", "POST", "DELETE"],
            ),
            Route(media.DOWNLOAD_PATH, _answering_errors(self.download_media), methods=["GET"]),
            GraphRoute(
                "/{version}/{object_id}",
                _answering_errors(self.graph_object),
                methods=["GET", "DELETE"],
            ),
        ]

    async def messages(self, request: Request) -> Response:
        self._authenticate(request)
        version = request.path_params["version"]
        if not _VERSION.fullmatch(version):
            raise errors.invalid_parameter(
                f"Unknown API version '{version}'; use a version like v23.0"
            )
        self._check_phone_number_id(request, "post")
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
        if parsed.wa_id == self._emulator.config.display_phone_number:
            raise errors.recipient_is_sender()
        if not self._emulator.take_throughput():
            raise errors.rate_limit_hit()
        message = self._emulator.accept(parsed)
        sent: dict[str, Any] = {"id": message.id}
        if parsed.type == "template":
            # Meta adds the template's delivery state (OpenAPI ``MessageStatus``).
            sent["message_status"] = "accepted"
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": parsed.to, "wa_id": parsed.wa_id}],
                "messages": [sent],
            }
        )

    async def upload_media(self, request: Request) -> Response:
        self._authenticate(request)
        self._check_phone_number_id(request, "post")
        content_type = request.headers.get("content-type", "")
        body = await _read_at_most(request, media.UPLOAD_REQUEST_MAX)
        if body is None:
            raise errors.media_upload_error(
                f"The upload is larger than {media.UPLOAD_REQUEST_MAX} bytes; documents may "
                "have at most 100 MB, video and audio 16 MB, images 5 MB"
            )
        try:
            parts = media.parse_multipart(content_type, body)
        except media.MultipartError as error:
            raise errors.invalid_parameter(
                f"Upload media as multipart/form-data with file, type and messaging_product: "
                f"{error}"
            ) from None
        upload = media.read_upload(parts)
        try:
            media_id = self._emulator.state.media.add(
                upload.data, upload.mime_type, upload.filename
            )
        except ValueError as error:
            raise errors.media_upload_error(f"The emulator cannot keep the file: {error}") from None
        return JSONResponse({"id": media_id})

    async def download_media(self, request: Request) -> Response:
        self._authenticate(request)
        media_id = request.query_params.get("mid", "")
        item = self._emulator.state.media.get(media_id)
        if item is None:
            raise errors.unknown_object(media_id, "get", f"No media with ID '{media_id}'")
        return Response(item.data, media_type=item.mime_type)

    async def graph_object(self, request: Request) -> Response:
        """``GET`` or ``DELETE /{version}/{id}`` for a media id, ``GET`` for a template id."""
        self._authenticate(request)
        object_id = request.path_params["object_id"]
        method = request.method.lower()
        store = self._emulator.state.media
        item = store.get(object_id)
        if item is not None:
            wanted_phone = request.query_params.get("phone_number_id")
            if wanted_phone is not None and wanted_phone != self._emulator.config.phone_number_id:
                raise errors.unknown_object(
                    object_id,
                    method,
                    f"Media {object_id} does not belong to the phone number {wanted_phone}",
                )
            if method == "delete":
                store.delete(object_id)
                return JSONResponse({"success": True})
            return JSONResponse(media.media_url_answer(item, str(request.base_url)))
        template = self._emulator.templates.by_id(object_id)
        if template is not None and method == "get":
            return JSONResponse(template.to_json())
        raise errors.unknown_object(
            object_id,
            method,
            f"No media or message template with ID '{object_id}' exists in this emulator",
        )

    async def message_templates(self, request: Request) -> Response:
        self._authenticate(request)
        method = request.method.lower()
        account = request.path_params["business_account_id"]
        if account != self._emulator.config.business_account_id:
            raise errors.unknown_object(
                account,
                method,
                f"No WhatsApp Business Account with ID '{account}' is registered in this emulator",
            )
        registry = self._emulator.templates
        if method == "get":
            page_url = str(request.url.replace(query=""))
            return JSONResponse(registry.list_answer(dict(request.query_params), page_url))
        if method == "delete":
            name = request.query_params.get("name")
            if not name:
                raise errors.missing_parameter("The parameter name is required.")
            if not registry.delete(name, request.query_params.get("hsm_id")):
                raise errors.invalid_parameter(f"Message template '{name}' was not found")
            return JSONResponse({"success": True})
        try:
            body = decode_json(await request.body())
        except InvalidJson as error:
            raise errors.invalid_json(str(error)) from None
        template = registry.create(body)
        return JSONResponse(
            {"id": template.id, "status": template.status, "category": template.category}
        )

    def _check_phone_number_id(self, request: Request, method: str) -> None:
        phone_number_id = request.path_params["phone_number_id"]
        if phone_number_id != self._emulator.config.phone_number_id:
            raise errors.unknown_object(phone_number_id, method)

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "").strip()
        if not header:
            raise errors.missing_access_token()
        scheme, _, token = header.partition(" ")
        expected = self._emulator.config.access_token.encode("utf-8")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode("utf-8"), expected
        ):
            raise errors.invalid_access_token()


async def _read_at_most(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to be longer than ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
