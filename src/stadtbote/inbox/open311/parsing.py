"""What an Open311 client sends, checked: a new service request (POST) and the filters of
GET requests. Anything wrong is `Refused` with every reason at once (the spec's error list
may hold several), so a client's developer fixes a request in one round, not five.

Status codes follow the spec: 404 for what does not exist here (a service_code, another
jurisdiction), 403 for the api_key (access.py), 400 for everything else.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import QueryDict
from django.utils import timezone

from stadtbote.inbox.models import Category

# The spec's limit for a description; the model would take 4,096.
DESCRIPTION_MAX = 4000
ADDRESS_MAX = 255
ADDRESS_ID_MAX = 100
MEDIA_URL_MAX = 1000
# GET requests: the spec's defaults and limits.
WINDOW = timedelta(days=90)
RESULTS_MAX = 1000
# One request's identifiers are references (M-2026-00042); more than a page's worth is a
# mistake, not a query.
IDS_MAX = RESULTS_MAX
STATUSES = ("open", "closed")

# A plain decimal number: float() would also take "nan", "inf" and "1_0".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Control characters other than tab and line breaks: no report needs them, XML cannot carry
# most of them and PostgreSQL refuses NUL in text outright.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_media_url = URLValidator(schemes=["http", "https"])
# Parameters that name one value each: given twice, which one did the client mean?
SINGLE = (
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "description",
    "media_url",
)


def value(params: QueryDict, name: str) -> str:
    """A parameter as text to keep: control characters removed, spaces around trimmed."""
    return _CONTROL.sub("", params.get(name, "")).strip()


def is_clean(text: str) -> bool:
    """Whether an identifier from the path can name anything here."""
    return not _CONTROL.search(text)


class Refused(Exception):
    """A request answered with the spec's error list."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(f"{status}: {'; '.join(descriptions)}")
        self.status, self.descriptions = status, descriptions


@dataclass(frozen=True)
class NewRequest:
    category: Category
    description: str
    latitude: float | None
    longitude: float | None
    address: str
    media_url: str


@dataclass(frozen=True)
class Query:
    """GET requests' filters. `references`, when given, overrides all others (the spec)."""

    references: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()


def check_jurisdiction(params: QueryDict) -> None:
    """One jurisdiction is served; a client may name it, and must name it right. Unset in
    the settings: whatever a client sends is taken as meaning this one."""
    given = value(params, "jurisdiction_id")
    ours = settings.OPEN311_JURISDICTION
    if ours and given and given != ours:
        raise Refused(404, "jurisdiction_id was not found.")


def _single(params: QueryDict, problems: list[str]) -> None:
    for name in SINGLE:
        if len(params.getlist(name)) > 1:
            problems.append(f"{name} was given more than once.")


def _coordinate(raw: str, name: str, limit: float, problems: list[str]) -> float | None:
    text = raw.strip()
    value = float(text) if _NUMBER.fullmatch(text) else math.nan
    if not math.isfinite(value) or abs(value) > limit:
        problems.append(f"{name} must be a number between -{limit:g} and {limit:g} (WGS84).")
        return None
    return value


def new_request(params: QueryDict) -> NewRequest:
    """The POST parameters of a new service request. Contact details (email, first_name,
    last_name, phone, device_id, account_id) and attribute[…] are not read at all: this
    installation keeps no personal data of reporters from other systems, and its services
    define no attributes."""
    problems: list[str] = []
    _single(params, problems)

    lat_raw, long_raw = value(params, "lat"), value(params, "long")
    latitude = longitude = None
    if lat_raw.strip() or long_raw.strip():
        if not (lat_raw.strip() and long_raw.strip()):
            problems.append("lat and long must be given together.")
        else:
            latitude = _coordinate(lat_raw, "lat", 90, problems)
            longitude = _coordinate(long_raw, "long", 180, problems)
    address = value(params, "address_string")
    address_id = value(params, "address_id")
    if len(address) > ADDRESS_MAX:
        problems.append(f"address_string may have at most {ADDRESS_MAX} characters.")
    if len(address_id) > ADDRESS_ID_MAX:
        problems.append(f"address_id may have at most {ADDRESS_ID_MAX} characters.")
    if not (lat_raw.strip() or long_raw.strip() or address or address_id):
        problems.append("A location is required: lat and long, address_string or address_id.")
    if address_id and not address:
        # No address register here: the identifier is kept where staff will see it.
        address = f"address_id {address_id}"

    description = value(params, "description")
    if len(description) > DESCRIPTION_MAX:
        problems.append(f"description may have at most {DESCRIPTION_MAX} characters.")

    media_url = value(params, "media_url")
    if media_url:
        try:
            if len(media_url) > MEDIA_URL_MAX:
                raise ValidationError("too long")
            _media_url(media_url)
        except ValidationError:
            problems.append(
                f"media_url must be an http or https URL of at most {MEDIA_URL_MAX} characters."
            )

    code = value(params, "service_code")
    if not code:
        problems.append("service_code was not provided.")
    if problems:
        raise Refused(400, *problems)
    category = Category.objects.filter(service_code=code, active=True).first()
    if category is None:
        raise Refused(404, "service_code was not found.")
    return NewRequest(
        category=category,
        description=description,
        latitude=latitude,
        longitude=longitude,
        address=address,
        media_url=media_url,
    )


def _listed(params: QueryDict, name: str) -> tuple[str, ...]:
    """A comma-separated parameter that may also be declared several times."""
    return tuple(
        part.strip()
        for raw in params.getlist(name)
        for part in _CONTROL.sub("", raw).split(",")
        if part.strip()
    )


def _moment(raw: str, name: str, problems: list[str]) -> datetime | None:
    text = raw.strip()
    if not text:
        return None
    try:
        if _DATE.fullmatch(text):
            return timezone.make_aware(datetime.combine(date.fromisoformat(text), time()))
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        problems.append(
            f"{name} must be a W3C date and time with a time zone, e.g. 2010-01-01T00:00:00Z."
        )
        return None
    return moment


def query(params: QueryDict, now: datetime) -> Query:
    """The filters of GET requests. Without dates the last 90 days; with one of them the 90
    days from or up to it; a longer span is refused, as the spec limits it so."""
    problems: list[str] = []
    references = _listed(params, "service_request_id")
    if len(references) > IDS_MAX:
        problems.append(f"service_request_id may list at most {IDS_MAX} requests.")
    statuses = _listed(params, "status")
    if any(s not in STATUSES for s in statuses):
        problems.append("status must be open or closed (or both, comma separated).")
    start = _moment(value(params, "start_date"), "start_date", problems)
    end = _moment(value(params, "end_date"), "end_date", problems)
    if problems:
        raise Refused(400, *problems)
    if references:
        return Query(references=references)
    try:
        if start is None and end is None:
            start, end = now - WINDOW, now
        elif end is None:
            assert start is not None
            end = start + WINDOW
        elif start is None:
            start = end - WINDOW
    except OverflowError:
        raise Refused(400, "start_date or end_date is out of range.") from None
    if end < start:
        raise Refused(400, "end_date is before start_date.")
    if end - start > WINDOW:
        raise Refused(400, "start_date and end_date may not span more than 90 days.")
    return Query(
        service_codes=_listed(params, "service_code"),
        start=start,
        end=end,
        statuses=tuple(dict.fromkeys(statuses)),
    )
