"""Media files as the Cloud API handles them: uploads, their URLs, downloads.

- ``POST /{version}/{phone_number_id}/media``, multipart/form-data with ``file``, ``type``
  (the MIME type) and ``messaging_product=whatsapp`` → ``{"id"}``
- ``GET /{version}/{media_id}`` → ``{"messaging_product", "url", "mime_type", "sha256",
  "file_size", "id"}``; ``url`` is the download route below
- ``DELETE /{version}/{media_id}`` → ``{"success": true}``
- ``GET /whatsapp_business/attachments/?mid={media_id}`` with the Bearer token → the bytes,
  like Meta's lookaside URLs

Uploads and the files citizens send share one store (``EmulatorState.media``), so the app can
download a citizen's photo by the id in the webhook and send an uploaded file by its id.

The form is parsed here with the standard library (Starlette's own parser needs the
python-multipart package, which the emulator does without).
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
from dataclasses import dataclass
from email.message import Message
from typing import Any

from whatsapp_emulator import errors
from whatsapp_emulator.state import MediaItem

KB = 1024
MB = 1024 * KB

# Meta's supported media types and their size limits ("Supported media types").
IMAGE_TYPES = ("image/jpeg", "image/png")
STICKER_TYPES = ("image/webp",)
AUDIO_TYPES = ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")
VIDEO_TYPES = ("video/mp4", "video/3gpp")
DOCUMENT_TYPES = (
    "text/plain",
    "application/pdf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
SIZE_LIMITS: dict[str, int] = {
    **dict.fromkeys(IMAGE_TYPES, 5 * MB),
    # Animated stickers may have 500 KB, static ones 100 KB; the file does not say which.
    **dict.fromkeys(STICKER_TYPES, 500 * KB),
    **dict.fromkeys(AUDIO_TYPES, 16 * MB),
    **dict.fromkeys(VIDEO_TYPES, 16 * MB),
    **dict.fromkeys(DOCUMENT_TYPES, 100 * MB),
}
# What a message of each type may carry; a document may be any supported file.
SENDABLE_TYPES: dict[str, tuple[str, ...]] = {
    "image": IMAGE_TYPES,
    "sticker": STICKER_TYPES,
    "audio": AUDIO_TYPES,
    "video": VIDEO_TYPES,
    "document": tuple(SIZE_LIMITS),
}
# The largest file plus room for the form around it; bigger requests are not read to the end.
UPLOAD_REQUEST_MAX = max(SIZE_LIMITS.values()) + 64 * KB
FORM_PARTS_MAX = 16
DOWNLOAD_PATH = "/whatsapp_business/attachments/"


@dataclass(frozen=True)
class FormPart:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


class MultipartError(ValueError):
    """A body that is not the multipart/form-data its Content-Type announces."""


@dataclass(frozen=True)
class Upload:
    data: bytes
    mime_type: str
    filename: str | None


def parse_multipart(content_type: str, body: bytes) -> dict[str, FormPart]:
    """The fields of a multipart/form-data body (RFC 7578), by name; the first of a name wins."""
    header = Message()
    header["content-type"] = content_type
    if header.get_content_type() != "multipart/form-data":
        raise MultipartError("the request must be multipart/form-data")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise MultipartError("the multipart/form-data Content-Type has no valid boundary")
    delimiter = b"\r\n--" + boundary.encode("latin-1", errors="replace")
    chunks = (b"\r\n" + body).split(delimiter)
    if len(chunks) < 2:
        raise MultipartError("the form has no parts")
    parts: dict[str, FormPart] = {}
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            return parts
        if len(parts) >= FORM_PARTS_MAX:
            raise MultipartError(f"the form has more than {FORM_PARTS_MAX} parts")
        part = _parse_part(chunk)
        parts.setdefault(part.name, part)
    raise MultipartError("the form does not end with its closing boundary")


def _parse_part(chunk: bytes) -> FormPart:
    # After the boundary: optional padding, then the line break before the part's headers.
    line_end = chunk.find(b"\r\n")
    if line_end < 0 or chunk[:line_end].strip(b" \t"):
        raise MultipartError("a form part does not start on a new line after its boundary")
    rest = chunk[line_end + 2 :]
    if rest.startswith(b"\r\n"):
        head, data = b"", rest[2:]
    else:
        head_end = rest.find(b"\r\n\r\n")
        if head_end < 0:
            raise MultipartError("a form part has no end of headers")
        head, data = rest[:head_end], rest[head_end + 4 :]
    headers = email.parser.BytesHeaderParser(policy=email.policy.HTTP).parsebytes(head + b"\r\n")
    if headers.get_content_disposition() != "form-data":
        raise MultipartError("every form part needs Content-Disposition: form-data")
    name = headers.get_param("name", header="content-disposition")
    if not isinstance(name, str) or not name:
        raise MultipartError("a form part has no name")
    filename = headers.get_filename()
    content_type = headers.get_content_type() if "content-type" in headers else None
    return FormPart(name=name, filename=filename, content_type=content_type, data=data)


def read_upload(parts: dict[str, FormPart]) -> Upload:
    """The file of an upload form, checked like Meta: product, MIME type, size."""
    product = parts.get("messaging_product")
    if product is None:
        raise errors.missing_parameter("The parameter messaging_product is required.")
    if product.data != b"whatsapp":
        raise errors.invalid_parameter("Param messaging_product must be 'whatsapp'")
    file = parts.get("file")
    if file is None:
        raise errors.missing_parameter("The parameter file is required.")
    declared = parts.get("type")
    if declared is None:
        raise errors.missing_parameter("The parameter type (the file's MIME type) is required.")
    mime_type = declared.data.decode("utf-8", errors="replace").split(";")[0].strip().lower()
    if mime_type not in SIZE_LIMITS:
        raise errors.invalid_parameter(
            "Param file must be a file with one of the following types: "
            f"{', '.join(SIZE_LIMITS)}. Received file of type '{mime_type}'."
        )
    if not file.data:
        raise errors.media_upload_error("The file is empty")
    limit = SIZE_LIMITS[mime_type]
    if len(file.data) > limit:
        raise errors.media_upload_error(
            f"The file has {len(file.data)} bytes; {mime_type} files may have at most "
            f"{limit} bytes ({limit // KB} KB)"
        )
    return Upload(data=file.data, mime_type=mime_type, filename=file.filename)


def media_url_answer(item: MediaItem, base_url: str) -> dict[str, Any]:
    """The answer to ``GET /{version}/{media_id}``.

    ``file_size`` is a string as in Meta's OpenAPI example; ``sha256`` is hex here, while
    message webhooks carry it in base64.
    """
    return {
        "messaging_product": "whatsapp",
        "url": f"{base_url.rstrip('/')}{DOWNLOAD_PATH}?mid={item.id}",
        "mime_type": item.mime_type,
        "sha256": hashlib.sha256(item.data).hexdigest(),
        "file_size": str(len(item.data)),
        "id": item.id,
    }


def sendable_as(kind: str, mime_type: str) -> bool:
    """Whether a stored file of this MIME type can go out as a message of this type."""
    return mime_type in SENDABLE_TYPES.get(kind, ())
