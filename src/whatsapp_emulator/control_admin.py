"""Control routes for time, policy, configuration and faults, under ``/_emulator``.

Meta has none of these; tests use them to reach states that would take a day or a bad day.
Bad input gets HTTP 400 with ``{"error": "..."}`` (a body over 64 KiB: 413). Bodies are JSON
objects; unknown fields and repeated keys are refused rather than ignored, so a typo in a test
fails loudly instead of testing nothing.

- ``GET /clock`` → ``{"time", "timestamp", "offset", "frozen"}``
- ``POST /clock/advance`` with ``{"seconds": N}`` (0 ≤ N ≤ ten years) → the clock as above
- ``GET /config`` → ``{"config": {field: value}}``, every setting that can be patched
- ``POST /config`` with ``{field: value, ...}`` → ``{"config": ...}`` after the patch; the
  patch is checked like a new configuration and applies at once to later sends and webhooks.
  Tokens, the secret, the ids, ``frozen_time`` and ``webhook_timeout`` are fixed at start.
- ``GET /users/{wa_id}/properties`` → ``{"wa_id", "on_whatsapp", "blocked",
  "marketing_stopped", "marketing_cap_reached", "last_inbound_at", "window_open",
  "window_closes_at", "marketing_received_24h"}``
- ``POST /users/{wa_id}/properties`` with any of ``{"on_whatsapp", "blocked",
  "marketing_stopped", "marketing_cap_reached"}`` (booleans) → the properties as above;
  changing ``marketing_stopped`` sends the ``user_preferences`` webhook, as the citizen's
  own "stop marketing messages" would
- ``GET /webhooks/pending`` → ``{"pending", "in_flight"}``: webhooks not yet delivered or
  given up, and POSTs under way; cheap to poll, unlike the whole delivery log
- ``GET /faults`` → ``{"faults": [{"id", "route", "kind", "probability", "seed", "seconds",
  "times", "after_processing", "matched", "injected"}]}``
- ``POST /faults`` with ``{"route", "kind", ["probability"], ["seed"], ["seconds"],
  ["times"], ["after_processing"]}`` → ``{"fault": {...}}`` (see faults.py for the kinds)
- ``DELETE /faults`` (optionally ``?route=messages``) → ``{"removed": count}``

``POST /_emulator/reset`` undoes clock advances, configuration patches and fault rules too.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from whatsapp_emulator.clock import MAX_ADVANCE
from whatsapp_emulator.config import ConfigError, EmulatorConfig
from whatsapp_emulator.emulator import Emulator
from whatsapp_emulator.faults import FaultError
from whatsapp_emulator.policy import USER_PROPERTIES
from whatsapp_emulator.state import User

PREFIX = "/_emulator"
MAX_BODY = 64 * 1024
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

# Settings a running emulator keeps: who it is, what it shares with the app, its clock.
FIXED_SETTINGS = frozenset(
    [
        "access_token",
        "app_secret",
        "phone_number_id",
        "business_account_id",
        "verify_token",
        "display_phone_number",
        "frozen_time",
        "webhook_timeout",
    ]
)

Endpoint = Callable[[Request], Awaitable[Response]]


class AdminError(Exception):
    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


def patchable_settings() -> dict[str, str]:
    """Setting name → its type as written in EmulatorConfig, for every patchable setting."""
    settings: dict[str, str] = {}
    for setting in dataclasses.fields(EmulatorConfig):
        kind = str(setting.type)
        if setting.name not in FIXED_SETTINGS and _base_type(kind) is not None:
            settings[setting.name] = kind
    return settings


class ControlAdmin:
    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    def routes(self) -> list[BaseRoute]:
        return [
            _AdminRoutes(
                [
                    _route("/clock", GET=self.clock),
                    _route("/clock/advance", POST=self.advance_clock),
                    _route("/config", GET=self.config, POST=self.patch_config),
                    _route(
                        "/users/{wa_id}/properties",
                        GET=self.user_properties,
                        POST=self.set_user_properties,
                    ),
                    _route(
                        "/faults", GET=self.faults, POST=self.add_fault, DELETE=self.clear_faults
                    ),
                    _route("/webhooks/pending", GET=self.pending_webhooks),
                ]
            )
        ]

    async def clock(self, request: Request) -> Response:
        return JSONResponse(self._emulator.clock.to_json())

    async def advance_clock(self, request: Request) -> Response:
        body = await _json_object(request, allowed=("seconds",))
        seconds = body.get("seconds")
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not math.isfinite(seconds)
            or not 0 <= seconds <= MAX_ADVANCE
        ):
            raise AdminError(f"seconds must be a number from 0 to {MAX_ADVANCE:.0f}")
        self._emulator.clock.advance(float(seconds))
        return JSONResponse(self._emulator.clock.to_json())

    async def config(self, request: Request) -> Response:
        return JSONResponse({"config": self._config_json()})

    async def patch_config(self, request: Request) -> Response:
        settings = patchable_settings()
        body = await _json_object(request)
        if not body:
            raise AdminError("the patch is empty; name at least one setting")
        changes: dict[str, Any] = {}
        for name, value in body.items():
            if name not in settings:
                if name in FIXED_SETTINGS:
                    raise AdminError(f"{name} is fixed while the emulator runs")
                raise AdminError(f"unknown setting {name!r}")
            changes[name] = _typed(name, settings[name], value)
        try:
            config = self._emulator.config.replace(**changes)
        except ConfigError as error:
            raise AdminError(str(error)) from None
        self._emulator.reconfigure(config)
        return JSONResponse({"config": self._config_json()})

    async def user_properties(self, request: Request) -> Response:
        wa_id = _wa_id(request)
        # Looking does not create the user; an unknown one has the defaults.
        user = self._emulator.state.users.get(wa_id) or User(wa_id=wa_id)
        return JSONResponse(self._emulator.policy.user_json(user))

    async def set_user_properties(self, request: Request) -> Response:
        wa_id = _wa_id(request)
        body = await _json_object(request, allowed=USER_PROPERTIES)
        for name, value in body.items():
            if not isinstance(value, bool):
                raise AdminError(f"{name} must be true or false")
        user = self._emulator.state.user(wa_id)
        for name, value in body.items():
            if name == "marketing_stopped":
                # Only a change is a citizen's action worth a webhook.
                if user.marketing_stopped != value:
                    self._emulator.set_marketing_preference(wa_id, value)
            else:
                setattr(user, name, value)
        return JSONResponse(self._emulator.policy.user_json(user))

    async def pending_webhooks(self, request: Request) -> Response:
        webhooks = self._emulator.webhooks
        return JSONResponse({"pending": webhooks.pending, "in_flight": webhooks.in_flight})

    async def faults(self, request: Request) -> Response:
        return JSONResponse(self._emulator.faults.to_json())

    async def add_fault(self, request: Request) -> Response:
        body = await _json_object(request)
        try:
            rule = self._emulator.faults.add(body)
        except FaultError as error:
            raise AdminError(str(error)) from None
        return JSONResponse({"fault": rule.to_json()})

    async def clear_faults(self, request: Request) -> Response:
        unknown = sorted(set(request.query_params) - {"route"})
        if unknown:
            raise AdminError(f"unknown query parameter(s) {', '.join(unknown)}")
        try:
            removed = self._emulator.faults.clear(request.query_params.get("route"))
        except FaultError as error:
            raise AdminError(str(error)) from None
        return JSONResponse({"removed": removed})

    def _config_json(self) -> dict[str, Any]:
        config = self._emulator.config
        return {name: getattr(config, name) for name in patchable_settings()}


class _AdminRoutes(BaseRoute):
    """These routes as one, matched only for their own paths.

    Not a Mount: a mount of /_emulator would swallow the other control routes that share the
    prefix. Graph requests, the hot path, pass with one string comparison. Each route takes
    every method and answers 405 itself, since a wrong method would otherwise fall through to
    the other control routes and get a 404.
    """

    def __init__(self, routes: list[Route]) -> None:
        self._routes = routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX + "/"):
            for route in self._routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    return match, {**child_scope, _ROUTE_KEY: route}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope[_ROUTE_KEY].handle(scope, receive, send)


_ROUTE_KEY = "whatsapp_emulator.admin_route"


def _route(path: str, **endpoints: Endpoint) -> Route:
    """A route for all methods: the endpoint of the request's method, else 405."""
    allowed = ", ".join(sorted(endpoints))

    async def dispatch(request: Request) -> Response:
        endpoint = endpoints.get(request.method)
        if endpoint is None:
            return JSONResponse(
                {"error": f"{request.method} is not allowed here; use {allowed}"},
                status_code=405,
                headers={"Allow": allowed},
            )
        try:
            return await endpoint(request)
        except AdminError as error:
            return JSONResponse({"error": str(error)}, status_code=error.status_code)

    return Route(PREFIX + path, dispatch, methods=list(ALL_METHODS))


def _wa_id(request: Request) -> str:
    wa_id: str = request.path_params["wa_id"]
    if not (wa_id.isascii() and wa_id.isdigit() and 6 <= len(wa_id) <= 15):
        raise AdminError("the number must be 6 to 15 digits without + or spaces")
    return wa_id


async def _json_object(request: Request, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise AdminError(f"the body must be at most {MAX_BODY} bytes", 413)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise AdminError(f"the body must be at most {MAX_BODY} bytes", 413)
    try:
        body = json.loads(
            bytes(raw), object_pairs_hook=_no_repeated_keys, parse_constant=_no_constant
        )
    except _RepeatedKey as error:
        raise AdminError(f"the key {error} appears more than once") from None
    except (ValueError, RecursionError):
        raise AdminError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise AdminError("the body must be a JSON object")
    if allowed is not None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise AdminError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(allowed)}")
    return body


class _RepeatedKey(Exception):
    pass


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _RepeatedKey(repr(key))
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _base_type(kind: str) -> str | None:
    """``int``, ``float``, ``bool`` or ``str`` for a simple (optional) setting type."""
    base = kind.removesuffix(" | None")
    return base if base in ("int", "float", "bool", "str") else None


def _typed(name: str, kind: str, value: Any) -> Any:
    """The value converted to the setting's type; AdminError if it has another type."""
    if value is None:
        if kind.endswith(" | None"):
            return None
        raise AdminError(f"{name} cannot be null")
    base = _base_type(kind)
    if base == "bool":
        if isinstance(value, bool):
            return value
    elif isinstance(value, bool):
        pass
    elif base == "int" and isinstance(value, int):
        return value
    elif base == "float" and isinstance(value, (int, float)) and abs(value) < 1e300:
        return float(value)
    elif base == "str" and isinstance(value, str):
        return value
    raise AdminError(f"{name} must be {_TYPE_NAMES.get(base or '', base)}")


_TYPE_NAMES = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
}
