"""Open311 GeoReport v2 under /open311/v2/: discovery, services, a service's definition,
service requests (read and create) and one request; plus the signed photo addresses.

The format is the path's extension (.xml or .json). Every error, whatever its cause, is the
spec's error list in the requested format (XML where the format itself is wrong).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from stadtbote.inbox.open311 import access, formats, media, parsing, service_requests
from stadtbote.inbox.open311.parsing import Refused

# A request with a 4,000-character description of four-byte characters, percent-encoded,
# is about 48 KB; nothing a client means to send is larger.
BODY_MAX = 128 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# What a photo address serves as a picture; anything else only as a download, so that no
# file a citizen sent can act as a page of this site.
PICTURES = {"image/jpeg", "image/png", "image/webp", "image/gif"}

View = Callable[..., HttpResponse]


def endpoint(*methods: str) -> Callable[[View], View]:
    """The checks every Open311 resource shares: a known format, an allowed method, the
    right jurisdiction; a `Refused` becomes the error list."""

    def wrap(view: View) -> View:
        @csrf_exempt  # other systems, not browsers: no session, and the api_key says who
        @wraps(view)
        def run(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            if fmt not in formats.FORMATS:
                return formats.errors("xml", 404, "The format must be xml or json.")
            if request.method not in {*methods, "HEAD" if "GET" in methods else ""}:
                response = formats.errors(fmt, 405, f"Use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                params = _form(request) if request.method == "POST" else request.GET
                parsing.check_jurisdiction(params)
                return view(request, fmt, params, **kwargs)
            except Refused as refused:
                return formats.errors(fmt, refused.status, *refused.descriptions)

        return run

    return wrap


def _form(request: HttpRequest) -> QueryDict:
    """The POSTed parameters, form-encoded as the spec says; refused before reading when
    larger than any real request."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > BODY_MAX:
        raise Refused(413, f"The request body may have at most {BODY_MAX // 1024} KB.")
    if request.content_type not in FORM_TYPES:
        raise Refused(400, "Send the parameters form-encoded (application/x-www-form-urlencoded).")
    try:
        return request.POST
    except RequestDataTooBig:
        raise Refused(413, f"The request body may have at most {BODY_MAX // 1024} KB.") from None
    except TooManyFieldsSent:
        raise Refused(400, "Too many parameters.") from None
    except MultiPartParserError:
        raise Refused(400, "The multipart body could not be read.") from None


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str, params: QueryDict) -> HttpResponse:
    return formats.render(fmt, "discovery", service_requests.discovery())


@endpoint("GET")
def services(request: HttpRequest, fmt: str, params: QueryDict) -> HttpResponse:
    listed = [service_requests.as_service(c) for c in service_requests.offered()]
    return formats.render(fmt, "services", listed)


@endpoint("GET")
def service_definition(
    request: HttpRequest, fmt: str, params: QueryDict, code: str
) -> HttpResponse:
    category = None
    if parsing.is_clean(code):  # a NUL would not even reach PostgreSQL
        category = service_requests.offered().filter(service_code=code).first()
    if category is None:
        raise Refused(404, "service_code was not found.")
    return formats.render(fmt, "service_definition", service_requests.definition(category))


@endpoint("GET", "POST")
def requests(request: HttpRequest, fmt: str, params: QueryDict) -> HttpResponse:
    if request.method == "POST":
        user = access.key_holder(request, params, access.CREATE)
        concern = service_requests.create(parsing.new_request(params), user)
        created = {
            "service_request_id": concern.reference,
            "service_notice": service_requests.SERVICE_NOTICE,
            "account_id": None,
        }
        return formats.render(fmt, "service_requests", [created])
    access.key_holder(request, params, access.READ)
    found = service_requests.matching(parsing.query(params, timezone.now()))
    listed = [service_requests.as_request(c) for c in found]
    return formats.render(fmt, "service_requests", listed)


@endpoint("GET")
def request_detail(
    request: HttpRequest, fmt: str, params: QueryDict, reference: str
) -> HttpResponse:
    access.key_holder(request, params, access.READ)
    concern = service_requests.by_reference(reference) if parsing.is_clean(reference) else None
    if concern is None:
        raise Refused(404, "service_request_id was not found.")
    # A list of one, as the spec has it.
    return formats.render(fmt, "service_requests", [service_requests.as_request(concern)])


@csrf_exempt
def not_found(request: HttpRequest, path: str) -> HttpResponse:
    """Anything else under /open311/v2/ (tokens/…: requests here get their id at once)."""
    fmt = path.rsplit(".", 1)[-1] if "." in path else "xml"
    return formats.errors(fmt, 404, "There is no such Open311 resource.")


def photo(request: HttpRequest, token: str) -> HttpResponse | FileResponse:
    found = media.stored_photo(token)
    if found is None:
        return HttpResponse(
            "This photo address is wrong, expired or no longer valid.",
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    path, mime_type = found
    picture = mime_type in PICTURES
    response = FileResponse(
        path.open("rb"),
        content_type=mime_type if picture else "application/octet-stream",
        as_attachment=not picture,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
