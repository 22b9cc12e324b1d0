from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from stadtbote.public import language as _language


def language(request: HttpRequest) -> dict[str, Any]:
    return _language.links(request)
