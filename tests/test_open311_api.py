"""Open311 GeoReport v2 under /open311/v2/: every endpoint in JSON and XML, checked against
the specification's own examples (wiki.open311.org/GeoReport_v2, written out below as data),
and every way a request can be wrong."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from django.conf import settings
from django.core import signing
from django.test import Client, override_settings
from django.utils import timezone

from stadtbote.accounts import roles
from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.accounts.tokens import create_token
from stadtbote.inbox import actions
from stadtbote.inbox.models import Category, Concern, Message, Status
from stadtbote.inbox.open311 import formats, media, service_requests
from tests.helpers import ALICE, active_subscriber, staff_with_roles

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
FORM = "application/x-www-form-urlencoded"

# --- The specification's examples, as data ---------------------------------------------------

SPEC_SERVICES_XML = """<?xml version="1.0" encoding="utf-8"?>
<services>
    <service>
        <service_code>001</service_code>
        <service_name>Cans left out 24x7</service_name>
        <description>Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.</description>
        <metadata>true</metadata>
        <type>realtime</type>
        <keywords>lorem, ipsum, dolor</keywords>
        <group>sanitation</group>
    </service>
</services>"""
SPEC_SERVICES_JSON: list[dict[str, Any]] = [
    {
        "service_code": "001",
        "service_name": "Cans left out 24x7",
        "description": "Garbage or recycling cans that have been left out for more than 24 "
        "hours after collection. Violators will be cited.",
        "metadata": True,
        "type": "realtime",
        "keywords": "lorem, ipsum, dolor",
        "group": "sanitation",
    }
]
SPEC_DEFINITION_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_definition>
    <service_code>DMV66</service_code>
    <attributes>
        <attribute>
            <variable>true</variable>
            <code>WHISHETN</code>
            <datatype>singlevaluelist</datatype>
            <required>true</required>
            <datatype_description></datatype_description>
            <order>1</order>
            <description>What is the ticket/tag/DL number?</description>
            <values>
                <value><key>123</key><name>Ford</name></value>
                <value><key>124</key><name>Chrysler</name></value>
            </values>
        </attribute>
    </attributes>
</service_definition>"""
SPEC_DEFINITION_JSON = {
    "service_code": "DMV66",
    "attributes": [
        {
            "variable": True,
            "code": "WHISHETN",
            "datatype": "singlevaluelist",
            "required": True,
            "datatype_description": None,
            "order": 1,
            "description": "What is the ticket/tag/DL number?",
            "values": [{"key": 123, "name": "Ford"}, {"key": 124, "name": "Chrysler"}],
        }
    ],
}
SPEC_POST_BODY = (
    "api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043"
    "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111"
    "&account_id=123456&first_name=john&last_name=smith&phone=111111111"
    "&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
    "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001"
)
SPEC_POST_RESPONSE_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>293944</service_request_id>
        <service_notice>The City will inspect and require the responsible party to correct within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public Works Code</service_notice>
        <account_id/>
    </request>
</service_requests>"""
SPEC_POST_RESPONSE_JSON = [
    {
        "service_request_id": 293944,
        "service_notice": "The City will inspect and require the responsible party to correct "
        "within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public "
        "Works Code",
        "account_id": None,
    }
]
SPEC_REQUESTS_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>638344</service_request_id>
        <status>closed</status>
        <status_notes>Duplicate request.</status_notes>
        <service_name>Sidewalk and Curb Issues</service_name>
        <service_code>006</service_code>
        <description></description>
        <agency_responsible></agency_responsible>
        <service_notice></service_notice>
        <requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
        <updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
        <expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
        <address>8TH AVE and JUDAH ST</address>
        <address_id>545483</address_id>
        <zipcode>94122</zipcode>
        <lat>37.762221815</lat>
        <long>-122.4651145</long>
        <media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg</media_url>
    </request>
</service_requests>"""
SPEC_REQUESTS_JSON = [
    {
        "service_request_id": 638344,
        "status": "closed",
        "status_notes": "Duplicate request.",
        "service_name": "Sidewalk and Curb Issues",
        "service_code": "006",
        "description": None,
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": "2010-04-14T06:37:38-08:00",
        "updated_datetime": "2010-04-14T06:37:38-08:00",
        "expected_datetime": "2010-04-15T06:37:38-08:00",
        "address": "8TH AVE and JUDAH ST",
        "address_id": 545483,
        "zipcode": 94122,
        "lat": 37.762221815,
        "long": -122.4651145,
        "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg",
    }
]
SPEC_ERRORS_XML = """<?xml version="1.0" encoding="utf-8"?>
<errors>
    <error>
        <code>403</code>
        <description>Invalid api_key received -- can't proceed with create_request.</description>
    </error>
</errors>"""
SPEC_ERRORS_JSON = [
    {"code": 403, "description": "Invalid api_key received -- can't proceed with create_request."}
]
SPEC_DISCOVERY_XML = """<?xml version="1.0" encoding="UTF-8"?>
<discovery>
    <changeset>2011-02-03 14:18</changeset>
    <contact>You can email or call for assistance api@mycity.org +1 (555) 555-5555</contact>
    <key_service>You can request a key here: http://api.mycity.gov/api_key/request</key_service>
    <endpoints>
        <endpoint>
            <specification>http://wiki.open311.org/GeoReport_v2</specification>
            <url>http://open311.mycity.gov/test/v2</url>
            <changeset>2010-10-02 09:01</changeset>
            <type>test</type>
            <formats>
                <format>text/xml</format>
                <format>application/json</format>
            </formats>
        </endpoint>
    </endpoints>
</discovery>"""
SPEC_DISCOVERY_JSON = {
    "changeset": "2011-02-03 14:18",
    "contact": "You can email or call for assistance api@mycity.org +1 (555) 555-5555",
    "key_service": "You can request a key here: http://api.mycity.gov/api_key/request",
    "endpoints": [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://open311.mycity.gov/test/v2",
            "changeset": "2010-10-02 09:01",
            "type": "test",
            "formats": ["text/xml", "application/json"],
        }
    ],
}


def tree(element: ET.Element) -> Any:
    """An element as (tag, text) or (tag, [children]): what two documents share when they
    say the same thing; an empty element and a missing text are alike."""
    children = list(element)
    if children:
        return (element.tag, [tree(child) for child in children])
    return (element.tag, (element.text or "").strip())


def shape(element: ET.Element) -> Any:
    """Only the element names, in order: what our documents must share with the spec's."""
    children = list(element)
    return (element.tag, [shape(child) for child in children]) if children else element.tag


def spark(data: Any) -> Any:
    """JSON as the spec's XML examples would read it back: every leaf as its text."""
    if isinstance(data, dict):
        return {k: spark(v) for k, v in data.items()}
    if isinstance(data, list):
        return [spark(v) for v in data]
    if data is None:
        return ""
    if isinstance(data, bool):
        return "true" if data else "false"
    return str(data)


@pytest.mark.parametrize(
    ("root", "as_json", "as_xml"),
    [
        ("services", SPEC_SERVICES_JSON, SPEC_SERVICES_XML),
        ("service_definition", SPEC_DEFINITION_JSON, SPEC_DEFINITION_XML),
        ("service_requests", SPEC_POST_RESPONSE_JSON, SPEC_POST_RESPONSE_XML),
        ("service_requests", SPEC_REQUESTS_JSON, SPEC_REQUESTS_XML),
        ("errors", SPEC_ERRORS_JSON, SPEC_ERRORS_XML),
        ("discovery", SPEC_DISCOVERY_JSON, SPEC_DISCOVERY_XML),
    ],
)
def test_the_specs_json_examples_render_as_its_xml_examples(root, as_json, as_xml):
    ours = formats.to_xml(root, as_json)
    assert ours.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert tree(ET.fromstring(ours)) == tree(ET.fromstring(as_xml.encode()))
    assert json.loads(formats.to_json(as_json)) == as_json


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def keys(people):
    """API tokens: an agent's (reads and creates), the same agent's read-only one, and a
    viewer's (may neither)."""
    return {
        "agent": create_token(people["gerd"]),
        "reader": create_token(people["gerd"], read_only=True),
        "viewer": create_token(people["vera"]),
    }


@pytest.fixture
def media_dir(tmp_path):
    with override_settings(INBOX_MEDIA_DIR=tmp_path):
        yield tmp_path


def get(client: Client, path: str, **params: Any) -> Any:
    return client.get(f"{BASE}/{path}", params)


def post(client: Client, path: str, body: dict[str, Any] | str) -> Any:
    data = body if isinstance(body, str) else urlencode(body)
    return client.post(f"{BASE}/{path}", data=data, content_type=FORM)


def valid(key: str, **changes: Any) -> dict[str, Any]:
    body = {
        "api_key": key,
        "service_code": "beleuchtung",
        "lat": "50.80781",
        "long": "8.77068",
        "description": "Laterne flackert seit Tagen.",
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def errors_of(response: Any) -> list[dict[str, Any]]:
    if response["Content-Type"].startswith("text/xml"):
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        return [
            {"code": int(e.findtext("code") or 0), "description": e.findtext("description")}
            for e in root.iter("error")
        ]
    return response.json()


def refused(response: Any, status: int, fragment: str = "") -> None:
    assert response.status_code == status, response.content
    listed = errors_of(response)
    assert listed and all(entry["code"] == status for entry in listed)
    assert fragment in " ".join(entry["description"] for entry in listed)


def chat_concern(media_dir=None, **changes: Any) -> Concern:
    """A concern as the chat reports it, with a citizen behind it."""
    conversation = actions.conversation_of(active_subscriber(ALICE))
    photo = None
    if media_dir is not None:
        (media_dir / "ab").mkdir(exist_ok=True)
        (media_dir / "ab" / "photo1.jpg").write_bytes(b"\xff\xd8JPEGDATA")
        photo = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.IN,
            kind=Message.Kind.IMAGE,
            created_at=timezone.now(),
            media_state=Message.MediaState.STORED,
            file="ab/photo1.jpg",
            mime_type=changes.pop("mime_type", "image/jpeg"),
        )
    fields = {
        "category": Category.objects.get(service_code="strasse-gehweg"),
        "description": "Schlagloch vor dem Rathaus",
        "latitude": 50.8095,
        "longitude": 8.7707,
        "address": "Markt 1",
        "conversation": conversation,
        "photo": photo,
    }
    return actions.create_concern(**(fields | changes))


# --- Discovery and services -------------------------------------------------------------------


def test_discovery_names_this_installation_in_both_formats(client):
    as_json = get(client, "discovery.json")
    assert as_json.status_code == 200
    assert as_json["Content-Type"] == "application/json; charset=utf-8"
    document = as_json.json()
    assert set(document) == set(SPEC_DISCOVERY_JSON)
    (endpoint,) = document["endpoints"]
    assert set(endpoint) == set(SPEC_DISCOVERY_JSON["endpoints"][0])
    assert endpoint["url"] == f"{settings.PUBLIC_URL}/open311/v2"
    assert endpoint["type"] == "production"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]

    as_xml = get(client, "discovery.xml")
    assert as_xml["Content-Type"] == "text/xml; charset=utf-8"
    assert as_xml.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(as_xml.content)
    assert shape(root) == shape(ET.fromstring(SPEC_DISCOVERY_XML.encode()))
    assert root.findtext("endpoints/endpoint/url") == endpoint["url"]


def test_services_list_the_offered_categories_as_the_spec_shapes_them(client):
    Category.objects.filter(service_code="sonstiges").update(active=False)
    listed = get(client, "services.json").json()
    codes = [s["service_code"] for s in listed]
    assert "sonstiges" not in codes and "beleuchtung" in codes
    lighting = next(s for s in listed if s["service_code"] == "beleuchtung")
    assert set(lighting) == set(SPEC_SERVICES_JSON[0])
    assert lighting == {
        "service_code": "beleuchtung",
        "service_name": "Beleuchtung",
        "description": "Straßenlaterne defekt",
        "metadata": False,
        "type": "realtime",
        "keywords": "Straßenlaterne defekt",
        "group": "Tiefbauamt",
    }

    root = ET.fromstring(get(client, "services.xml").content)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == codes
    spec_service = shape(ET.fromstring(SPEC_SERVICES_XML.encode()))[1][0]
    assert all(shape(s) == spec_service for s in root)
    assert root.find("service[service_code='beleuchtung']/metadata").text == "false"  # type: ignore[union-attr]


def test_a_known_service_has_a_definition_without_attributes(client):
    assert get(client, "services/muell.json").json() == {
        "service_code": "muell",
        "attributes": [],
    }
    root = ET.fromstring(get(client, "services/muell.xml").content)
    assert tree(root) == ("service_definition", [("service_code", "muell"), ("attributes", "")])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_or_withdrawn_service_is_404(client, fmt):
    refused(get(client, f"services/nope.{fmt}"), 404, "service_code")
    Category.objects.filter(service_code="muell").update(active=False)
    refused(get(client, f"services/muell.{fmt}"), 404, "service_code")


@pytest.mark.parametrize(
    "path", ["services.html", "services", "discovery.yaml", "requests.csv", "tokens/12.json"]
)
def test_unknown_formats_and_resources_are_404_in_the_error_format(client, path):
    response = get(client, path)
    refused(response, 404)


def test_a_wrong_method_is_refused_in_the_error_format(client):
    response = client.delete(f"{BASE}/requests.json")
    refused(response, 405)
    assert response["Allow"] == "GET, POST"
    refused(client.post(f"{BASE}/services.json", data="", content_type=FORM), 405)
    assert client.head(f"{BASE}/services.json").status_code == 200


@override_settings(OPEN311_JURISDICTION="marburg.de")
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_another_jurisdiction_is_not_found_here(client, keys, fmt):
    refused(get(client, f"services.{fmt}", jurisdiction_id="coburg.de"), 404, "jurisdiction_id")
    refused(post(client, f"requests.{fmt}", valid(keys["agent"], jurisdiction_id="x")), 404)
    assert not Concern.objects.exists()
    # Naming it right, or not at all (one jurisdiction is served), is fine.
    assert get(client, f"services.{fmt}", jurisdiction_id="marburg.de").status_code == 200
    assert get(client, f"services.{fmt}", jurisdiction_id="").status_code == 200
    assert post(client, f"requests.{fmt}", valid(keys["agent"], jurisdiction_id="marburg.de"))


# --- Creating requests ------------------------------------------------------------------------


def test_the_specs_example_request_creates_a_concern_and_keeps_no_contact_details(client, keys):
    body = SPEC_POST_BODY.replace("api_key=xyz", f"api_key={keys['agent']}").replace(
        "service_code=001", "service_code=strasse-gehweg"
    )
    response = post(client, "requests.xml", body)
    assert response.status_code == 200, response.content
    root = ET.fromstring(response.content)
    assert shape(root) == shape(ET.fromstring(SPEC_POST_RESPONSE_XML.encode()))
    reference = root.findtext("request/service_request_id")
    assert root.find("request/account_id").text is None  # type: ignore[union-attr]

    concern = Concern.objects.get()
    assert concern.reference == reference
    assert concern.source == Concern.Source.OPEN311
    assert concern.category.service_code == "strasse-gehweg"
    assert concern.description == "A large sinkhole is destroying the street"
    assert (concern.latitude, concern.longitude) == (37.76524078, -122.4212043)
    assert concern.address == "1234 5th street"
    assert concern.media_url == "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg"
    assert concern.conversation is None
    # Name, e-mail, phone, device, account and the attributes are nowhere.
    stored = json.dumps(
        [list(Concern.objects.values().get().values()), list(AuditEntry.objects.values())],
        default=str,
    )
    for personal in ("smit333", "john", "smith", "111111111", "tt222111", "123456", "COISL001"):
        assert personal not in stored


def test_a_created_request_reads_back_the_same_in_both_formats(client, keys):
    created = post(client, "requests.json", valid(keys["agent"], address_string="Markt 1"))
    assert created.status_code == 200
    (answer,) = created.json()
    assert set(answer) == set(SPEC_POST_RESPONSE_JSON[0])
    assert answer["service_notice"] and answer["account_id"] is None
    reference = answer["service_request_id"]

    (one,) = get(client, f"requests/{reference}.json", api_key=keys["reader"]).json()
    listed = get(client, "requests.json", api_key=keys["reader"]).json()
    assert listed == [one]
    assert set(one) == set(SPEC_REQUESTS_JSON[0])
    concern = Concern.objects.get(reference=reference)
    assert one == {
        "service_request_id": reference,
        "status": "open",
        "status_notes": None,
        "service_name": "Beleuchtung",
        "service_code": "beleuchtung",
        "description": "Laterne flackert seit Tagen.",
        "agency_responsible": "Tiefbauamt",
        "service_notice": None,
        "requested_datetime": formats.w3c(concern.created_at),
        "updated_datetime": formats.w3c(concern.updated_at),
        "expected_datetime": None,
        "address": "Markt 1",
        "address_id": None,
        "zipcode": None,
        "lat": 50.80781,
        "long": 8.77068,
        "media_url": None,
    }
    root = ET.fromstring(get(client, f"requests/{reference}.xml", api_key=keys["reader"]).content)
    assert shape(root) == shape(ET.fromstring(SPEC_REQUESTS_XML.encode()))
    assert tree(root) == tree(ET.fromstring(formats.to_xml("service_requests", [one])))
    assert tree(root)[1][0][1] == [(k, v) for k, v in spark(one).items()]


def test_dates_are_w3c_with_the_offset():
    winter = datetime(2026, 1, 15, 12, 0, 5, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, 0, 5, tzinfo=UTC)
    assert formats.w3c(winter) == "2026-01-15T13:00:05+01:00"
    assert formats.w3c(summer) == "2026-07-15T14:00:05+02:00"
    assert formats.w3c(None) is None


def test_creation_is_audited_with_the_keys_account(client, keys, people):
    reference = post(client, "requests.json", valid(keys["agent"])).json()[0]["service_request_id"]
    entry = AuditEntry.objects.get(action="concern.created")
    assert entry.actor_id == people["gerd"].pk
    assert entry.via == "api"
    assert entry.target_label == reference
    assert entry.details == {"source": "open311", "service": "beleuchtung"}


def test_the_post_needs_no_csrf_token(keys):
    strict = Client(enforce_csrf_checks=True)
    assert post(strict, "requests.json", valid(keys["agent"])).status_code == 200


def test_the_key_may_also_come_as_a_bearer_token(client, keys):
    body = valid(keys["agent"])
    del body["api_key"]
    response = client.post(
        f"{BASE}/requests.json",
        data=urlencode(body),
        content_type=FORM,
        HTTP_AUTHORIZATION=f"Bearer {keys['agent']}",
    )
    assert response.status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("who", "fragment"),
    [
        (None, "not provided"),
        ("", "not provided"),
        ("sbt_wrong", "Invalid api_key"),
        ("reader", "only read"),
        ("viewer", "may not create"),
    ],
)
def test_creating_needs_a_key_that_may_create(client, keys, fmt, who, fragment):
    key = keys.get(who, who)
    body = valid("x")
    body.pop("api_key")
    if key is not None:
        body["api_key"] = key
    refused(post(client, f"requests.{fmt}", body), 403, fragment)
    assert not Concern.objects.exists()


def test_a_revoked_key_or_deactivated_account_is_refused(client, keys, people):
    people["gerd"].is_active = False
    people["gerd"].save()
    refused(post(client, "requests.json", valid(keys["agent"])), 403, "Invalid api_key")
    refused(get(client, "requests.json", api_key=keys["reader"]), 403, "Invalid api_key")


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"lat": "abc"}, "lat must be a number"),
        ({"lat": "91"}, "lat must be a number"),
        ({"lat": "-90.0001"}, "lat must be a number"),
        ({"lat": "NaN"}, "lat must be a number"),
        ({"lat": "1e999"}, "lat must be a number"),
        ({"lat": "inf"}, "lat must be a number"),
        ({"lat": "5_0"}, "lat must be a number"),
        ({"long": "181"}, "long must be a number"),
        ({"long": "-1e999"}, "long must be a number"),
        ({"long": None}, "lat and long must be given together"),
        ({"lat": None, "long": None}, "A location is required"),
        ({"lat": " ", "long": ""}, "A location is required"),
        ({"description": "x" * 4001}, "description may have at most 4000"),
        ({"media_url": "ftp://example.org/a.jpg"}, "media_url"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"media_url": "http://"}, "media_url"),
        ({"media_url": "https://example.org/" + "a" * 1000}, "media_url"),
        ({"address_string": "a" * 256}, "address_string"),
        ({"address_id": "1" * 101}, "address_id"),
        ({"service_code": None}, "service_code was not provided"),
        ({"service_code": "  "}, "service_code was not provided"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_malformed_requests_are_400_with_the_reason(client, keys, changes, fragment, fmt):
    refused(post(client, f"requests.{fmt}", valid(keys["agent"], **changes)), 400, fragment)
    assert not Concern.objects.exists()


def test_all_reasons_come_at_once(client, keys):
    body = valid(keys["agent"], lat="abc", long="999", description="x" * 4001, service_code=None)
    listed = errors_of(post(client, "requests.xml", body))
    assert len(listed) == 4
    assert {e["code"] for e in listed} == {400}


def test_a_parameter_given_twice_is_refused(client, keys):
    body = urlencode(valid(keys["agent"])) + "&service_code=muell"
    refused(post(client, "requests.json", body), 400, "service_code was given more than once")
    assert not Concern.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_or_withdrawn_service_code_is_404(client, keys, fmt):
    refused(post(client, f"requests.{fmt}", valid(keys["agent"], service_code="nope")), 404)
    Category.objects.filter(service_code="beleuchtung").update(active=False)
    refused(post(client, f"requests.{fmt}", valid(keys["agent"])), 404, "service_code")
    assert not Concern.objects.exists()


def test_location_may_be_an_address_or_an_address_id(client, keys):
    by_address = valid(keys["agent"], lat=None, long=None, address_string="Am Grün 2")
    assert post(client, "requests.json", by_address).status_code == 200
    by_id = valid(keys["agent"], lat=None, long=None, address_id="4711")
    assert post(client, "requests.json", by_id).status_code == 200
    assert sorted(Concern.objects.values_list("address", flat=True)) == [
        "Am Grün 2",
        "address_id 4711",
    ]


def test_a_json_body_is_refused_with_the_reason(client, keys):
    response = client.post(
        f"{BASE}/requests.json", data=valid(keys["agent"]), content_type="application/json"
    )
    refused(response, 400, "form-encoded")


def test_an_oversized_body_is_refused_before_it_is_read(client, keys):
    body = urlencode(valid(keys["agent"], description="x" * 200_000))
    refused(post(client, "requests.xml", body), 413, "at most 128 KB")
    assert not Concern.objects.exists()


# --- Reading requests -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("who", "fragment"),
    [(None, "not provided"), ("sbt_nope", "Invalid"), ("viewer", "may not read")],
)
def test_reading_needs_a_key_that_may_read(client, keys, fmt, who, fragment):
    concern = chat_concern()
    params = {} if who is None else {"api_key": keys.get(who, who)}
    refused(get(client, f"requests.{fmt}", **params), 403, fragment)
    refused(get(client, f"requests/{concern.reference}.{fmt}", **params), 403, fragment)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_request_is_404(client, keys, fmt):
    refused(get(client, f"requests/M-2026-99999.{fmt}", api_key=keys["reader"]), 404)


def test_a_chat_concern_shows_no_trace_of_the_citizen(client, keys, media_dir):
    concern = chat_concern(media_dir)
    for fmt in ("json", "xml"):
        body = get(client, f"requests/{concern.reference}.{fmt}", api_key=keys["reader"]).content
        assert ALICE.encode() not in body
        assert b"conversation" not in body
        assert b"Schlagloch vor dem Rathaus" in body
    (one,) = get(client, f"requests/{concern.reference}.json", api_key=keys["reader"]).json()
    assert one["media_url"].startswith(f"{settings.PUBLIC_URL}/open311/v2/media/")


def test_the_photo_address_serves_the_photo_while_it_is_valid(client, keys, media_dir, monkeypatch):
    concern = chat_concern(media_dir)
    url = media.photo_url(concern)
    assert url is not None
    path = url.removeprefix(settings.PUBLIC_URL)
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == b"\xff\xd8JPEGDATA"

    refused_paths = [path[:-2] + ("AA" if not path.endswith("AA") else "BB"), f"{BASE}/media/x"]
    for wrong in refused_paths:
        assert client.get(wrong).status_code == 404
    # A week later it has expired.
    monkeypatch.setattr(media, "MAX_AGE", timedelta(seconds=-1))
    assert client.get(path).status_code == 404
    monkeypatch.undo()
    # Taken off the concern (or erased), its address stops working.
    Concern.objects.filter(pk=concern.pk).update(photo=None)
    assert client.get(path).status_code == 404


def test_a_photo_address_for_one_concern_does_not_open_another(client, media_dir):
    concern = chat_concern(media_dir)
    other = chat_concern()
    forged = signing.dumps([other.pk, concern.photo_id], salt=media.SALT)
    assert client.get(f"{BASE}/media/{forged}").status_code == 404


def test_a_file_that_is_no_picture_is_only_offered_for_download(client, media_dir):
    concern = chat_concern(media_dir, mime_type="text/html")
    url = media.photo_url(concern)
    assert url is not None
    response = client.get(url.removeprefix(settings.PUBLIC_URL))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_a_photo_not_yet_downloaded_has_no_address_for_readers(client, keys, media_dir):
    concern = chat_concern(media_dir)
    Message.objects.filter(pk=concern.photo_id).update(media_state=Message.MediaState.PENDING)
    concern.refresh_from_db()
    (one,) = get(client, f"requests/{concern.reference}.json", api_key=keys["reader"]).json()
    assert one["media_url"] is None


def test_descriptions_are_escaped_in_xml_and_kept_exactly(client, keys):
    text = 'Loch <b>groß</b> & "tief" > 1m; </description><x>'
    reference = post(client, "requests.xml", valid(keys["agent"], description=text))
    root = ET.fromstring(reference.content)
    ref = root.findtext("request/service_request_id")
    xml = get(client, f"requests/{ref}.xml", api_key=keys["reader"]).content
    assert b"<b>" not in xml and b"&lt;b&gt;" in xml and b"&amp;" in xml
    assert ET.fromstring(xml).findtext("request/description") == text
    (one,) = get(client, f"requests/{ref}.json", api_key=keys["reader"]).json()
    assert one["description"] == text


def test_characters_xml_cannot_carry_are_dropped_not_fatal(client, keys):
    concern = chat_concern(description="Klingel\x07 kaputt\x1b")
    xml = get(client, f"requests/{concern.reference}.xml", api_key=keys["reader"]).content
    assert ET.fromstring(xml).findtext("request/description") == "Klingel kaputt"


def test_control_characters_sent_by_a_client_are_not_stored(client, keys):
    body = valid(keys["agent"], description="Ampel\x00 aus\x07", address_string="Weg\x00 1")
    assert post(client, "requests.json", body).status_code == 200
    concern = Concern.objects.get()
    assert (concern.description, concern.address) == ("Ampel aus", "Weg 1")


@pytest.mark.parametrize(
    "path",
    ["services/muell%00.json", "requests/M-2026-00001%00.json", "requests/%00.xml"],
)
def test_a_nul_in_an_identifier_is_simply_not_found(client, keys, path):
    chat_concern()
    refused(client.get(f"{BASE}/{path}", {"api_key": keys["reader"]}), 404)


def test_a_nul_in_a_filter_is_harmless(client, keys):
    chat_concern()
    response = get(client, "requests.json", api_key=keys["reader"], service_code="muell\x00")
    assert response.status_code == 200 and response.json() == []
    response = get(client, "requests.json", api_key=keys["reader"], service_request_id="\x00")
    assert response.status_code == 200


def _aged(concern: Concern, days: float) -> Concern:
    when = timezone.now() - timedelta(days=days)
    Concern.objects.filter(pk=concern.pk).update(created_at=when)
    concern.refresh_from_db()
    return concern


def test_requests_are_filtered_as_the_spec_says(client, keys):
    old = _aged(chat_concern(description="alt"), 100)
    lamp = _aged(chat_concern(category=Category.objects.get(service_code="beleuchtung")), 2)
    hole = _aged(chat_concern(), 1)
    actions.set_concern_status(lamp, Status.RESOLVED, note="Repariert")
    key = keys["reader"]

    def ids(**params: Any) -> list[str]:
        response = get(client, "requests.json", api_key=key, **params)
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in response.json()]

    # Newest first; by default the last 90 days.
    assert ids() == [hole.reference, lamp.reference]
    assert ids(status="closed") == [lamp.reference]
    assert ids(status="open") == [hole.reference]
    assert ids(status="open,closed") == [hole.reference, lamp.reference]
    assert ids(service_code="beleuchtung") == [lamp.reference]
    assert ids(service_code="beleuchtung,strasse-gehweg") == [hole.reference, lamp.reference]
    start = (timezone.now() - timedelta(days=120)).isoformat()
    assert ids(start_date=start) == [old.reference]
    end = (timezone.now() - timedelta(days=1, hours=12)).isoformat()
    assert ids(end_date=end) == [lamp.reference]
    # service_request_id overrides everything else, the 90 days too.
    assert ids(service_request_id=f"{old.reference}, {hole.reference}", status="closed") == [
        hole.reference,
        old.reference,
    ]
    (closed,) = get(client, "requests.json", api_key=key, status="closed").json()
    assert closed["status_notes"] == "Repariert"


def test_dates_may_be_utc_offsets_or_plain_dates(client, keys):
    concern = _aged(chat_concern(), 1)
    day = timezone.localdate(concern.created_at)
    for start in (f"{day}", f"{day}T00:00:00+01:00", f"{day - timedelta(days=1)}T23:00:00Z"):
        response = get(client, "requests.json", api_key=keys["reader"], start_date=start)
        assert [r["service_request_id"] for r in response.json()] == [concern.reference], start


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"status": "pending"}, "status must be open or closed"),
        ({"start_date": "yesterday"}, "start_date must be a W3C date"),
        ({"start_date": "2026-01-01T00:00:00"}, "with a time zone"),
        ({"end_date": "2026-13-01"}, "end_date must be a W3C date"),
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
            "more than 90 days",
        ),
        ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "before"),
        ({"start_date": "9999-12-31T00:00:00Z"}, "out of range"),
        ({"end_date": "0001-01-02T00:00:00Z"}, "out of range"),
        ({"service_request_id": ",".join(f"M-1-{n}" for n in range(1001))}, "at most 1000"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_malformed_filters_are_400_with_the_reason(client, keys, params, fragment, fmt):
    refused(get(client, f"requests.{fmt}", api_key=keys["reader"], **params), 400, fragment)


def test_at_most_the_limit_is_listed(client, keys, monkeypatch):
    monkeypatch.setattr(service_requests, "RESULTS_MAX", 2)
    made = [chat_concern() for _ in range(3)]
    listed = get(client, "requests.json", api_key=keys["reader"]).json()
    assert [r["service_request_id"] for r in listed] == [c.reference for c in made[:0:-1]]


# --- Over real HTTP, as another system would -------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_open311_client_creates_and_reads_the_same_concern_over_http(
    live_server, django_user_model
):
    # Other tests in real transactions may have emptied the tables, roles included.
    roles.sync_roles()
    key = create_token(staff_with_roles(django_user_model, otto=Role.AGENT)["otto"])
    chat = chat_concern()
    with httpx.Client(base_url=f"{live_server.url}{BASE}", timeout=10) as http:
        services = http.get("/services.xml")
        assert services.status_code == 200
        created = http.post(
            "/requests.json",
            data=valid(key, service_code="muell", description="Sperrmüll am Weg"),
        )
        assert created.status_code == 200, created.text
        reference = created.json()[0]["service_request_id"]
        listed = http.get("/requests.json", params={"api_key": key}).json()
        assert {r["service_request_id"] for r in listed} == {reference, chat.reference}
        (mine,) = http.get(f"/requests/{reference}.json", params={"api_key": key}).json()
        assert mine["description"] == "Sperrmüll am Weg"
        assert mine["service_code"] == "muell"


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "multipart/form-data; boundary=xyz"]
)
def test_a_broken_multipart_body_is_400(client, keys, content_type):
    response = client.post(f"{BASE}/requests.json", data=b"--nonsense", content_type=content_type)
    # Unreadable, or read as empty (then the key is missing first).
    assert response.status_code in (400, 403)
    assert errors_of(response)
    assert not Concern.objects.exists()


def test_a_multipart_form_is_taken_too(client, keys):
    assert client.post(f"{BASE}/requests.xml", valid(keys["agent"])).status_code == 200
