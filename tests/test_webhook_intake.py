"""The lean webhook path: routing in stadtbote.asgi, the bare ASGI handler, the group commit.

The same answers as the Django view are checked in test_webhook_receive.py (both doors); here
is what only the lean path has: refusing unread bodies, client disconnects, batches that commit
together, and a failed batch. The writer thread commits on its own connection, so these tests
use real transactions (transactional_db) and stop the writer after each test.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from huey.contrib.djhuey import HUEY

from stadtbote import asgi
from stadtbote.channels import intake
from stadtbote.channels.intake import thread_writer
from stadtbote.channels.intake.postgres_writer import PostgresWriter
from stadtbote.channels.models import InboundWebhook
from stadtbote.channels.signals import webhook_stored
from stadtbote.channels.whatsapp import views
from stadtbote.channels.whatsapp.signature import sign
from stadtbote.worker.management.commands.run import listening_socket
from tests.helpers import ALICE, BOB, compact, text_message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_writer() -> Iterator[None]:
    HUEY.flush()
    yield
    intake.stop()  # the writer thread closes its connection before the tables are flushed
    HUEY.flush()


@pytest.fixture
def stored_signals() -> Iterator[list[int]]:
    calls: list[int] = []

    def count(**_: Any) -> None:
        calls.append(1)

    webhook_stored.connect(count, dispatch_uid="test-intake-count")
    yield calls
    webhook_stored.disconnect(dispatch_uid="test-intake-count")


@dataclass
class Answer:
    status: int | None = None
    body: bytes = b""
    headers: dict[bytes, bytes] = field(default_factory=dict)
    reads: int = 0  # how often the app asked for (more of) the body


async def call(
    app: Any,
    *,
    method: str = "POST",
    path: str = views.PATH,
    headers: list[tuple[bytes, bytes]] | None = None,
    chunks: list[bytes] | None = None,
    endless: bool = False,
    gone: bool = False,
) -> Answer:
    """One HTTP request to an ASGI app. `endless` keeps offering more body after `chunks`;
    `gone`: the client disconnects after them."""
    chunks = list(chunks if chunks is not None else [b""])
    answer = Answer()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *(headers or [])],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        answer.reads += 1
        if answer.reads <= len(chunks):
            more = endless or answer.reads < len(chunks)
            return {"type": "http.request", "body": chunks[answer.reads - 1], "more_body": more}
        if endless:
            return {"type": "http.request", "body": chunks[-1], "more_body": True}
        if not gone:
            await asyncio.Event().wait()  # as a server does until the client goes away
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = dict(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    await app(scope, receive, send)
    return answer


def signed(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-hub-signature-256", sign(settings.WHATSAPP["APP_SECRET"], body).encode()),
    ]


async def post(body: bytes) -> Answer:
    return await call(asgi.application, headers=signed(body), chunks=[body])


def body_for(text: str, number: str = ALICE) -> bytes:
    """A new message (its own message id) each time."""
    return compact(text_message(number, text))


# --- routing ------------------------------------------------------------------------------


def test_only_webhook_posts_take_the_lean_path(monkeypatch):
    seen: list[str] = []

    async def lean(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["method"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    monkeypatch.setattr(views, "receive_post", lean)
    assert asyncio.run(call(asgi.application)).status == 204
    assert seen == ["POST"]
    # The handshake, other methods and other paths are Django's.
    assert asyncio.run(call(asgi.application, method="GET")).status == 403
    assert asyncio.run(call(asgi.application, method="PUT")).status == 405
    assert asyncio.run(call(asgi.application, method="GET", path="/health")).status == 200
    assert seen == ["POST"]


# --- what only the lean path does ---------------------------------------------------------


def test_a_declared_length_over_3_mb_is_refused_unread_and_the_connection_closed():
    headers = [(b"content-length", str(settings.WEBHOOK_MAX_BYTES + 1).encode())]
    answer = asyncio.run(call(asgi.application, headers=headers, chunks=[b"x"], endless=True))
    assert answer.status == 413
    assert answer.reads == 0
    assert answer.headers[b"connection"] == b"close"
    assert not InboundWebhook.objects.exists()


def test_a_body_without_length_is_read_only_until_it_is_over_3_mb():
    chunk = b"x" * (1024 * 1024)
    answer = asyncio.run(call(asgi.application, chunks=[chunk], endless=True))
    assert answer.status == 413
    assert answer.reads == 4  # 4 MB read: over the limit, and no more
    assert not InboundWebhook.objects.exists()


@pytest.mark.parametrize("length", [b"abc", b"-1", b"10,10"])
def test_an_unreadable_content_length_is_refused_with_400(length):
    answer = asyncio.run(call(asgi.application, headers=[(b"content-length", length)]))
    assert answer.status == 400


def test_a_repeated_signature_header_is_refused():
    body = body_for("Start")
    headers = [*signed(body), (b"x-hub-signature-256", b"sha256=" + b"0" * 64)]
    assert asyncio.run(call(asgi.application, headers=headers, chunks=[body])).status == 403


def test_nothing_is_answered_or_stored_when_the_client_goes_away():
    body = body_for("Start")
    answer = asyncio.run(call(asgi.application, headers=signed(body), chunks=[], gone=True))
    assert answer.status is None
    assert not InboundWebhook.objects.exists()


def test_the_answer_is_plain_text_ok():
    body = body_for("Start")
    answer = asyncio.run(post(body))
    assert (answer.status, answer.body) == (200, b"ok")
    assert answer.headers[b"content-type"].startswith(b"text/plain")
    stored = InboundWebhook.objects.get()
    assert bytes(stored.body) == body
    assert stored.channel == "whatsapp"
    assert stored.state == InboundWebhook.State.PENDING
    assert stored.received_at is not None


def test_the_body_is_stored_byte_for_byte():
    body = bytes(range(256)) * 8 + b"\x00\\x00'\""  # binary, NUL, escapes, quotes
    assert asyncio.run(post(body)).status == 200
    assert bytes(InboundWebhook.objects.get().body) == body


# --- the group commit ---------------------------------------------------------------------


def around_insert(
    monkeypatch: pytest.MonkeyPatch, before: Callable[[Any], threading.Event | None]
) -> None:
    """Runs `before(batch)` ahead of the writer's insert, in whichever writer this database
    has; it may raise, or return an event the insert then waits for (without blocking the
    event loop, where the PostgreSQL writer runs)."""
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        insert_on_loop = PostgresWriter._insert

        async def on_loop(self: PostgresWriter, batch: Any) -> int:
            gate = before(batch)
            while gate is not None and not gate.is_set():
                await asyncio.sleep(0.01)
            return await insert_on_loop(self, batch)

        monkeypatch.setattr(PostgresWriter, "_insert", on_loop)
    else:
        insert_in_thread = thread_writer.insert

        def in_thread(batch: Any) -> int:
            gate = before(batch)
            if gate is not None:
                gate.wait(timeout=10)
            return insert_in_thread(batch)

        monkeypatch.setattr(thread_writer, "insert", in_thread)


class HeldFirstBatch:
    """Records each batch's size and holds the first one until released, so that the requests
    arriving meanwhile gather into the next batch."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sizes: list[int] = []
        self.release = threading.Event()
        around_insert(monkeypatch, self._before)

    def _before(self, batch: Any) -> threading.Event | None:
        self.sizes.append(len(batch))
        return self.release if len(self.sizes) == 1 else None

    async def first_batch_taken(self) -> None:
        for _ in range(500):
            if self.sizes:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the writer took no batch")


def test_requests_arriving_during_a_commit_are_committed_together(monkeypatch, stored_signals):
    held = HeldFirstBatch(monkeypatch)

    async def scenario() -> list[Answer]:
        first = asyncio.create_task(post(body_for("Start")))
        await held.first_batch_taken()
        others = [asyncio.create_task(post(body_for(f"Frage {i}", BOB))) for i in range(5)]
        await asyncio.sleep(0.1)
        # Not answered before their rows are committed.
        assert not first.done()
        assert not any(task.done() for task in others)
        held.release.set()
        return await asyncio.gather(first, *others)

    answers = asyncio.run(scenario())
    assert [a.status for a in answers] == [200] * 6
    assert held.sizes == [1, 5]
    assert InboundWebhook.objects.count() == 6
    assert len(stored_signals) == 2  # once per batch, not once per webhook


def test_a_retry_in_the_same_batch_and_a_later_one_are_stored_once(monkeypatch, stored_signals):
    held = HeldFirstBatch(monkeypatch)
    body = body_for("Start")

    async def scenario() -> list[Answer]:
        first = asyncio.create_task(post(body_for("Hilfe")))
        await held.first_batch_taken()
        copies = [asyncio.create_task(post(body)) for _ in range(3)]
        await asyncio.sleep(0.1)
        held.release.set()
        answers = await asyncio.gather(first, *copies)
        return [*answers, await post(body)]

    answers = asyncio.run(scenario())
    assert [a.status for a in answers] == [200] * 5
    assert held.sizes == [1, 3, 1]
    assert InboundWebhook.objects.filter(content_hash__isnull=False).count() == 2
    assert len(stored_signals) == 2  # the last batch stored nothing new: no job for it


def test_a_failed_batch_is_answered_500_and_stores_nothing(monkeypatch):
    def broken(batch: Any) -> None:
        raise OperationalError("the database went away")

    around_insert(monkeypatch, broken)
    answer = asyncio.run(post(body_for("Start")))
    assert (answer.status, answer.body) == (500, b"not stored")
    assert not InboundWebhook.objects.exists()

    monkeypatch.undo()  # the writer goes on with the next batch
    assert asyncio.run(post(body_for("Start"))).status == 200
    assert InboundWebhook.objects.count() == 1


def test_a_stored_webhook_schedules_the_apply_job():
    HUEY.flush()
    asyncio.run(post(body_for("Start")))
    assert HUEY.pending_count() == 1


# --- several web processes ----------------------------------------------------------------


def test_connections_to_the_shared_port_are_sent_without_delay():
    """asyncio sets TCP_NODELAY only for sockets whose protocol is TCP; without it every answer
    waited about 40 ms for the client's delayed ACK (seen with uvicorn's own shared socket)."""

    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listening_socket("127.0.0.1", 0))
        host, port = server.sockets[0].getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        try:
            return await asyncio.wait_for(seen, 5)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(accepted_nodelay()) != 0


def test_run_needs_at_least_one_web_process():
    with pytest.raises(CommandError):
        call_command("run", web_processes=0)
