"""Files citizens send: fetched from the Graph API after the message is committed, against the
real emulator over HTTP and against a small local server that fails in the ways Meta's can."""

from __future__ import annotations

import hashlib
import json
import logging
import stat
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from django.test import override_settings
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from stadtbote.dialogue import tasks as dialogue_tasks
from stadtbote.inbox import media, tasks
from stadtbote.inbox.models import Message
from tests.helpers import (
    ALICE,
    active_subscriber,
    compact,
    emulator_server,
    envelope,
    post_webhook,
    wamid,
)

pytestmark = pytest.mark.django_db
State = Message.MediaState
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
CAPTION = "Schlagloch vor Hausnummer 12"


@pytest.fixture(autouse=True)
def media_dir(settings, tmp_path):
    settings.INBOX_MEDIA_DIR = tmp_path / "inbox-media"
    settings.INBOX_MEDIA_MAX_MB = 1
    return settings.INBOX_MEDIA_DIR


@pytest.fixture(autouse=True)
def replies_stay_queued(monkeypatch):
    monkeypatch.setattr(dialogue_tasks, "schedule_replies", lambda: None)


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Download jobs as the queue would get them."""
    jobs: list[int] = []
    monkeypatch.setattr(tasks, "download_media", jobs.append)
    return jobs


def photo_webhook(media_id: str, message_id: str | None = None) -> bytes:
    return compact(
        envelope(
            {
                "contacts": [{"profile": {"name": "Test"}, "wa_id": ALICE}],
                "messages": [
                    {
                        "from": ALICE,
                        "id": message_id or wamid(),
                        "timestamp": str(int(timezone.now().timestamp())),
                        "type": "image",
                        "image": {
                            "mime_type": "image/jpeg",
                            "sha256": "eA==",
                            "id": media_id,
                            "caption": CAPTION,
                        },
                    }
                ],
            }
        )
    )


def receive(client, body: bytes, django_capture_on_commit_callbacks) -> None:
    assert post_webhook(client, body).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        while dialogue_tasks.apply_inbound_once():
            pass


def pending(media_id: str) -> Message:
    subscriber = active_subscriber()
    from stadtbote.inbox.actions import conversation_of

    return Message.objects.create(
        conversation=conversation_of(subscriber),
        direction=Message.Direction.IN,
        kind=Message.Kind.IMAGE,
        text=CAPTION,
        created_at=timezone.now(),
        media_id=media_id,
        mime_type="image/jpeg",
        media_state=State.PENDING,
    )


# The real emulator ---------------------------------------------------------------------------


def test_a_photo_is_downloaded_from_the_emulator_after_commit(
    client, queued, django_capture_on_commit_callbacks, media_dir
):
    active_subscriber()
    with emulator_server() as emulator:
        media_id = emulator.state.media.add(JPEG, "image/jpeg")
        receive(client, photo_webhook(media_id), django_capture_on_commit_callbacks)
        message = Message.objects.get(direction=Message.Direction.IN)
        assert queued == [message.pk]  # the job carries the id only
        assert message.media_state == State.PENDING
        assert media.download(message.pk).outcome is media.Outcome.STORED
    message.refresh_from_db()
    assert message.media_state == State.STORED and message.has_file
    assert message.file_size == len(JPEG)
    assert message.text == CAPTION
    path = media_dir / message.file
    assert path.read_bytes() == JPEG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert message.file.endswith(".jpg") and len(message.file) == 32 + 4  # random, not theirs
    assert not list(media_dir.glob(".*"))  # no part file left


def test_a_repeated_webhook_downloads_once(client, queued, django_capture_on_commit_callbacks):
    active_subscriber()
    with emulator_server() as emulator:
        media_id = emulator.state.media.add(JPEG, "image/jpeg")
        body = photo_webhook(media_id, message_id="wamid.PHOTO1")
        receive(client, body, django_capture_on_commit_callbacks)
        receive(client, body, django_capture_on_commit_callbacks)
        assert len(queued) == 1
        assert media.download(queued[0]).outcome is media.Outcome.STORED
        # A job run twice (a retry and the sweep) does nothing the second time.
        assert media.download(queued[0]).outcome is media.Outcome.SKIPPED
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 1
    assert Message.objects.get(direction=Message.Direction.IN).media_attempts == 1


def test_a_media_id_the_emulator_does_not_know_fails_and_the_message_stays(media_dir):
    message = pending("123456789")
    with emulator_server():
        assert media.download(message.pk).outcome is media.Outcome.FAILED
    message.refresh_from_db()
    assert message.media_state == State.FAILED
    assert message.text == CAPTION and not message.file
    assert not media_dir.exists() or not list(media_dir.iterdir())


def test_a_wrong_token_is_tried_again(settings):
    message = pending("123")
    with emulator_server() as emulator:
        media_id = emulator.state.media.add(JPEG, "image/jpeg")
        Message.objects.filter(pk=message.pk).update(media_id=media_id)
        wrong = {**settings.WHATSAPP, "ACCESS_TOKEN": "wrong"}  # the emulator's address
        with override_settings(WHATSAPP=wrong):
            assert media.download(message.pk).outcome is media.Outcome.RETRY
        # The token renewed: the next try succeeds.
        assert media.download(message.pk).outcome is media.Outcome.STORED


# A server that fails ------------------------------------------------------------------------


class Graph:
    """Answers media look-ups by id with a scripted behaviour, and keeps what it was asked."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []  # (path, authorization)
        self.release = threading.Event()
        self.calls: dict[str, int] = {}
        self.base = ""

    def info(self, media_id: str, **extra: Any) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "url": f"{self.base}/file/{media_id}?token=SECRETURL",
            "mime_type": "image/jpeg",
            "sha256": hashlib.sha256(JPEG).hexdigest(),
            "file_size": str(len(JPEG)),
            "id": media_id,
            **extra,
        }


def _handler(graph: Graph) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, code: int, data: Any) -> None:
            body = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            graph.requests.append((self.path, self.headers.get("Authorization", "")))
            path = self.path.split("?")[0]
            key = path.rsplit("/", 1)[-1]
            graph.calls[path] = graph.calls.get(path, 0) + 1
            if path.startswith("/file/"):
                return self._file(key)
            match key:
                case "missing":
                    return self._json(404, {"error": {"message": "not found", "code": 100}})
                case "refused":
                    return self._json(400, {"error": {"message": "bad", "code": 100}})
                case "flaky" if graph.calls[path] == 1:
                    return self._json(500, {"error": {"message": "oops"}})
                case "announced-huge":
                    return self._json(200, graph.info(key, file_size=str(50 * 1024 * 1024)))
                case "streams-huge":
                    return self._json(200, graph.info(key, file_size="100", sha256=None))
                case "wrong-sha":
                    return self._json(200, graph.info(key, sha256="00" * 32))
                case "hangs":
                    graph.release.wait(10)
                    return None  # the client gave up long ago
                case "not-json":
                    self.send_response(200)
                    self.send_header("Content-Length", "5")
                    self.end_headers()
                    self.wfile.write(b"hello")
                    return None
            return self._json(200, graph.info(key))

        def _file(self, key: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            if key == "streams-huge":
                # No Content-Length: only counting the bytes finds out.
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(40):  # 2.5 MB
                        self.wfile.write(chunk)
                except OSError:
                    pass  # the client stopped reading, as it should
                return
            self.send_header("Content-Length", str(len(JPEG)))
            self.end_headers()
            self.wfile.write(JPEG)

    return Handler


@pytest.fixture
def graph(settings) -> Iterator[Graph]:
    fake = Graph()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    with override_settings(WHATSAPP={**settings.WHATSAPP, "API_BASE_URL": fake.base}):
        yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()


def test_both_requests_carry_the_token_and_the_id_is_quoted(graph):
    message = pending("ok")
    assert media.download(message.pk).outcome is media.Outcome.STORED
    assert [auth for _, auth in graph.requests] == ["Bearer test-token"] * 2
    assert graph.requests[0][0] == "/v23.0/ok"
    odd = pending("../../etc")
    media.download(odd.pk)
    assert graph.requests[-2][0].startswith("/v23.0/..%2F..%2Fetc")


@pytest.mark.parametrize("media_id", ["missing", "refused"])
def test_404_and_400_fail_for_good(graph, media_id):
    message = pending(media_id)
    assert media.download(message.pk).outcome is media.Outcome.FAILED
    message.refresh_from_db()
    assert message.media_state == State.FAILED
    assert message.text == CAPTION  # the message stays, without its file
    assert media.download(message.pk).outcome is media.Outcome.SKIPPED
    assert len(graph.requests) == 1


def test_a_server_error_is_tried_again_and_then_succeeds(graph, monkeypatch):
    scheduled: list[tuple[tuple[int, ...], int]] = []
    monkeypatch.setattr(
        tasks.download_media, "schedule", lambda args, delay: scheduled.append((args, delay))
    )
    message = pending("flaky")
    tasks.download_media.call_local(message.pk)
    assert scheduled == [((message.pk,), media.BACKOFF_SECONDS[0])]
    message.refresh_from_db()
    assert message.media_state == State.PENDING and message.media_attempts == 1
    tasks.download_media.call_local(message.pk)  # the retry
    message.refresh_from_db()
    assert message.media_state == State.STORED and message.media_attempts == 2
    assert len(scheduled) == 1


def test_too_large_as_announced_is_not_downloaded(graph, media_dir):
    message = pending("announced-huge")
    assert media.download(message.pk).outcome is media.Outcome.TOO_LARGE
    message.refresh_from_db()
    assert message.media_state == State.TOO_LARGE and not message.file
    assert not any(path.startswith("/file/") for path, _ in graph.requests)


def test_too_large_as_streamed_stops_at_the_cap_and_keeps_nothing(graph, media_dir):
    message = pending("streams-huge")
    assert media.download(message.pk).outcome is media.Outcome.TOO_LARGE
    message.refresh_from_db()
    assert message.media_state == State.TOO_LARGE
    assert not list(media_dir.iterdir())  # the part file is gone too


def test_a_wrong_sha256_is_tried_again_and_then_fails(graph, media_dir):
    message = pending("wrong-sha")
    outcomes = [media.download(message.pk).outcome for _ in range(media.MAX_ATTEMPTS)]
    assert outcomes == [media.Outcome.RETRY] * (media.MAX_ATTEMPTS - 1) + [media.Outcome.FAILED]
    message.refresh_from_db()
    assert message.media_state == State.FAILED
    assert message.media_attempts == media.MAX_ATTEMPTS
    assert not list(media_dir.iterdir())


def test_a_hanging_server_times_out_and_is_tried_again(graph, monkeypatch):
    monkeypatch.setattr(media, "TIMEOUT", httpx.Timeout(0.3))
    message = pending("hangs")
    assert media.download(message.pk).outcome is media.Outcome.RETRY
    message.refresh_from_db()
    assert message.media_state == State.PENDING


def test_an_answer_that_is_not_json_is_tried_again(graph):
    assert media.download(pending("not-json").pk).outcome is media.Outcome.RETRY


def test_nothing_is_tried_after_the_last_attempt(graph):
    message = pending("ok")
    Message.objects.filter(pk=message.pk).update(media_attempts=media.MAX_ATTEMPTS)
    assert media.download(message.pk).outcome is media.Outcome.FAILED
    assert graph.requests == []


def test_a_message_erased_during_the_download_leaves_no_file(graph, media_dir, monkeypatch):
    message = pending("ok")
    real = media._fetch

    def fetch_then_erase(*args: Any) -> Any:
        found = real(*args)
        Message.objects.filter(pk=message.pk).delete()
        return found

    monkeypatch.setattr(media, "_fetch", fetch_then_erase)
    assert media.download(message.pk).outcome is media.Outcome.SKIPPED
    assert not list(media_dir.iterdir())


def test_no_number_token_url_or_text_in_the_logs(graph, caplog, monkeypatch):
    monkeypatch.setattr(media, "TIMEOUT", httpx.Timeout(0.3))
    caplog.set_level(logging.DEBUG)
    for media_id in ("ok", "missing", "flaky", "wrong-sha", "hangs", "streams-huge"):
        media.download(pending(media_id).pk)
    assert caplog.text  # failures are logged, by message id
    for secret in (ALICE, "test-token", "SECRETURL", "/file/", "Schlagloch", graph.base):
        assert secret not in caplog.text


# The queue ---------------------------------------------------------------------------------


@pytest.fixture
def empty_queue():
    HUEY.flush()
    yield
    HUEY.flush()


@pytest.mark.backend
def test_the_queued_job_holds_the_message_id_only(empty_queue):
    message = pending("ok")
    tasks.download_media(message.pk)
    [job] = HUEY.pending()
    assert job.args == (message.pk,) and not job.kwargs
    raw = b"".join(HUEY.storage.enqueued_items())
    for secret in (ALICE.encode(), CAPTION.encode(), b"test-token"):
        assert secret not in raw


def test_the_sweep_takes_up_downloads_whose_job_was_lost(queued):
    now = timezone.now()
    lost = pending("a")
    waiting = pending("b")
    fresh = pending("c")
    Message.objects.filter(pk=lost.pk).update(created_at=now - timedelta(hours=2))
    # Tried twice, the next try due 5 minutes after the first two waits: not lost yet.
    Message.objects.filter(pk=waiting.pk).update(
        created_at=now - timedelta(minutes=6), media_attempts=2
    )
    assert media.overdue(now) == [lost.pk]
    tasks.sweep_media.call_local()
    assert queued == [lost.pk]
    assert fresh.pk not in media.overdue(now + timedelta(minutes=4))
    assert fresh.pk in media.overdue(now + timedelta(minutes=6))


def test_a_download_pending_for_a_day_is_given_up(queued):
    now = timezone.now()
    stale = pending("a")
    Message.objects.filter(pk=stale.pk).update(created_at=now - timedelta(days=2))
    assert media.overdue(now) == []  # the sweep looks back one day only
    assert media.give_up(now) == 1
    stale.refresh_from_db()
    assert stale.media_state == State.FAILED
