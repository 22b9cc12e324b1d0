"""The Open311 forwarder against a local Open311 server that fails in every way a city's
system can (500s, hanging, refusing connections, a wrong key) and then recovers: nothing is
lost, attempts back off on a controlled clock, and the status comes back to the concern."""

from __future__ import annotations

import itertools
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

import httpx
import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from stadtbote.inbox import actions, signals
from stadtbote.inbox.models import Category, Concern, ConcernEvent, Message, Status
from stadtbote.inbox.open311 import forwarder, tasks
from tests.helpers import ALICE, active_subscriber

pytestmark = pytest.mark.django_db

Forwarding = Concern.Forwarding
MINUTE = timedelta(minutes=1)
DESCRIPTION = "Schlagloch vor Markt 7, Frau Beispiel wäre fast gestürzt"


class Remote:
    """A city's Open311 system on 127.0.0.1: answers as `answer` says, remembers what it was
    sent, and keeps the requests it accepted with their status."""

    def __init__(self) -> None:
        self.answer = "ok"  # ok | 500 | hang | 400 | 403 | token | garbage
        self.posts: list[dict[str, str]] = []
        self.gets: list[tuple[str, dict[str, str]]] = []
        self.requests: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, str] = {}
        self.ids = itertools.count(1000)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v2"

    def close(self, concern_id: str, notes: str = "") -> None:
        self.requests[concern_id] = {"status": "closed", "status_notes": notes}

    def reopen(self, concern_id: str, notes: str = "") -> None:
        self.requests[concern_id] = {"status": "open", "status_notes": notes}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any) -> None:
                body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (the hanging case)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                remote.posts.append(form)
                answer = remote.answer
                if answer == "hang":
                    time.sleep(1.5)
                    return self._send(200, [{"service_request_id": 1}])
                if answer == "500":
                    return self._send(500, b"<html>Internal Server Error</html>")
                if answer == "400":
                    return self._send(400, [{"code": 400, "description": "Unknown service_code"}])
                if answer == "403":
                    return self._send(403, [{"code": 403, "description": "Invalid api_key"}])
                if answer == "garbage":
                    return self._send(200, b"Thanks!")
                new_id = str(next(remote.ids))
                remote.requests[new_id] = {"status": "open", "status_notes": None}
                if answer == "token":
                    token = f"tok-{new_id}"
                    remote.tokens[token] = new_id
                    return self._send(200, [{"token": token, "service_notice": "Queued"}])
                # Numeric, as in the spec's example.
                return self._send(200, [{"service_request_id": int(new_id), "account_id": None}])

            def do_GET(self) -> None:
                url = urlparse(self.path)
                params = dict(parse_qsl(url.query))
                remote.gets.append((url.path, params))
                if remote.answer == "500":
                    return self._send(503, b"down")
                if url.path == "/v2/requests.json":
                    wanted = params.get("service_request_id", "").split(",")
                    found = [
                        {"service_request_id": int(i), **remote.requests[i]}
                        for i in wanted
                        if i in remote.requests
                    ]
                    return self._send(200, found)
                if url.path.startswith("/v2/tokens/"):
                    token = url.path.removeprefix("/v2/tokens/").removesuffix(".json")
                    if token in remote.tokens:
                        found_id = int(remote.tokens[token])
                        return self._send(200, [{"service_request_id": found_id, "token": token}])
                return self._send(404, [{"code": 404, "description": "Not found"}])

        return Handler


@pytest.fixture
def remote() -> Iterator[Remote]:
    server = Remote()
    thread = threading.Thread(
        target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        with override_settings(
            OPEN311_FORWARD_URL=server.url,
            OPEN311_FORWARD_API_KEY="city-key",
            OPEN311_FORWARD_JURISDICTION="marburg.de",
        ):
            yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch):
    # A hanging system is given up on quickly here; the real limits are seconds.
    monkeypatch.setattr(forwarder, "TIMEOUT", httpx.Timeout(0.3, connect=0.3))


@pytest.fixture(autouse=True)
def empty_queue():
    HUEY.flush()
    yield
    HUEY.flush()


@pytest.fixture
def status_changes() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    signals.concern_status_changed.connect(receiver, dispatch_uid="test-open311")
    yield seen
    signals.concern_status_changed.disconnect(dispatch_uid="test-open311")


def closed_port_url() -> str:
    """An address where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v2"


def chat_concern(*, photo_dir=None, **changes: Any) -> Concern:
    conversation = actions.conversation_of(active_subscriber(ALICE))
    photo = None
    if photo_dir is not None:
        (photo_dir / "p.jpg").write_bytes(b"JPEG")
        photo = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.IN,
            kind=Message.Kind.IMAGE,
            created_at=timezone.now(),
            media_state=Message.MediaState.PENDING,
            mime_type="image/jpeg",
        )
    fields = {
        "category": Category.objects.get(service_code="strasse-gehweg"),
        "description": DESCRIPTION,
        "latitude": 50.8095,
        "longitude": 8.7707,
        "conversation": conversation,
        "photo": photo,
    }
    return actions.create_concern(**(fields | changes))


def fresh(concern: Concern) -> Concern:
    concern.refresh_from_db()
    return concern


# --- Queueing ---------------------------------------------------------------------------------


def test_a_new_chat_concern_is_queued_with_its_id_only(remote, django_capture_on_commit_callbacks):
    active_subscriber(ALICE)
    with django_capture_on_commit_callbacks(execute=True):
        concern = chat_concern()
    concern = fresh(concern)
    assert concern.forwarding == Forwarding.PENDING
    assert concern.forward_next_at is not None
    queued = [t for t in HUEY.pending() if type(t).__name__ == "forward_concern"]
    assert [(t.args, t.kwargs) for t in queued] == [((concern.pk,), {})]
    # What the job does when the worker runs it.
    tasks.forward_concern.call_local(concern.pk)
    assert fresh(concern).forwarding == Forwarding.SENT


def test_a_queue_that_cannot_be_reached_does_not_fail_the_report(
    remote, django_capture_on_commit_callbacks, monkeypatch
):
    def unreachable(concern_id: int) -> None:
        raise ConnectionError("queue down")

    monkeypatch.setattr(tasks, "forward_concern", unreachable)
    active_subscriber(ALICE)
    with django_capture_on_commit_callbacks(execute=True):
        concern = chat_concern()
    assert fresh(concern).forwarding == Forwarding.PENDING
    # The minute's sweep sends it all the same.
    assert forwarder.send_due() == 1


def test_concerns_from_open311_are_not_forwarded_back(remote):
    concern = actions.create_concern(
        category=Category.objects.get(service_code="muell"),
        description="von außen",
        address="Am Markt",
        source=Concern.Source.OPEN311,
    )
    assert fresh(concern).forwarding == ""
    assert forwarder.send_due() == 0
    assert remote.posts == []


def test_nothing_is_forwarded_without_a_receiving_system():
    assert settings.OPEN311_FORWARD_URL == ""
    concern = chat_concern()
    assert fresh(concern).forwarding == ""
    tasks.open311_forwarding.call_local()


def test_the_sweep_runs_every_minute():
    due = {type(task).__name__ for task in HUEY.read_periodic(timezone.now())}
    assert "open311_forwarding" in due


# --- Sending ----------------------------------------------------------------------------------


def test_the_request_carries_the_report_and_nothing_about_the_citizen(remote, tmp_path):
    with override_settings(INBOX_MEDIA_DIR=tmp_path):
        concern = chat_concern(photo_dir=tmp_path)
    outcome = forwarder.forward(concern.pk)
    assert outcome == forwarder.Outcome("sent", external_id="1000")
    (form,) = remote.posts
    media_url = form.pop("media_url")
    assert media_url.startswith(f"{settings.PUBLIC_URL}/open311/v2/media/")
    assert form == {
        "api_key": "city-key",
        "jurisdiction_id": "marburg.de",
        "service_code": "strasse-gehweg",
        "description": DESCRIPTION,
        "lat": "50.8095",
        "long": "8.7707",
    }
    assert ALICE not in json.dumps(remote.posts)
    concern = fresh(concern)
    assert (concern.forwarding, concern.external_id) == (Forwarding.SENT, "1000")
    assert concern.forward_next_at is None and concern.forward_error == ""


def test_down_for_hours_nothing_is_lost_and_attempts_back_off(remote):
    t0 = timezone.now()
    concern = chat_concern()
    Concern.objects.filter(pk=concern.pk).update(forward_next_at=t0)
    # 500s, a hanging server, refused connections, a wrong key: all "not now".
    failures = ["500", "hang", "refuse", "500", "403", "refuse", "500", "500", "hang", "500"]
    now, waits, errors = t0, [], []
    for failure in failures:
        if failure == "refuse":
            with override_settings(OPEN311_FORWARD_URL=closed_port_url()):
                assert forwarder.send_due(now=now) == 0
        else:
            remote.answer = failure
            assert forwarder.send_due(now=now) == 0
        concern = fresh(concern)
        assert concern.forwarding == Forwarding.PENDING
        assert concern.forward_next_at is not None
        waits.append(concern.forward_next_at - now)
        errors.append(concern.forward_error)
        # Not a moment early.
        assert forwarder.send_due(now=concern.forward_next_at - timedelta(seconds=1)) == 0
        now = concern.forward_next_at
    assert [w // MINUTE for w in waits] == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    assert errors[:5] == [
        "HTTP 500",
        "timeout",
        "connection: ConnectError",
        "HTTP 500",
        "HTTP 403: 403 Invalid api_key",
    ]
    assert now - t0 > timedelta(hours=5)
    assert concern.forward_attempts == len(failures)

    remote.answer = "ok"
    assert forwarder.send_due(now=now) == 1
    concern = fresh(concern)
    assert (concern.forwarding, concern.external_id) == (Forwarding.SENT, "1000")
    # Every attempt that reached the server was the same request; refused ones never did.
    assert len(remote.posts) == len(failures) - failures.count("refuse") + 1
    assert all(form == remote.posts[0] for form in remote.posts)
    assert forwarder.send_due(now=now + timedelta(hours=2)) == 0
    assert len(remote.posts) == len(failures) - failures.count("refuse") + 1


def test_while_down_one_probe_a_minute_then_all_at_once(remote):
    t0 = timezone.now()
    concerns = [chat_concern() for _ in range(3)]
    Concern.objects.update(forward_next_at=t0)
    remote.answer = "500"
    assert forwarder.send_due(now=t0) == 0
    assert len(remote.posts) == 1
    assert forwarder.send_due(now=t0 + MINUTE) == 0
    assert len(remote.posts) == 2
    remote.answer = "ok"
    assert forwarder.send_due(now=t0 + 2 * MINUTE) == 3
    assert {fresh(c).forwarding for c in concerns} == {Forwarding.SENT}
    assert sorted(fresh(c).external_id for c in concerns) == ["1000", "1001", "1002"]


def test_a_refusal_is_final_and_shown_with_the_concern(remote):
    concern = chat_concern()
    remote.answer = "400"
    assert forwarder.forward(concern.pk).kind == "failed"  # type: ignore[union-attr]
    concern = fresh(concern)
    assert concern.forwarding == Forwarding.FAILED
    assert concern.forward_error == "HTTP 400: 400 Unknown service_code"
    assert concern.forward_next_at is None
    note = ConcernEvent.objects.filter(concern=concern).exclude(note="").get().note
    assert "HTTP 400: 400 Unknown service_code" in note
    remote.answer = "ok"
    assert forwarder.send_due(now=timezone.now() + timedelta(days=1)) == 0
    assert len(remote.posts) == 1


def test_a_send_left_unfinished_by_a_killed_worker_is_taken_up_again(remote):
    t0 = timezone.now()
    concern = chat_concern()
    # Claimed, then the worker died before recording anything.
    Concern.objects.filter(pk=concern.pk).update(forward_next_at=t0 + forwarder.CLAIM)
    assert forwarder.forward(concern.pk, now=t0) is None
    assert forwarder.send_due(now=t0 + MINUTE) == 0
    assert forwarder.send_due(now=t0 + forwarder.CLAIM) == 1
    assert len(remote.posts) == 1


def test_an_answer_without_an_id_still_counts_as_sent(remote):
    concern = chat_concern()
    remote.answer = "garbage"
    assert forwarder.forward(concern.pk).kind == "sent"  # type: ignore[union-attr]
    concern = fresh(concern)
    assert concern.external_id == "" and "without a service_request_id" in concern.forward_error
    # Nothing to ask about later.
    assert forwarder.pull_statuses(now=timezone.now()) == 0


def test_logs_name_ids_and_statuses_never_the_report(remote, caplog):
    caplog.set_level(logging.DEBUG)
    concern = chat_concern(address="Markt 7")
    remote.answer = "400"
    forwarder.forward(concern.pk)
    assert f"concern={concern.pk}" in caplog.text
    for private in (DESCRIPTION, "Markt 7", ALICE, "Unknown service_code"):
        assert private not in caplog.text


# --- Status back ------------------------------------------------------------------------------


def sent_concern(remote: Remote, now: datetime) -> Concern:
    concern = chat_concern()
    Concern.objects.filter(pk=concern.pk).update(forward_next_at=now)  # due at the test's clock
    assert forwarder.forward(concern.pk, now=now) is not None
    return fresh(concern)


def test_closed_there_resolves_here_and_tells_once(remote, status_changes):
    t0 = timezone.now()
    concern = sent_concern(remote, t0)
    assert forwarder.pull_statuses(now=t0) == 1
    assert fresh(concern).status == Status.NEW and status_changes == []

    remote.close("1000", "Loch verfüllt")
    # Asked about again only after PULL_EVERY.
    assert forwarder.pull_statuses(now=t0 + MINUTE) == 0
    t1 = t0 + forwarder.PULL_EVERY
    assert forwarder.pull_statuses(now=t1) == 1
    concern = fresh(concern)
    assert (concern.status, concern.status_note) == (Status.RESOLVED, "Loch verfüllt")
    assert concern.external_status == "closed"
    (told,) = status_changes
    assert told["status"] == Status.RESOLVED and told["by"] is None and told["changed"]
    path, params = remote.gets[-1]
    assert path == "/v2/requests.json"
    assert params == {
        "api_key": "city-key",
        "jurisdiction_id": "marburg.de",
        "service_request_id": "1000",
    }

    # The same answer again tells nobody anything.
    assert forwarder.pull_statuses(now=t1 + forwarder.PULL_EVERY) == 1
    assert len(status_changes) == 1

    # Reopened there: in progress here.
    remote.reopen("1000", "Wieder abgesackt")
    assert forwarder.pull_statuses(now=t1 + 2 * forwarder.PULL_EVERY) == 1
    concern = fresh(concern)
    assert (concern.status, concern.status_note) == (Status.IN_PROGRESS, "Wieder abgesackt")
    assert [c["status"] for c in status_changes] == [Status.RESOLVED, Status.IN_PROGRESS]


def test_resolved_here_first_is_not_reopened_by_an_open_system(remote, status_changes, people):
    t0 = timezone.now()
    concern = sent_concern(remote, t0)
    actions.set_concern_status(concern, Status.RESOLVED, by=people["gerd"], note="erledigt")
    status_changes.clear()
    assert forwarder.pull_statuses(now=t0) == 1
    assert fresh(concern).status == Status.RESOLVED
    remote.close("1000")
    assert forwarder.pull_statuses(now=t0 + forwarder.PULL_EVERY) == 1
    assert fresh(concern).status == Status.RESOLVED
    assert status_changes == []


def test_long_resolved_concerns_are_no_longer_asked_about(remote):
    t0 = timezone.now()
    concern = sent_concern(remote, t0)
    actions.set_concern_status(concern, Status.RESOLVED, at=t0)
    later = t0 + forwarder.FOLLOW_RESOLVED + MINUTE
    assert forwarder.pull_statuses(now=later) == 0


def test_statuses_are_asked_for_fifty_at_a_time(remote):
    now = timezone.now()
    category = Category.objects.get(service_code="muell")
    Concern.objects.bulk_create(
        Concern(
            reference=f"M-T-{n}",
            category=category,
            created_at=now,
            updated_at=now,
            forwarding=Forwarding.SENT,
            external_id=str(5000 + n),
        )
        for n in range(60)
    )
    assert forwarder.pull_statuses(now=now) == 60
    sizes = [len(params["service_request_id"].split(",")) for _, params in remote.gets]
    assert sizes == [50, 10]


def test_a_pull_from_a_system_that_is_down_changes_nothing(remote, status_changes):
    t0 = timezone.now()
    concern = sent_concern(remote, t0)
    remote.answer = "500"
    assert forwarder.pull_statuses(now=t0) == 0
    with override_settings(OPEN311_FORWARD_URL=closed_port_url()):
        assert forwarder.pull_statuses(now=t0 + forwarder.PULL_EVERY) == 0
    assert fresh(concern).status == Status.NEW and status_changes == []
    remote.answer = "ok"
    remote.close("1000")
    assert forwarder.pull_statuses(now=t0 + 2 * forwarder.PULL_EVERY) == 1
    assert fresh(concern).status == Status.RESOLVED


def test_a_token_is_exchanged_for_the_id_and_then_followed(remote, status_changes):
    t0 = timezone.now()
    remote.answer = "token"
    concern = sent_concern(remote, t0)
    assert (concern.external_id, concern.external_token) == ("", "tok-1000")
    remote.answer = "ok"
    forwarder.pull_statuses(now=t0)
    assert fresh(concern).external_id == "1000"
    assert remote.gets[0] == (
        "/v2/tokens/tok-1000.json",
        {"api_key": "city-key", "jurisdiction_id": "marburg.de"},
    )
    remote.close("1000", "Fertig")
    assert forwarder.pull_statuses(now=t0 + forwarder.PULL_EVERY) == 1
    assert fresh(concern).status == Status.RESOLVED
    assert len(status_changes) == 1


def test_the_sweep_sends_and_pulls(remote):
    concern = chat_concern()
    tasks.open311_forwarding.call_local()
    assert fresh(concern).forwarding == Forwarding.SENT
    assert [path for path, _ in remote.gets] == ["/v2/requests.json"]
