"""The control API for message templates, under ``/_emulator/templates``.

Meta reviews every template; here a test decides. Answers are JSON; bad input gets HTTP 400
and an unknown template 404, both with ``{"error": "..."}``.

- ``GET /_emulator/templates`` → ``{"templates": [{"id", "name", "language", "category",
  "status", "reason", "parameter_format", "components"}]}``
- ``POST /_emulator/templates/{name}/{language}/status`` with ``{"status": "APPROVED" |
  "REJECTED" | "PAUSED" | "DISABLED" | "PENDING", ["reason"]}`` → ``{"id", "name",
  "language", "status", "reason", "changed"}``. A change sends Meta's
  ``message_template_status_update`` webhook; ``reason`` (rejections: e.g.
  ``INVALID_FORMAT``) defaults to ``NONE``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from whatsapp_emulator.emulator import Emulator
from whatsapp_emulator.jsonio import InvalidJson, decode_json
from whatsapp_emulator.templates import REJECTION_REASONS, STATUSES, Template

PREFIX = "/_emulator/templates"


class TemplateControlApi:
    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    def routes(self) -> list[BaseRoute]:
        """Plain routes, placed before the ``/_emulator`` mount of control.py that would
        otherwise take every path under it."""
        return [
            Route(PREFIX, self.list_templates, methods=["GET"]),
            Route(PREFIX + "/{name}/{language}/status", self.set_status, methods=["POST"]),
        ]

    async def list_templates(self, request: Request) -> Response:
        templates = self._emulator.templates.all()
        return JSONResponse({"templates": [_describe(template) for template in templates]})

    async def set_status(self, request: Request) -> Response:
        name = request.path_params["name"]
        language = request.path_params["language"]
        template = self._emulator.templates.find(name, language)
        if template is None:
            return _error(404, f"there is no template {name!r} in language {language!r}")
        try:
            body = decode_json(await request.body())
        except InvalidJson as error:
            return _error(400, str(error))
        if not isinstance(body, dict):
            return _error(400, "the request body must be a JSON object")
        status = body.get("status")
        if status not in STATUSES:
            return _error(400, f"status must be one of {', '.join(STATUSES)}")
        reason = body.get("reason", "NONE")
        if reason not in REJECTION_REASONS:
            return _error(400, f"reason must be one of {', '.join(REJECTION_REASONS)}")
        changed = self._emulator.templates.set_status(template, status, reason)
        return JSONResponse(
            {
                "id": template.id,
                "name": template.name,
                "language": template.language,
                "status": template.status,
                "reason": template.reason,
                "changed": changed,
            }
        )


def _describe(template: Template) -> dict[str, object]:
    return {**template.to_json(), "reason": template.reason}


def _error(status_code: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code)
