"""The transport over real HTTP against a small local server that answers like Meta."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web

from stadtbote.channels.types import Button, OutboundMessage, TransportError
from stadtbote.channels.whatsapp.transport import WhatsAppConfig, WhatsAppTransport


def meta_error(code: int, message: str = "error", status: int = 400) -> web.Response:
    return web.json_response(
        {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "fbtrace_id": "Atest",
            }
        },
        status=status,
    )


async def run(handler, message: OutboundMessage, to: str = "491701234567"):
    seen: list[dict] = []

    async def endpoint(request: web.Request) -> web.StreamResponse:
        seen.append(
            {
                "path": request.path,
                "auth": request.headers.get("Authorization"),
                "body": await request.json(),
            }
        )
        return handler(request)

    app = web.Application()
    app.router.add_post("/{version}/{phone}/messages", endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    config = WhatsAppConfig(f"http://127.0.0.1:{port}", "v23.0", "123", "secret-token")
    try:
        async with aiohttp.ClientSession() as session:
            try:
                result: str | TransportError = await WhatsAppTransport(session, config).send(
                    to, message
                )
            except TransportError as exc:
                result = exc
    finally:
        await runner.cleanup()
    return result, seen


HALLO = OutboundMessage(text="Hallo")


def send(handler, message=HALLO):
    return asyncio.run(run(handler, message))


def test_it_sends_text_and_returns_the_message_id():
    result, seen = send(
        lambda r: web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": "491701234567", "wa_id": "491701234567"}],
                "messages": [{"id": "wamid.OK"}],
            }
        )
    )
    assert result == "wamid.OK"
    assert seen[0]["path"] == "/v23.0/123/messages"
    assert seen[0]["auth"] == "Bearer secret-token"
    assert seen[0]["body"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "491701234567",
        "type": "text",
        "text": {"body": "Hallo", "preview_url": False},
    }


def test_it_sends_reply_buttons_as_an_interactive_message():
    message = OutboundMessage(
        text="Bestätigen?", buttons=(Button("yes", "Ja"), Button("no", "Nein")), tracker="r1"
    )
    _, seen = send(lambda r: web.json_response({"messages": [{"id": "wamid.B"}]}), message)
    body = seen[0]["body"]
    assert body["type"] == "interactive"
    assert body["interactive"]["action"]["buttons"][1] == {
        "type": "reply",
        "reply": {"id": "no", "title": "Nein"},
    }
    assert body["biz_opaque_callback_data"] == "r1"


@pytest.mark.parametrize(
    ("code", "status", "permanent", "retry_after"),
    [
        (130429, 400, False, 1.0),
        (131056, 400, False, 6.0),
        (131000, 500, False, None),
        (190, 401, True, None),
        (100, 400, True, None),
        (131009, 400, True, None),
    ],
)
def test_it_classifies_metas_errors_by_code(code, status, permanent, retry_after):
    result, _ = send(lambda r: meta_error(code, status=status))
    assert isinstance(result, TransportError)
    assert (result.code, result.permanent, result.retry_after) == (code, permanent, retry_after)


def test_a_server_error_without_a_body_is_transient():
    result, _ = send(lambda r: web.Response(status=503, text="busy"))
    assert isinstance(result, TransportError) and not result.permanent


def test_a_refused_connection_is_transient():
    async def go():
        config = WhatsAppConfig("http://127.0.0.1:9", "v23.0", "1", "t")
        async with aiohttp.ClientSession() as session:
            with pytest.raises(TransportError) as info:
                await WhatsAppTransport(session, config).send("491701234567", OutboundMessage("x"))
        return info.value

    error = asyncio.run(go())
    assert not error.permanent


def test_an_error_never_carries_the_phone_number_or_text():
    result, _ = send(lambda r: meta_error(100, message="Invalid parameter"))
    assert "491701234567" not in str(result) and "Hallo" not in str(result)
    assert json.dumps({"e": str(result)})


def test_it_sends_a_list_menu_as_an_interactive_list():
    from stadtbote.channels.types import Menu, Row

    message = OutboundMessage(
        text="Welche Themen?",
        menu=Menu("Themen wählen", (Row("t:1", "Baustellen", "Sperrungen"), Row("t:2", "Feste"))),
    )
    _, seen = send(lambda r: web.json_response({"messages": [{"id": "wamid.L"}]}), message)
    interactive = seen[0]["body"]["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Themen wählen"
    assert interactive["action"]["sections"][0]["rows"] == [
        {"id": "t:1", "title": "Baustellen", "description": "Sperrungen"},
        {"id": "t:2", "title": "Feste"},
    ]


def test_a_message_round_trips_through_its_stored_form():
    from stadtbote.channels.types import Menu, Row

    message = OutboundMessage(text="x", menu=Menu("b", (Row("a", "A", "d"),)))
    assert OutboundMessage.from_json(message.to_json()) == message
