"""The transport over real HTTP against a small local server that answers like Meta."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web

from stadtbote.channels.types import Button, OutboundMessage, TemplateUse, TransportError
from stadtbote.channels.whatsapp.errors import OUTCOME_UNKNOWN, OutcomeUnknown
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


def test_it_sends_a_templates_quick_reply_payloads_by_button_index():
    use = TemplateUse(
        "umfrage", "de", parameters=("Radweg?",), quick_replies=("poll:1:a", "poll:1:b")
    )
    message = OutboundMessage(text="Umfrage: Radweg?", template=use)
    _, seen = send(lambda r: web.json_response({"messages": [{"id": "wamid.T"}]}), message)
    components = seen[0]["body"]["template"]["components"]
    assert components[0] == {"type": "body", "parameters": [{"type": "text", "text": "Radweg?"}]}
    assert components[1:] == [
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": str(n),
            "parameters": [{"type": "payload", "payload": payload}],
        }
        for n, payload in enumerate(["poll:1:a", "poll:1:b"])
    ]


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


# --- what a retry would do: sent certainly not, or maybe --------------------------------------


def outcome(result: str | TransportError) -> str:
    """ "retry" (certainly not accepted, worth again), "final" (not accepted, pointless again) or
    "unknown" (maybe accepted: never resent)."""
    assert isinstance(result, TransportError), result
    if isinstance(result, OutcomeUnknown):
        assert result.permanent and str(result) == OUTCOME_UNKNOWN
        return "unknown"
    return "final" if result.permanent else "retry"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (503, "retry"),  # refused before handling: nothing happened
        (429, "retry"),
        (500, "unknown"),  # not Meta's error body: may come after the message was accepted
        (502, "unknown"),  # a gateway lost its upstream mid-request
        (504, "unknown"),  # a gateway gave up waiting: the upstream may well have accepted it
        (404, "final"),
    ],
)
def test_an_answer_without_metas_error_body_is_sorted_by_status(status, expected):
    result, _ = send(lambda r: web.Response(status=status, text="<html>gateway</html>"))
    assert outcome(result) == expected


def test_metas_own_transient_errors_are_retried_even_as_http_500_and_503():
    for code, status in ((131000, 500), (131016, 503), (1, 500), (2, 503)):
        result, _ = send(lambda r, c=code, s=status: meta_error(c, status=s))
        assert outcome(result) == "retry"


def test_a_success_without_a_message_id_is_not_resent():
    # Meta answered 200: it has the message, whatever the body says; sending again duplicates.
    for body in ("{}", '{"messages": []}', "not json"):
        result, _ = send(lambda r, b=body: web.Response(status=200, text=b))
        assert outcome(result) == "unknown"


def test_a_refused_connection_is_retried():
    async def go() -> TransportError:
        config = WhatsAppConfig("http://127.0.0.1:9", "v23.0", "1", "t")
        async with aiohttp.ClientSession() as session:
            with pytest.raises(TransportError) as info:
                await WhatsAppTransport(session, config).send("491701234567", HALLO)
        return info.value

    assert outcome(asyncio.run(go())) == "retry"


class SlowConnector(aiohttp.TCPConnector):
    """A connection that takes forever to open: the request never leaves."""

    async def _create_connection(self, req, traces, timeout):
        await asyncio.sleep(30)
        raise AssertionError("the connect timeout should have fired")


def test_a_connect_timeout_is_retried():
    async def go() -> TransportError:
        config = WhatsAppConfig("http://127.0.0.1:9", "v23.0", "1", "t")
        timeout = aiohttp.ClientTimeout(total=5, connect=0.2)
        async with aiohttp.ClientSession(connector=SlowConnector(), timeout=timeout) as session:
            with pytest.raises(TransportError) as info:
                await WhatsAppTransport(session, config).send("491701234567", HALLO)
        return info.value

    assert outcome(asyncio.run(go())) == "retry"


async def raw_server(answer: bytes | None, *, hold: float = 0.0) -> tuple[asyncio.Server, list]:
    """A server that reads the whole request, then after `hold` seconds writes `answer` raw
    (None: nothing) and closes the connection. Records the requests it read."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        seen.append(head + await reader.readexactly(length))
        await asyncio.sleep(hold)
        if answer is not None:
            writer.write(answer)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0), seen


def send_to_raw(answer: bytes | None, *, hold: float = 0.0, total: float = 5.0):
    async def go() -> tuple[str | TransportError, int]:
        server, seen = await raw_server(answer, hold=hold)
        port = server.sockets[0].getsockname()[1]
        config = WhatsAppConfig(f"http://127.0.0.1:{port}", "v23.0", "1", "t")
        timeout = aiohttp.ClientTimeout(total=total, connect=1)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                try:
                    result: str | TransportError = await WhatsAppTransport(session, config).send(
                        "491701234567", HALLO
                    )
                except TransportError as exc:
                    result = exc
        finally:
            server.close()
        return result, len(seen)

    return asyncio.run(go())


def test_a_connection_closed_after_the_request_was_read_is_not_resent():
    result, requests = send_to_raw(None)
    assert requests == 1  # the server had the whole request: it may have acted on it
    assert outcome(result) == "unknown"


def test_a_timeout_after_the_request_was_sent_is_not_resent():
    result, requests = send_to_raw(None, hold=3.0, total=0.5)
    assert requests == 1
    assert outcome(result) == "unknown"


def test_an_answer_cut_off_in_the_middle_is_not_resent():
    cut = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 80\r\n\r\n{"mes'
    result, _ = send_to_raw(cut)
    assert outcome(result) == "unknown"


def test_a_complete_answer_from_the_raw_server_is_read():
    body = b'{"messages":[{"id":"wamid.RAW"}]}'
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
    result, _ = send_to_raw(answer % (len(body), body))
    assert result == "wamid.RAW"
