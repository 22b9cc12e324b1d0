"""Concerns and categories as Open311 services and service requests, and creating a concern
from another system's request.

A concern's Open311 id is its reference number (M-2026-00042), the one the citizen is told:
staff, citizen and the city's other system all speak of the same number. Its four statuses
fold into the spec's two: resolved is closed, everything else open.

Nothing identifies the citizen: no phone number, no conversation, no district of residence.
The description is given, since it is the report itself, and only to key holders.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet

from stadtbote.accounts import audit
from stadtbote.inbox import actions
from stadtbote.inbox.models import Category, Concern, Status
from stadtbote.inbox.open311 import formats, media
from stadtbote.inbox.open311.parsing import RESULTS_MAX, NewRequest, Query

# When the service list or definitions last changed shape; clients cache services by it.
CHANGESET = "2026-12-02T00:00:00+01:00"
SERVICE_NOTICE = (
    "Received. The city's responsible department takes it from here; follow its status "
    "with GET requests/{id}. Contact details (email, name, phone, device or account id) "
    "are not stored by this system."
)


def discovery() -> dict[str, Any]:
    base = f"{settings.PUBLIC_URL}/open311/v2"
    return {
        "changeset": CHANGESET,
        "contact": f"{settings.CITY_NAME}: {settings.PUBLIC_URL}/",
        "key_service": (
            "Reading and creating service requests needs an api_key: an API token that the "
            "city's Stadtbote administrators issue to a staff account (agent role)."
        ),
        "endpoints": [
            {
                "specification": formats.SPECIFICATION,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": [formats.MIME_TYPES["xml"], formats.MIME_TYPES["json"]],
            }
        ],
    }


def offered() -> QuerySet[Category]:
    return Category.objects.filter(active=True).select_related("department")


def as_service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.service_code,
        "service_name": category.name,
        "description": category.description,
        # Categories ask for nothing beyond the spec's fields: no service definition needed.
        "metadata": False,
        "type": "realtime",
        # The descriptions are short lists of what belongs there ("Schilder, Ampeln, …").
        "keywords": category.description,
        "group": category.department.name if category.department else "",
    }


def definition(category: Category) -> dict[str, Any]:
    """With metadata false the spec needs no definition; one with no attributes is still
    given for clients that ask for it anyway."""
    return {"service_code": category.service_code, "attributes": []}


def _concerns() -> QuerySet[Concern]:
    return Concern.objects.select_related("category", "department", "photo")


def as_request(concern: Concern) -> dict[str, Any]:
    """The spec's fields in the spec's order; what is unknown here is None (empty/null)."""
    return {
        "service_request_id": concern.reference,
        "status": "open" if concern.is_open else "closed",
        "status_notes": concern.status_note or None,
        "service_name": concern.category.name,
        "service_code": concern.category.service_code,
        "description": concern.description or None,
        "agency_responsible": concern.department.name if concern.department else None,
        "service_notice": None,
        "requested_datetime": formats.w3c(concern.created_at),
        "updated_datetime": formats.w3c(concern.updated_at),
        "expected_datetime": None,
        "address": concern.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": concern.latitude,
        "long": concern.longitude,
        "media_url": concern.media_url or media.photo_url(concern),
    }


def by_reference(reference: str) -> Concern | None:
    return _concerns().filter(reference=reference).first()


def matching(query: Query) -> list[Concern]:
    """Newest first, at most the spec's 1,000."""
    if query.references:
        found = _concerns().filter(reference__in=query.references)
    else:
        assert query.start is not None and query.end is not None
        found = _concerns().filter(created_at__gte=query.start, created_at__lte=query.end)
        if query.service_codes:
            found = found.filter(category__service_code__in=query.service_codes)
        if len(query.statuses) == 1:
            resolved = Q(status=Status.RESOLVED)
            found = found.filter(resolved if query.statuses[0] == "closed" else ~resolved)
    return list(found.order_by("-created_at", "-id")[:RESULTS_MAX])


def create(new: NewRequest, by: User) -> Concern:
    """A concern from another system, recorded in the audit log with the key's account."""
    with transaction.atomic():
        concern = actions.create_concern(
            category=new.category,
            description=new.description,
            latitude=new.latitude,
            longitude=new.longitude,
            address=new.address,
            media_url=new.media_url,
            source=Concern.Source.OPEN311,
        )
        audit.record(
            by, "concern.created", concern, source="open311", service=new.category.service_code
        )
    return concern
