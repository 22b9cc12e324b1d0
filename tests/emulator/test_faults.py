"""Injected faults on Graph routes: Meta's 500 and 503, slow answers, timeouts and dropped
connections, seeded so a test fails the same requests every run."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from whatsapp_emulator.app import create_app
from whatsapp_emulator.faults import graph_route_of

from .support import (
    AUTH,
    BUSINESS_ACCOUNT_ID,
    SEND_PATH,
    emulator,
    error_of,
    make_config,
    send,
    text_message,
)

pytestmark = pytest.mark.anyio


async def add_fault(client: httpx.AsyncClient, **rule: Any) -> dict[str, Any]:
    response = await client.post("/_emulator/faults", json=rule)
    assert response.status_code == 200, response.text
    fault: dict[str, Any] = response.json()["fault"]
    return fault


async def codes(client: httpx.AsyncClient, count: int) -> list[int]:
    return [
        (await client.post(SEND_PATH, json=text_message(), headers=AUTH)).status_code
        for _ in range(count)
    ]


@asynccontextmanager
async def served(**changes: Any) -> AsyncIterator[str]:
    """The emulator behind a real uvicorn server on 127.0.0.1, as the app would meet it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(make_config(**changes)),
        host="127.0.0.1",
        port=port,
        log_level="critical",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


# --- error answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "code", "message"),
    [
        ("http_500", 500, 131000, "(#131000) Something went wrong"),
        ("http_503", 503, 131016, "(#131016) Service unavailable"),
    ],
)
async def test_an_injected_server_error_has_metas_error_shape(
    kind: str, status: int, code: int, message: str
) -> None:
    async with emulator() as client:
        await add_fault(client, route="messages", kind=kind)
        response = await client.post(SEND_PATH, json=text_message(), headers=AUTH)
        log = (await client.get("/_emulator/messages")).json()["messages"]

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = error_of(response)
    assert (error["code"], error["message"], error["is_transient"]) == (code, message, True)
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["error_data"]["details"]
    assert log == []


async def test_an_error_after_processing_still_sends_the_message() -> None:
    async with emulator() as client:
        await add_fault(client, route="messages", kind="http_500", after_processing=True)
        response = await client.post(SEND_PATH, json=text_message(), headers=AUTH)
        log = (await client.get("/_emulator/messages")).json()["messages"]

    assert response.status_code == 500
    assert len(log) == 1


async def test_the_same_seed_fails_the_same_requests() -> None:
    async def pattern(seed: int) -> list[int]:
        async with emulator() as client:
            await add_fault(client, route="messages", kind="http_503", probability=0.5, seed=seed)
            return await codes(client, 20)

    first = await pattern(1)

    assert first == await pattern(1)
    assert set(first) == {200, 503}
    assert first != await pattern(2)


async def test_times_limits_how_often_a_fault_strikes() -> None:
    async with emulator() as client:
        await add_fault(client, route="messages", kind="http_500", times=2)
        answers = await codes(client, 4)
        [fault] = (await client.get("/_emulator/faults")).json()["faults"]

    assert answers == [500, 500, 200, 200]
    assert (fault["matched"], fault["injected"]) == (2, 2)


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v23.0/100000000000001/messages", "messages"),
        ("/v21.0/100000000000001/media", "media"),
        ("/v23.0/1234567890123456", "media"),
        ("/whatsapp_business/attachments/", "media"),
        ("/v23.0/200000000000001/message_templates", "templates"),
        ("/v23.0/100000000000001/whatsapp_business_profile", "graph"),
        ("/_emulator/users/491701234567/messages", None),
        ("/phone", None),
        ("/", None),
    ],
)
def test_each_path_belongs_to_one_fault_route(path: str, route: str | None) -> None:
    assert graph_route_of(path) == route


async def test_a_fault_stays_on_its_route() -> None:
    async with emulator() as client:
        await add_fault(client, route="media", kind="http_500")
        await add_fault(client, route="templates", kind="http_503")
        sent = await client.post(SEND_PATH, json=text_message(), headers=AUTH)
        media = await client.get("/v23.0/1234567890123456", headers=AUTH)
        templates = await client.get(
            f"/v23.0/{BUSINESS_ACCOUNT_ID}/message_templates", headers=AUTH
        )
        control = await client.get("/_emulator/health")
        page = await client.get("/phone")

    assert sent.status_code == 200
    assert media.status_code == 500
    assert templates.status_code == 503
    assert (control.status_code, page.status_code) == (200, 200)


async def test_a_graph_wide_fault_hits_every_graph_route() -> None:
    async with emulator() as client:
        await add_fault(client, route="graph", kind="http_500")
        sent = await client.post(SEND_PATH, json=text_message(), headers=AUTH)
        templates = await client.get(
            f"/v23.0/{BUSINESS_ACCOUNT_ID}/message_templates", headers=AUTH
        )

    assert (sent.status_code, templates.status_code) == (500, 500)


async def test_faults_strike_before_the_token_is_checked() -> None:
    async with emulator() as client:
        await add_fault(client, route="messages", kind="http_503")
        response = await client.post(SEND_PATH, json=text_message())

    assert response.status_code == 503


async def test_a_slow_fault_answers_normally_in_the_end() -> None:
    async with emulator() as client:
        await add_fault(client, route="messages", kind="slow", seconds=0.05)
        wamid = await send(client, text_message())

    assert wamid.startswith("wamid.")


# --- dropped connections and timeouts, against a real server ---------------------------------------


async def test_a_dropped_connection_closes_without_any_answer() -> None:
    async with served() as base, httpx.AsyncClient(base_url=base, trust_env=False) as client:
        await add_fault(client, route="messages", kind="drop", times=1)
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await client.post(SEND_PATH, json=text_message(), headers=AUTH)
        after = await client.post(SEND_PATH, json=text_message(), headers=AUTH)
        log = (await client.get("/_emulator/messages")).json()["messages"]

    assert after.status_code == 200
    assert len(log) == 1


async def test_a_connection_dropped_after_processing_has_sent_the_message() -> None:
    async with served() as base, httpx.AsyncClient(base_url=base, trust_env=False) as client:
        await add_fault(client, route="messages", kind="drop", after_processing=True, times=1)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(SEND_PATH, json=text_message(), headers=AUTH)
        log = (await client.get("/_emulator/messages")).json()["messages"]

    assert len(log) == 1


async def test_a_timeout_holds_the_request_past_the_clients_patience() -> None:
    async with served() as base, httpx.AsyncClient(base_url=base, trust_env=False) as client:
        # Short enough that the server's shutdown need not wait long for the held request.
        await add_fault(client, route="messages", kind="timeout", seconds=1, times=1)
        with pytest.raises(httpx.ReadTimeout):
            await client.post(SEND_PATH, json=text_message(), headers=AUTH, timeout=0.2)
        # The held request does not block others.
        after = await client.post(SEND_PATH, json=text_message(), headers=AUTH)

    assert after.status_code == 200


async def test_a_timeout_ends_in_a_closed_connection() -> None:
    async with served() as base, httpx.AsyncClient(base_url=base, trust_env=False) as client:
        await add_fault(client, route="messages", kind="timeout", seconds=0.05)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(SEND_PATH, json=text_message(), headers=AUTH)


# --- the faults route ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [
        ({"kind": "http_500"}, "route"),
        ({"route": "mesages", "kind": "http_500"}, "route"),
        ({"route": "messages", "kind": "http_418"}, "kind"),
        ({"route": "messages", "kind": "duplicate"}, "kind"),
        ({"route": "webhooks", "kind": "http_500"}, "kind"),
        ({"route": "messages", "kind": "drop", "probability": 1.5}, "probability"),
        ({"route": "messages", "kind": "drop", "probability": "half"}, "probability"),
        ({"route": "messages", "kind": "drop", "probability": True}, "probability"),
        ({"route": "messages", "kind": "slow", "seconds": -1}, "seconds"),
        ({"route": "messages", "kind": "slow", "seconds": 3600}, "seconds"),
        ({"route": "messages", "kind": "drop", "seed": "one"}, "seed"),
        ({"route": "messages", "kind": "drop", "seed": 1.5}, "seed"),
        ({"route": "messages", "kind": "drop", "times": 0}, "times"),
        ({"route": "messages", "kind": "drop", "after_processing": "yes"}, "after_processing"),
        ({"route": "webhooks", "kind": "drop", "after_processing": True}, "after_processing"),
        ({"route": "messages", "kind": "drop", "probabilty": 0.5}, "unknown field"),
        (["messages", "drop"], "JSON object"),
    ],
)
async def test_a_wrong_fault_rule_is_refused(rule: object, complaint: str) -> None:
    async with emulator() as client:
        response = await client.post("/_emulator/faults", json=rule)
        faults = (await client.get("/_emulator/faults")).json()["faults"]

    assert response.status_code == 400
    assert complaint in response.json()["error"]
    assert faults == []


async def test_fault_rules_are_listed_with_their_settings() -> None:
    async with emulator() as client:
        added = await add_fault(client, route="messages", kind="http_500", probability=0.25, seed=9)
        listed = (await client.get("/_emulator/faults")).json()

    assert added == {
        "id": 1,
        "route": "messages",
        "kind": "http_500",
        "probability": 0.25,
        "seed": 9,
        "seconds": 0.0,
        "times": None,
        "after_processing": False,
        "matched": 0,
        "injected": 0,
    }
    assert listed == {"faults": [added]}


async def test_faults_are_cleared_all_at_once_or_by_route() -> None:
    async with emulator() as client:
        await add_fault(client, route="messages", kind="http_500")
        await add_fault(client, route="media", kind="http_500")
        await add_fault(client, route="webhooks", kind="drop")
        by_route = await client.delete("/_emulator/faults", params={"route": "media"})
        left = [f["route"] for f in (await client.get("/_emulator/faults")).json()["faults"]]
        wrong_route = await client.delete("/_emulator/faults", params={"route": "nope"})
        wrong_param = await client.delete("/_emulator/faults", params={"kind": "drop"})
        everything = await client.delete("/_emulator/faults")
        sent = await client.post(SEND_PATH, json=text_message(), headers=AUTH)

    assert by_route.json() == {"removed": 1}
    assert left == ["messages", "webhooks"]
    assert (wrong_route.status_code, wrong_param.status_code) == (400, 400)
    assert everything.json() == {"removed": 2}
    assert sent.status_code == 200


async def test_reset_clears_the_faults() -> None:
    async with emulator() as client:
        await add_fault(client, route="messages", kind="http_500")
        await client.post("/_emulator/reset")
        sent = await client.post(SEND_PATH, json=text_message(), headers=AUTH)

    assert sent.status_code == 200


async def test_too_many_rules_are_refused() -> None:
    async with emulator() as client:
        for _ in range(100):
            await add_fault(client, route="media", kind="slow", probability=0.0)
        response = await client.post(
            "/_emulator/faults", json={"route": "media", "kind": "slow", "probability": 0.0}
        )

    assert response.status_code == 400
    assert "at most 100" in response.json()["error"]
