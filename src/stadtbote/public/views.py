from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def privacy_notice(request: HttpRequest) -> HttpResponse:
    """The notice linked in the confirmation question; its version is what the ledger records."""
    return render(
        request,
        "public/privacy_notice.html",
        {"version": settings.PRIVACY_NOTICE_VERSION},
    )
