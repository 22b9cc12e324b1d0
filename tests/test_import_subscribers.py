from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.importing import ImportFileError, import_csv
from stadtbote.subscribers.models import ConsentEvent, Subscriber, Topic

pytestmark = pytest.mark.django_db

HEADER = "phone,consented_at,consent_source,topics,districts,language\n"


@pytest.fixture(autouse=True)
def topics():
    Topic.objects.create(name="Baustellen & Verkehr", slug="baustellen-verkehr")
    Topic.objects.create(name="Veranstaltungen", slug="veranstaltungen")


def run(text: str):
    return import_csv(io.StringIO(text))


def test_it_imports_subscribers_with_topics_and_consent_proof():
    report = run(
        HEADER
        + "0170 1234567,2025-03-01,Anbieter X Export,Veranstaltungen;baustellen-verkehr,,de\n"
        + "+49 (0)171 7654321,2025-04-02T09:30,Anbieter X Export,,,en\n"
    )
    assert (report.imported, report.skipped) == (2, 0)
    alice = subscribers.find("491701234567")
    assert alice.status == Subscriber.Status.ACTIVE
    assert alice.topics.count() == 2
    assert subscribers.find("491717654321").language == "en"
    event = ConsentEvent.objects.get(subscriber_ref=alice.phone_index)
    assert event.action == "imported"
    assert event.channel == "import"
    assert "2025-03-01" in event.wording
    assert "Anbieter X Export" in event.wording


def test_running_it_twice_imports_nothing_more():
    text = HEADER + "0170 1234567,2025-03-01,X,,,\n"
    run(text)
    report = run(text)
    assert (report.imported, report.already_known) == (0, 1)
    assert ConsentEvent.objects.count() == 1


def test_someone_who_unsubscribed_here_is_not_subscribed_again():
    subscriber = subscribers.find_or_create("491701234567")
    subscribers.request_subscription(subscriber, wording="q")
    subscribers.confirm_subscription(subscriber, wording="w")
    subscribers.unsubscribe(subscriber, wording="bye")
    run(HEADER + "0170 1234567,2025-03-01,X,,,\n")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("12345,2025-03-01,X,,,", "not a valid number"),
        ("abc,2025-03-01,X,,,", "cannot be read"),
        (",2025-03-01,X,,,", "phone is empty"),
        ("0911 123456,2025-03-01,X,,,", "not a mobile number"),
        ("0170 1234567,yesterday,X,,,", "not a date"),
        ("0170 1234567,2999-01-01,X,,,", "future"),
        ("0170 1234567,2025-03-01,,,,", "consent_source is empty"),
        ("0170 1234567,2025-03-01,X,Sport,,", "unknown topic: Sport"),
        ("0170 1234567,2025-03-01,X,,Mars,", "unknown district: Mars"),
        ("0170 1234567,2025-03-01,X,,,fr", "unknown language"),
    ],
)
def test_bad_rows_are_skipped_with_a_reason_and_never_the_number(row, reason):
    report = run(HEADER + "0171 7654321,2025-03-01,X,,,\n" + row + "\n")
    assert report.imported == 1
    [(line, message)] = report.problems
    assert line == 3
    assert reason in message
    assert "1234567" not in message


def test_a_number_twice_in_the_file_is_imported_once():
    report = run(HEADER + "0170 1234567,2025-03-01,X,,,\n+491701234567,2025-03-02,X,,,\n")
    assert report.imported == 1
    assert report.problems == [(3, "the same number appears earlier in the file")]


def test_a_file_without_the_required_columns_imports_nothing():
    with pytest.raises(ImportFileError, match="consent_source"):
        run("phone,consented_at\n0170 1234567,2025-03-01\n")
    assert not Subscriber.objects.exists()


def test_the_command_reports_and_refuses_bad_files(tmp_path, capsys):
    good = tmp_path / "export.csv"
    good.write_text(HEADER + "0170 1234567,2025-03-01,X,,,\n12,2025-03-01,X,,,\n", encoding="utf-8")
    call_command("import_subscribers", str(good))
    out = capsys.readouterr().out
    assert "Imported 1, already known 0, skipped 1." in out
    assert "row 3:" in out
    with pytest.raises(CommandError, match="not a file"):
        call_command("import_subscribers", str(tmp_path / "missing.csv"))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00phone")
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_subscribers", str(binary))
