"""Every published privacy-notice version is kept with its text, so the data protection
officer can prove what a citizen was shown: a new version is written to the history (from the
newsroom and from the admin), the same version with a changed text is refused, old texts stay
readable, and each version shows how many consents recorded it."""

from __future__ import annotations

import pytest
from django.db import connection

from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.public import privacy_notice
from stadtbote.public.models import NoticeVersion, PageText
from stadtbote.public.pages import DEFAULTS, privacy_notice_version
from stadtbote.subscribers.models import ConsentEvent
from tests.helpers import active_subscriber, staff_login, staff_with_roles

pytestmark = pytest.mark.django_db

URL = "/redaktion/einstellungen/datenschutz/"


@pytest.fixture
def people(django_user_model):
    return staff_with_roles(
        django_user_model, ida=Role.ADMINISTRATOR, dora=Role.DATA_PROTECTION_OFFICER
    )


def _publish(client, version, body, title="Datenschutz"):
    return client.post(
        URL,
        {
            "form": "privacy",
            "privacy-title": title,
            "privacy-body": body,
            "privacy-version": version,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_publishing_a_new_version_writes_the_history_and_the_page(as_, people):
    answer = _publish(as_(people["ida"]), "2026-12", "Wir speichern wenig.\n\nFragen Sie uns.")
    assert answer.status_code == 302
    kept = NoticeVersion.objects.get()
    assert (kept.version, kept.body, kept.published_by_name) == (
        "2026-12",
        "Wir speichern wenig.\n\nFragen Sie uns.",
        "ida",
    )
    assert PageText.objects.get(page="privacy").version == "2026-12"
    assert privacy_notice_version() == "2026-12"
    entry = AuditEntry.objects.get(action="settings.privacy_notice_published")
    assert entry.details["version"][1] == "2026-12"


def test_a_changed_text_under_the_same_version_is_refused(as_, people):
    client = as_(people["ida"])
    _publish(client, "2026-12", "Wir speichern wenig.")
    answer = _publish(client, "2026-12", "Wir speichern alles.")
    assert answer.status_code == 200
    assert "give it a new version" in " ".join(answer.context["notice"].errors["version"])
    assert PageText.objects.get(page="privacy").body == "Wir speichern wenig."
    assert NoticeVersion.objects.count() == 1


def test_spacing_is_no_change_in_substance(as_, people):
    client = as_(people["ida"])
    _publish(client, "2026-12", "Wir speichern wenig.")
    assert _publish(client, "2026-12", "Wir  speichern\nwenig. ").status_code == 302
    assert NoticeVersion.objects.count() == 1
    assert AuditEntry.objects.filter(action="settings.privacy_notice_changed").count() == 1


def test_the_built_in_notice_keeps_its_version_too(as_, people, settings):
    # Consents before a city published its own notice recorded the configured version with
    # the built-in text: that version cannot be reused for another text.
    answer = _publish(as_(people["ida"]), settings.PRIVACY_NOTICE_VERSION, "Anders.")
    assert answer.status_code == 200 and "version" in answer.context["notice"].errors
    title, body = (str(text) for text in DEFAULTS[PageText.Page.PRIVACY])
    assert (
        _publish(as_(people["ida"]), settings.PRIVACY_NOTICE_VERSION, body, title).status_code
        == 302
    )


def test_going_back_to_an_old_version_number_with_a_new_text_is_refused(people):
    privacy_notice.publish(people["ida"], title="T", body="Eins", version="v1")
    privacy_notice.publish(people["ida"], title="T", body="Zwei", version="v2")
    with pytest.raises(privacy_notice.NoticeError, match="new version"):
        privacy_notice.publish(people["ida"], title="T", body="Drei", version="v1")
    with pytest.raises(privacy_notice.NoticeError, match="version"):
        privacy_notice.publish(people["ida"], title="T", body="Drei", version="  ")


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("privacy-version", "x" * 21, "at most 20"),
        ("privacy-title", "", "required"),
        ("privacy-body", "x" * 20001, "at most 20000"),
        ("privacy-version", "", "required"),
    ],
)
def test_malformed_input_is_refused(as_, people, field, value, problem):
    data = {"form": "privacy", "privacy-title": "T", "privacy-body": "B", "privacy-version": "9"}
    answer = as_(people["ida"]).post(URL, {**data, field: value}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    assert problem in " ".join(answer.context["notice"].errors[field.removeprefix("privacy-")])
    assert not NoticeVersion.objects.exists() and not PageText.objects.exists()


def test_old_texts_and_consent_counts_are_shown_to_the_officer(as_, people, settings):
    client = as_(people["ida"])
    _publish(client, "v1", "Der erste Text.")
    active_subscriber("491700000001")
    active_subscriber("491700000002")
    _publish(client, "v2", "Der zweite Text.")
    active_subscriber("491700000003")
    assert ConsentEvent.objects.filter(action="confirmed", notice_version="v1").count() == 2
    page = as_(people["dora"]).get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    history = {v.version: v for v in page.context["history"]}
    assert (history["v1"].consents, history["v2"].consents) == (2, 1)
    assert history["v1"].paragraphs == ["Der erste Text."] and not history["v1"].in_force
    assert history["v2"].in_force
    html = page.content.decode()
    assert "Der erste Text." in html and "Der zweite Text." in html
    assert "2 consents recorded this version." in html
    # The built-in notice's version, which no consent recorded here, is listed too.
    assert history[settings.PRIVACY_NOTICE_VERSION].consents == 0


def test_the_admin_writes_the_history_and_refuses_the_same_version(client, people):
    staff_login(client, people["ida"])
    data = {"page": "privacy", "title": "Datenschutz", "body": "Text A", "version": "a1"}
    assert client.post("/admin/public/pagetext/add/", data).status_code == 302
    page = PageText.objects.get()
    assert NoticeVersion.objects.get().body == "Text A"
    changed = {**data, "body": "Text B"}
    answer = client.post(
        f"/admin/public/pagetext/{page.pk}/change/", changed, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 200 and "new version" in answer.content.decode()
    assert PageText.objects.get().body == "Text A"
    newer = {**changed, "version": "a2"}
    assert client.post(f"/admin/public/pagetext/{page.pk}/change/", newer).status_code == 302
    assert list(NoticeVersion.objects.order_by("pk").values_list("version", "body")) == [
        ("a1", "Text A"),
        ("a2", "Text B"),
    ]


def test_a_published_version_is_never_changed_or_deleted(people):
    privacy_notice.publish(people["ida"], title="T", body="Eins", version="v1")
    kept = NoticeVersion.objects.get()
    kept.body = "Anders"
    with pytest.raises(PermissionError):
        kept.save()
    with pytest.raises(PermissionError):
        kept.delete()


def test_the_subscribe_page_text_is_edited_there_too(as_, people):
    answer = as_(people["ida"]).post(
        URL,
        {"form": "subscribe", "subscribe-title": "Jetzt anmelden", "subscribe-body": "So geht's."},
    )
    assert answer.status_code == 302
    assert PageText.objects.get(page="subscribe").title == "Jetzt anmelden"
    assert "Jetzt anmelden" in as_(people["ida"]).get("/anmelden/").content.decode()
    assert AuditEntry.objects.filter(action="settings.subscribe_page_changed").exists()


def test_counting_consents_per_version_reads_an_index_only():
    sql, params = privacy_notice.consents_per_version().query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "COVERING INDEX consent_notice_idx" in plan, plan
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table: seq scan wins
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "consent_notice_idx" in plan, plan
