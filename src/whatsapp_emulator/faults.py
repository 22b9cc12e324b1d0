"""Fault injection: Meta's bad days, on purpose and repeatable.

A fault rule names a route, a kind, a probability and a seed; every request on that route
rolls the rule's own seeded random generator, so the same seed fails the same requests. Rules
are set through the control API (``control_admin.py``) and live until cleared or reset.

Routes and kinds:

- ``messages`` (``POST /{version}/{phone_number_id}/messages``), ``media`` (``/{version}/
  {phone_number_id}/media``, ``/{version}/{object_id}`` — media ids, but template ids too —
  and the download URL ``/whatsapp_business/...``), ``templates`` (any path with
  ``message_templates``) and ``graph`` (every Graph route) take
  - ``http_500``: HTTP 500 with Meta's error body, code 131000 "Something went wrong",
    ``is_transient: true``;
  - ``http_503``: HTTP 503 with code 131016 "Service unavailable", ``is_transient: true``;
  - ``timeout``: hold the request ``seconds`` (default 30), then close the connection
    without an answer, as a gateway that gave up;
  - ``slow``: wait ``seconds`` (default 2), then answer normally;
  - ``drop``: close the connection at once without any answer.
  With ``after_processing: true`` the emulator handles the request first (the message is
  accepted and its statuses follow) and only then fails the answer: the case where a client
  that retries sends twice.
- ``webhooks`` (the emulator's own deliveries to the app) takes
  - ``drop``: the event is lost, never delivered and never retried;
  - ``slow``: the POST waits ``seconds`` (default 2) before it goes out;
  - ``duplicate``: a delivered body is sent a second time.

``drop`` and ``timeout`` need a real server such as uvicorn; an in-process test transport
(httpx's ASGITransport) reports an error of its own instead of a closed connection.

Dropping a connection needs the server's help: an ASGI application that returns something
other than None makes uvicorn close the connection without writing a byte (its
``run_asgi``), whereas an exception or a missing answer would make it send a 500. So
:class:`FaultInjectingApp` does that outside Starlette's middleware stack, which would turn
any exception into a 500 response first.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from whatsapp_emulator.errors import GraphError
from whatsapp_emulator.ids import new_fbtrace_id
from whatsapp_emulator.jsonio import encode_compact

GRAPH_ROUTES = ("messages", "media", "templates", "graph")
WEBHOOK_ROUTE = "webhooks"
ROUTES = (*GRAPH_ROUTES, WEBHOOK_ROUTE)
GRAPH_KINDS = ("http_500", "http_503", "timeout", "slow", "drop")
WEBHOOK_KINDS = ("drop", "slow", "duplicate")
DEFAULT_SECONDS = {"timeout": 30.0, "slow": 2.0}
MAX_SECONDS = 600.0
MAX_RULES = 100
RULE_FIELDS = ("route", "kind", "probability", "seed", "seconds", "times", "after_processing")

# What the application returns to uvicorn to have the connection closed without an answer.
DROPPED = "connection dropped by the emulator's fault injection"

_VERSION = re.compile(r"v\d+\.\d+")

App = Callable[[Scope, Receive, Send], Awaitable[None]]


class FaultError(ValueError):
    """A fault rule that cannot be set; the message says why."""


@dataclass
class FaultRule:
    id: int
    route: str
    kind: str
    probability: float
    seed: int | None
    seconds: float
    times: int | None
    after_processing: bool
    rng: random.Random = field(repr=False)
    matched: int = 0
    injected: int = 0

    def roll(self) -> bool:
        """Whether this request (or delivery) gets the fault; counts it either way."""
        if self.times is not None and self.injected >= self.times:
            return False
        self.matched += 1
        # A probability of 1 must not depend on the generator (nor advance it needlessly).
        hit = self.probability >= 1.0 or self.rng.random() < self.probability
        if hit:
            self.injected += 1
        return hit

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "route": self.route,
            "kind": self.kind,
            "probability": self.probability,
            "seed": self.seed,
            "seconds": self.seconds,
            "times": self.times,
            "after_processing": self.after_processing,
            "matched": self.matched,
            "injected": self.injected,
        }


class Faults:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._next_id = 1

    @property
    def active(self) -> bool:
        return bool(self.rules)

    def add(self, spec: object) -> FaultRule:
        """Add a rule from its JSON form; raises FaultError naming the bad field."""
        if not isinstance(spec, dict):
            raise FaultError("a fault rule must be a JSON object")
        unknown = sorted(set(spec) - set(RULE_FIELDS))
        if unknown:
            raise FaultError(f"unknown field(s) {', '.join(unknown)}; known: {RULE_FIELDS}")
        if len(self.rules) >= MAX_RULES:
            raise FaultError(f"at most {MAX_RULES} fault rules; clear some first")
        route = spec.get("route")
        if not isinstance(route, str) or route not in ROUTES:
            raise FaultError(f"route must be one of {', '.join(ROUTES)}")
        kinds = WEBHOOK_KINDS if route == WEBHOOK_ROUTE else GRAPH_KINDS
        kind = spec.get("kind")
        if not isinstance(kind, str) or kind not in kinds:
            raise FaultError(f"kind for route {route!r} must be one of {', '.join(kinds)}")
        probability = _number(spec, "probability", 1.0)
        if not 0.0 <= probability <= 1.0:
            raise FaultError("probability must be from 0 to 1")
        seed = _whole(spec, "seed")
        times = _whole(spec, "times")
        if times is not None and times < 1:
            raise FaultError("times must be at least 1 (or left out for no limit)")
        seconds = _number(spec, "seconds", DEFAULT_SECONDS.get(kind, 0.0))
        if not 0.0 <= seconds <= MAX_SECONDS:
            raise FaultError(f"seconds must be from 0 to {MAX_SECONDS:.0f}")
        after_processing = spec.get("after_processing", False)
        if not isinstance(after_processing, bool):
            raise FaultError("after_processing must be true or false")
        if after_processing and route == WEBHOOK_ROUTE:
            raise FaultError("after_processing applies to Graph routes only")
        rule = FaultRule(
            id=self._next_id,
            route=route,
            kind=kind,
            probability=probability,
            seed=seed,
            seconds=seconds,
            times=times,
            after_processing=after_processing,
            # Seeded for repeatable tests, not for secrets.
            rng=random.Random(seed),  # noqa: S311
        )
        self._next_id += 1
        self.rules.append(rule)
        return rule

    def clear(self, route: str | None = None) -> int:
        """Remove every rule (of one route); returns how many were removed."""
        if route is None:
            removed = len(self.rules)
            self.rules.clear()
            return removed
        if route not in ROUTES:
            raise FaultError(f"route must be one of {', '.join(ROUTES)}")
        kept = [rule for rule in self.rules if rule.route != route]
        removed = len(self.rules) - len(kept)
        self.rules = kept
        return removed

    def pick(self, route: str) -> FaultRule | None:
        """The first rule for this route (or for every Graph route) that fires now."""
        for rule in self.rules:
            applies = rule.route == route or (rule.route == "graph" and route in GRAPH_ROUTES)
            if applies and rule.roll():
                return rule
        return None

    def to_json(self) -> dict[str, Any]:
        return {"faults": [rule.to_json() for rule in self.rules]}


def graph_route_of(path: str) -> str | None:
    """Which fault route a request path belongs to; None for the control API and the page."""
    parts = path.strip("/").split("/")
    if parts[0] == "whatsapp_business":
        # The download URL of media (media.py) has no version.
        return "media"
    if not _VERSION.fullmatch(parts[0]):
        return None
    if "message_templates" in parts:
        return "templates"
    if len(parts) == 3 and parts[2] == "messages":
        return "messages"
    if (len(parts) == 3 and parts[2] == "media") or len(parts) == 2:
        return "media"
    return "graph"


def error_body(kind: str) -> tuple[int, bytes]:
    """Status and body of Meta's transient server errors (contract 1.7: 131000, 131016)."""
    if kind == "http_503":
        error = GraphError(
            http_status=503,
            code=131016,
            message="(#131016) Service unavailable",
            details="A service is temporarily unavailable. Please retry later.",
        )
    else:
        error = GraphError(
            http_status=500,
            code=131000,
            message="(#131000) Something went wrong",
            details="Message failed to send because of an unknown error. Please retry later.",
        )
    body = error.body(new_fbtrace_id())
    body["error"]["is_transient"] = True
    return error.http_status, encode_compact(body)


class FaultInjectingApp(Starlette):
    """The emulator's Starlette app with Graph route faults applied outside its middleware."""

    faults: Faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        faults: Faults | None = getattr(self, "faults", None)
        if scope["type"] != "http" or faults is None or not faults.active:
            await super().__call__(scope, receive, send)
            return None
        route = graph_route_of(scope["path"])
        rule = None if route is None else faults.pick(route)
        if rule is None:
            await super().__call__(scope, receive, send)
            return None
        return await _inject(rule, super().__call__, scope, receive, send)


async def _inject(rule: FaultRule, app: App, scope: Scope, receive: Receive, send: Send) -> Any:
    if rule.kind == "slow":
        await asyncio.sleep(rule.seconds)
        await app(scope, receive, send)
        return None
    if rule.after_processing:
        await app(scope, receive, _swallow)
    if rule.kind in ("http_500", "http_503"):
        status, body = error_body(rule.kind)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return None
    if rule.kind == "timeout":
        await asyncio.sleep(rule.seconds)
    return DROPPED


async def _swallow(message: Message) -> None:
    """The answer of a request processed before its fault; the client never sees it."""


def _number(spec: dict[str, Any], key: str, default: float) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FaultError(f"{key} must be a number")
    return float(value)


def _whole(spec: dict[str, Any], key: str) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
        raise FaultError(f"{key} must be a whole number")
    return value
