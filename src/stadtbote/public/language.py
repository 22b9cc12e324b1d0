"""Which language a page speaks.

Staff pages remember a choice in Django's language cookie (set by the `set_language` view) and
fall back to the browser's Accept-Language. Public pages must stay cacheable and cookie-free:
they ignore the cookie and take `?lang=` in the address, else Accept-Language (the response says
`Vary: Accept-Language`), else German. A language in the address keeps cached copies apart
without any cookie; links on a public page carry it on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

# Where staff work: their remembered choice counts there.
STAFF_PREFIXES = ("/admin/", "/staff/", "/redaktion/", "/i18n/")
PARAMETER = "lang"


def is_staff_path(path: str) -> bool:
    return path.startswith(STAFF_PREFIXES)


def chosen_in_address(request: HttpRequest) -> str | None:
    asked = request.GET.get(PARAMETER, "")
    return asked if asked in dict(settings.LANGUAGES) else None


# The REST API answers other programs: English unless they ask for another language.
API_PREFIX = "/api/"


def public_language(request: HttpRequest) -> str:
    """`?lang=`, else the first language of Accept-Language we speak, else the default."""
    asked = chosen_in_address(request)
    if asked:
        return asked
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return "en" if request.path_info.startswith(API_PREFIX) else settings.LANGUAGE_CODE


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (it also sets Vary and Content-Language), with the public
    pages' own rule: no cookie."""

    def process_request(self, request: HttpRequest) -> None:
        if is_staff_path(request.path_info):
            super().process_request(request)
            return
        translation.activate(public_language(request))
        request.LANGUAGE_CODE = translation.get_language()


def links(request: HttpRequest) -> dict[str, Any]:
    """Template context: the language switch's links to this page in every language, and the
    suffix that carries a language other than the default on to the next public page."""
    current = translation.get_language() or settings.LANGUAGE_CODE
    switch = []
    for code, name in settings.LANGUAGES:
        query = request.GET.copy()
        query[PARAMETER] = code
        switch.append({"code": code, "name": name, "url": f"{request.path}?{query.urlencode()}"})
    carry = "" if current == settings.LANGUAGE_CODE else urlencode({PARAMETER: current})
    return {
        "language_switch": switch,
        "lang_query": f"?{carry}" if carry else "",
        "lang_and": f"&{carry}" if carry else "",
    }
