"""The two formats of Open311 GeoReport v2: XML (required by the spec) and JSON.

Both are built from the same plain data (dicts, lists, strings, numbers, booleans, None) by
the spec's "Spark convention": a list becomes an element holding one element per entry, named
after the list (`<services><service>…`), None an empty element (`<account_id/>`) or `null`.
XML is written with ElementTree, which escapes `<`, `&` and `>`; characters XML 1.0 cannot
carry at all (most control characters, which a phone may still send) are dropped, so a
citizen's odd text can never make the document unreadable for the city's system.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

FORMATS = ("xml", "json")
MIME_TYPES = {"xml": "text/xml", "json": "application/json"}
# The spec's own token, also the discovery document's `specification`.
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"

# What each list's entries are called in XML.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def w3c(moment: datetime | None) -> str | None:
    """A date and time as the spec wants it (the W3C profile of ISO 8601, with the offset),
    in the installation's time zone: 2026-12-02T16:05:09+01:00."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for name, inner in value.items():
            _fill(ET.SubElement(element, name), inner)
    elif isinstance(value, list):
        item_name = ITEM_NAMES[element.tag]
        for inner in value:
            _fill(ET.SubElement(element, item_name), inner)
    else:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, data)
    # The declaration written out: ElementTree's own says encoding='utf-8' in single quotes,
    # and the spec asks for encoding="UTF-8".
    return XML_DECLARATION + ET.tostring(element, encoding="unicode").encode()


def to_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, allow_nan=False).encode()


def render(fmt: str, root: str, data: Any, *, status: int = 200) -> HttpResponse:
    """`root` names the XML document element; JSON has no name for it."""
    body = to_xml(root, data) if fmt == "xml" else to_json(data)
    return HttpResponse(body, status=status, content_type=f"{MIME_TYPES[fmt]}; charset=utf-8")


def errors(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    """The spec's error list; every entry's code is the HTTP status."""
    listed = [{"code": status, "description": text} for text in descriptions]
    return render(fmt if fmt in FORMATS else "xml", "errors", listed, status=status)
