"""What the emulator tests share: a fast configuration, a running emulator, a webhook receiver."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from starlette.applications import Starlette

from whatsapp_emulator.app import create_app
from whatsapp_emulator.config import EmulatorConfig

ACCESS_TOKEN = "test-access-token"
APP_SECRET = "test-app-secret"
PHONE_NUMBER_ID = "100000000000001"
BUSINESS_ACCOUNT_ID = "200000000000001"
VERIFY_TOKEN = "test-verify-token"
CITIZEN = "491701234567"

AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
SEND_PATH = f"/v23.0/{PHONE_NUMBER_ID}/messages"

SHARED = Path(__file__).resolve().parents[3] / "shared" / "whatsapp"


def make_config(**changes: Any) -> EmulatorConfig:
    """A configuration with short delays so a whole status lifecycle takes milliseconds.

    The customer service window and the pair rate limit are off: most tests send free-form
    messages to a citizen who never wrote, or many to one citizen. The policy tests switch
    them on (``policy_support.POLICY``). Business-scoped user ids are off too, so bodies can be
    compared with the older fixtures; the BSUID tests switch them on.
    """
    values: dict[str, Any] = {
        "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "phone_number_id": PHONE_NUMBER_ID,
        "business_account_id": BUSINESS_ACCOUNT_ID,
        "verify_token": VERIFY_TOKEN,
        "sent_delay": 0.01,
        "delivered_delay": 0.02,
        "retry_base_delay": 0.01,
        "messages_per_second": 0,
        "service_window": 0.0,
        "pair_rate_burst": 0,
        "bsuid": False,
    }
    values.update(changes)
    return EmulatorConfig(**values)


def text_message(body: str = "Hallo", to: str = CITIZEN, **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body, "preview_url": False},
        **extra,
    }


def button_message(
    buttons: list[tuple[str, str]], body: str = "Möchten Sie Nachrichten bekommen?"
) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CITIZEN,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": button_id, "title": title}}
                    for button_id, title in buttons
                ]
            },
        },
    }


@asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the app with its lifespan (and so its webhook worker) running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            yield client


@asynccontextmanager
async def emulator(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_config(**changes))) as client:
        yield client


async def send(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    """Send through the Graph route and return the wamid; fails the test on an error."""
    response = await client.post(SEND_PATH, json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    wamid: str = response.json()["messages"][0]["id"]
    return wamid


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until the condition holds; the timeout only guards against hanging forever."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.005)


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)

    def value(self) -> dict[str, Any]:
        value: dict[str, Any] = self.json()["entry"][0]["changes"][0]["value"]
        return value


@dataclass
class Receiver:
    """Records every webhook POST as raw bytes; answers 500 to the first ``fail_first``."""

    fail_first: int = 0
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    @property
    def statuses(self) -> list[dict[str, Any]]:
        """Status objects delivered with HTTP 200, in arrival order."""
        return [
            status for received in self.delivered for status in received.value().get("statuses", [])
        ]

    @property
    def delivered(self) -> list[Received]:
        return self.requests[self.fail_first :]

    async def handle_post(self, request: web.Request) -> web.Response:
        self.requests.append(Received(await request.read(), dict(request.headers)))
        if len(self.requests) <= self.fail_first:
            return web.Response(status=500, text="not today")
        return web.Response(text="ok")

    async def handle_get(self, request: web.Request) -> web.Response:
        # Behaves like pywa's verification endpoint.
        if request.query.get("hub.verify_token") != VERIFY_TOKEN:
            return web.Response(status=403, text="Forbidden")
        return web.Response(text=request.query.get("hub.challenge", ""))


@asynccontextmanager
async def receiver(fail_first: int = 0) -> AsyncIterator[Receiver]:
    """A real HTTP server on 127.0.0.1, as the app's webhook endpoint would be."""
    recorder = Receiver(fail_first=fail_first)
    app = web.Application()
    app.router.add_post("/webhook", recorder.handle_post)
    app.router.add_get("/webhook", recorder.handle_get)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    recorder.url = f"http://{host}:{port}/webhook"
    try:
        yield recorder
    finally:
        await runner.cleanup()


def shared_file(name: str) -> Path:
    """A file of the shared WhatsApp reference material next to the repository."""
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared reference material not found at {path}")
    return path


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The Graph error object, after checking the envelope every error must have."""
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert isinstance(error["message"], str)
    assert isinstance(error["type"], str)
    assert isinstance(error["code"], int)
    assert isinstance(error["fbtrace_id"], str)
    return error


async def get_when(
    client: httpx.AsyncClient,
    path: str,
    condition: Callable[[dict[str, Any]], bool],
    timeout: float = 5.0,
) -> dict[str, Any]:
    """GET a control API path until its JSON answer satisfies the condition."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        answer: dict[str, Any] = (await client.get(path)).json()
        if condition(answer):
            return answer
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{path} never reached the expected state: {answer}")
        await asyncio.sleep(0.005)
