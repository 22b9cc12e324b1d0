"""Fetching the files citizens send (photos, voice messages, documents) from the Graph API.

A webhook names a file by its media id only. The download is two requests, both with the
access token: `GET /{version}/{media_id}` gives a short-lived URL with the file's type, size
and SHA-256, and `GET url` gives the bytes. The file is written under INBOX_MEDIA_DIR with a
random name (never the citizen's file name), readable by this user only.

What can go wrong, and what happens:
- the platform does not know the id (404) or refuses it (400 and other 4xx): FAILED, for good;
- larger than INBOX_MEDIA_MAX_MB, as announced or as streamed: TOO_LARGE, nothing kept;
- a server error, a timeout, a broken connection, bytes that do not match their SHA-256:
  tried again later (tasks.py), MAX_ATTEMPTS times over about an hour, then FAILED.
The message itself always stays; staff see the file's state.

Nothing logged here names the file's URL (it is a credential for a while), the number or the
text: only the message id and what went wrong.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import logging
import mimetypes
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings
from django.db.models import F

from stadtbote.channels.whatsapp.transport import WhatsAppConfig
from stadtbote.inbox.models import Message

log = logging.getLogger(__name__)

State = Message.MediaState
MAX_ATTEMPTS = 5
# Waits before the 2nd … 5th attempt: about 50 minutes from the first to the last.
BACKOFF_SECONDS = (60, 4 * 60, 15 * 60, 30 * 60)
# A pending download this long past its due time lost its job (a worker died): the sweep
# takes it up.
SWEEP_GRACE = timedelta(minutes=5)
# A download still pending after this long is given up (the nightly retention run marks it
# FAILED); the sweep looks no further back, so it reads a day of messages, not a month.
GIVE_UP = timedelta(days=1)
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
CHUNK = 64 * 1024
PART_SUFFIX = ".part"


class Outcome(enum.Enum):
    STORED = "stored"
    TOO_LARGE = "too_large"
    FAILED = "failed"
    RETRY = "retry"
    SKIPPED = "skipped"  # not pending (done already, erased, or another job has it)


class _TooLarge(Exception):
    pass


class _Permanent(Exception):
    pass


class _Transient(Exception):
    pass


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    attempts: int = 0


def media_dir() -> Path:
    return Path(settings.INBOX_MEDIA_DIR)


def path_of(name: str) -> Path:
    """The file of a stored name; only a plain name inside the media directory."""
    if not name or Path(name).name != name or name.startswith("."):
        raise ValueError("not a stored file name")
    return media_dir() / name


def delete_file(name: str) -> bool:
    """Removes a stored file; False when it was not there (already gone, or never written)."""
    try:
        path_of(name).unlink()
    except (FileNotFoundError, ValueError):
        return False
    return True


def limit_bytes() -> int:
    return settings.INBOX_MEDIA_MAX_MB * 1024 * 1024


def backoff(attempts: int) -> int:
    """Seconds before the next attempt, after `attempts` have been made."""
    return BACKOFF_SECONDS[min(max(attempts, 1), len(BACKOFF_SECONDS)) - 1]


def due_at(created_at: datetime, attempts: int) -> datetime:
    """When the next attempt of a pending download should have happened at the latest."""
    return created_at + timedelta(seconds=sum(BACKOFF_SECONDS[:attempts])) + SWEEP_GRACE


def download(message_id: int) -> Result:
    """One attempt at fetching the file of a message; safe to run twice and concurrently:
    an attempt is claimed by counting it up from the value read, and only a pending row
    takes the result."""
    row = (
        Message.objects.filter(pk=message_id)
        .values("media_state", "media_attempts", "media_id", "mime_type")
        .first()
    )
    if row is None or row["media_state"] != State.PENDING:
        return Result(Outcome.SKIPPED)
    attempts = row["media_attempts"]
    if attempts >= MAX_ATTEMPTS:
        _finish(message_id, State.FAILED)
        return Result(Outcome.FAILED, attempts)
    claimed = Message.objects.filter(
        pk=message_id, media_state=State.PENDING, media_attempts=attempts
    ).update(media_attempts=F("media_attempts") + 1)
    if not claimed:
        return Result(Outcome.SKIPPED)
    attempts += 1
    try:
        name, size, mime_type = _fetch(row["media_id"], row["mime_type"])
    except _TooLarge:
        log.info("file of message %s is larger than %s MB", message_id, settings.INBOX_MEDIA_MAX_MB)
        _finish(message_id, State.TOO_LARGE)
        return Result(Outcome.TOO_LARGE, attempts)
    except _Permanent as exc:
        log.warning("file of message %s cannot be downloaded: %s", message_id, exc)
        _finish(message_id, State.FAILED)
        return Result(Outcome.FAILED, attempts)
    except _Transient as exc:
        if attempts >= MAX_ATTEMPTS:
            log.warning(
                "file of message %s not downloaded after %s tries: %s", message_id, attempts, exc
            )
            _finish(message_id, State.FAILED)
            return Result(Outcome.FAILED, attempts)
        log.info("file of message %s: try %s failed (%s), trying again", message_id, attempts, exc)
        return Result(Outcome.RETRY, attempts)
    stored = Message.objects.filter(pk=message_id, media_state=State.PENDING).update(
        file=name, file_size=size, mime_type=mime_type[:100], media_state=State.STORED
    )
    if not stored:  # erased or settled meanwhile: the file must not outlive its row
        delete_file(name)
        return Result(Outcome.SKIPPED, attempts)
    return Result(Outcome.STORED, attempts)


def _finish(message_id: int, state: str) -> None:
    Message.objects.filter(pk=message_id, media_state=State.PENDING).update(media_state=state)


def _fetch(media_id: str, known_type: str) -> tuple[str, int, str]:
    """Downloads the file; returns its stored name, size and MIME type."""
    if not media_id:
        raise _Permanent("no media id")
    config = WhatsAppConfig.from_settings()
    headers = {"Authorization": f"Bearer {config.access_token}"}
    address = f"{config.base_url}/{config.version}/{quote(media_id, safe='')}"
    try:
        with httpx.Client(timeout=TIMEOUT, headers=headers, follow_redirects=True) as client:
            info = _media_info(client, address)
            mime_type = str(info.get("mime_type") or known_type or "application/octet-stream")
            return _store(client, info, mime_type), _size_of(info), mime_type
    except httpx.HTTPError as exc:
        # The exception's text may contain the URL; its kind says enough.
        raise _Transient(type(exc).__name__) from None


def _check_status(response: httpx.Response, what: str) -> None:
    code = response.status_code
    if code < 300:
        return
    if code >= 500 or code in (401, 408, 429):
        # A token being renewed (401) or Meta's rate limit: worth another try.
        raise _Transient(f"{what}: HTTP {code}")
    raise _Permanent(f"{what}: HTTP {code}")


def _size_of(info: dict[str, Any]) -> int:
    try:
        return max(int(info.get("file_size") or 0), 0)
    except (TypeError, ValueError):
        return 0


def _media_info(client: httpx.Client, address: str) -> dict[str, Any]:
    response = client.get(address)
    _check_status(response, "media info")
    try:
        info = response.json()
    except ValueError:
        raise _Transient("media info: not JSON") from None
    if not isinstance(info, dict) or not isinstance(info.get("url"), str):
        raise _Permanent("media info: no URL")
    if not info["url"].startswith(("https://", "http://")):
        raise _Permanent("media info: not an HTTP URL")
    if _size_of(info) > limit_bytes():
        raise _TooLarge()
    return info


def _store(client: httpx.Client, info: dict[str, Any], mime_type: str) -> str:
    """Streams the bytes into a part file, never more than the limit, checks them, and gives
    the part file its final random name."""
    folder = media_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    extension = mimetypes.guess_extension(mime_type.split(";")[0].strip()) or ""
    name = f"{token}{extension}"
    part = folder / f".{token}{PART_SUFFIX}"
    digest = hashlib.sha256()
    size = 0
    limit = limit_bytes()
    try:
        with client.stream("GET", info["url"]) as response:
            _check_status(response, "file")
            announced = response.headers.get("content-length", "")
            if announced.isdigit() and int(announced) > limit:
                raise _TooLarge()
            descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise _TooLarge()
                    digest.update(chunk)
                    out.write(chunk)
        if not _matches(info.get("sha256"), digest.digest()):
            raise _Transient("file: SHA-256 does not match")
        os.replace(part, folder / name)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return name


def _matches(expected: object, actual: bytes) -> bool:
    """The Graph API's SHA-256 is hex; webhooks carry base64. Either is accepted; none given
    cannot be checked."""
    if not isinstance(expected, str) or not expected:
        return True
    if expected.lower() == actual.hex():
        return True
    try:
        return base64.b64decode(expected, validate=True) == actual
    except (binascii.Error, ValueError):
        return False


def overdue(now: datetime) -> list[int]:
    """Pending downloads whose job was lost: past their next attempt by SWEEP_GRACE."""
    rows = Message.objects.filter(
        media_state=State.PENDING,
        created_at__gte=now - GIVE_UP,
        created_at__lt=now - SWEEP_GRACE,
    ).values_list("pk", "created_at", "media_attempts")
    return [pk for pk, created_at, attempts in rows if due_at(created_at, attempts) < now]


def give_up(now: datetime) -> int:
    """Marks downloads pending for longer than GIVE_UP as failed; returns how many."""
    return Message.objects.filter(media_state=State.PENDING, created_at__lt=now - GIVE_UP).update(
        media_state=State.FAILED
    )
