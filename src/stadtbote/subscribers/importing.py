"""Importing subscribers from a previous provider's export, with their consent proof.

The CSV has a header row. Columns: `phone` (required; any common way of writing it),
`consented_at` (required; ISO 8601 date or date-time of the opt-in), `consent_source`
(required; where the proof lies, e.g. "Anbieter X, Export 2026-10"), and optionally `topics`
and `districts` (names or slugs, separated by ";"), `language` (de/en).

Rows that cannot be imported are skipped and reported by row number and reason (never with the
number itself). Numbers already known are left alone, so running the same file twice imports
nothing the second time, and a citizen who unsubscribed here is not subscribed again.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import IO, Any

import phonenumbers
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from stadtbote.lib import crypto, phone
from stadtbote.subscribers.models import ConsentEvent, District, Subscriber, Topic

BATCH = 2000
REQUIRED = ("phone", "consented_at", "consent_source")


@dataclass
class ImportReport:
    imported: int = 0
    already_known: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.problems)


@dataclass(frozen=True)
class Row:
    line: int
    number: str
    consented_at: datetime
    source: str
    topics: tuple[str, ...]
    districts: tuple[str, ...]
    language: str


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (e.g. a required column is missing)."""


def import_csv(
    stream: IO[str], *, region: str = "DE", notice_version: str = "import"
) -> ImportReport:
    reader = csv.DictReader(stream)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFileError(f"the header lacks the column(s): {', '.join(missing)}")
    report = ImportReport()
    topics = _lookup(Topic.objects.values_list("pk", "name", "slug"))
    districts = _lookup(District.objects.values_list("pk", "name", "slug"))
    seen: set[str] = set()
    batch: list[Row] = []
    for row in _rows(reader, region, topics, districts, report):
        if row.number in seen:
            report.problems.append((row.line, "the same number appears earlier in the file"))
            continue
        seen.add(row.number)
        batch.append(row)
        if len(batch) >= BATCH:
            _import_batch(batch, topics, districts, notice_version, report)
            batch = []
    if batch:
        _import_batch(batch, topics, districts, notice_version, report)
    return report


def _lookup(rows: Iterable[tuple[int, str, str]]) -> dict[str, int]:
    table: dict[str, int] = {}
    for pk, name, slug in rows:
        table[name.casefold()] = pk
        table[slug.casefold()] = pk
    return table


def _rows(
    reader: csv.DictReader[str],
    region: str,
    topics: dict[str, int],
    districts: dict[str, int],
    report: ImportReport,
) -> Iterator[Row]:
    for line, record in enumerate(reader, start=2):
        try:
            yield _row(line, record, region, topics, districts)
        except ValueError as exc:
            report.problems.append((line, str(exc)))


def _row(
    line: int,
    record: dict[str, str | None],
    region: str,
    topics: dict[str, int],
    districts: dict[str, int],
) -> Row:
    def value(name: str) -> str:
        return (record.get(name) or "").strip()

    number = _number(value("phone"), region)
    consented_at = _moment(value("consented_at"))
    source = value("consent_source")
    if not source:
        raise ValueError("consent_source is empty: without proof of consent nobody is imported")
    language = value("language").lower() or "de"
    if language not in Subscriber.Language.values:
        raise ValueError(f"unknown language {language!r}")
    return Row(
        line=line,
        number=number,
        consented_at=consented_at,
        source=source[:200],
        topics=_names(value("topics"), topics, "topic"),
        districts=_names(value("districts"), districts, "district"),
        language=language,
    )


def _number(raw: str, region: str) -> str:
    if not raw:
        raise ValueError("phone is empty")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError("phone cannot be read as a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("phone is not a valid number")
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValueError("phone is not a mobile number, so it cannot be on WhatsApp")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]


def _moment(raw: str) -> datetime:
    parsed = parse_datetime(raw) if "T" in raw or " " in raw else None
    if parsed is None:
        day = parse_date(raw) if raw else None
        if day is None:
            raise ValueError("consented_at is not a date (use 2026-03-31 or 2026-03-31T10:00)")
        parsed = datetime.combine(day, time(12, 0))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed > timezone.now():
        raise ValueError("consented_at lies in the future")
    return parsed


def _names(raw: str, table: dict[str, int], what: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in raw.split(";") if n.strip())
    unknown = [n for n in names if n.casefold() not in table]
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(unknown)}")
    return names


def _when(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _insert(model: type[models.Model], columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    batch = list(rows)
    if not batch:
        return
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 -- names from model metadata
        quote(model._meta.db_table),
        ", ".join(quote(c) for c in columns),
        ", ".join(["%s"] * len(columns)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, batch)


def _import_batch(
    rows: list[Row],
    topics: dict[str, int],
    districts: dict[str, int],
    notice_version: str,
    report: ImportReport,
) -> None:
    indexed = {crypto.blind_index(r.number): r for r in rows}
    known_indexes: set[str] = set()
    for key in crypto.known_keys():
        by_key = {crypto.blind_index(r.number, key): idx for idx, r in indexed.items()}
        known_indexes |= {
            by_key[i]
            for i in Subscriber.objects.filter(phone_index__in=list(by_key)).values_list(
                "phone_index", flat=True
            )
        }
    new = {idx: r for idx, r in indexed.items() if idx not in known_indexes}
    report.already_known += len(indexed) - len(new)
    if not new:
        return
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic():
        # Plain executemany: the ORM's per-value preparation cost more than all else here.
        _insert(
            Subscriber,
            [
                "phone_index",
                "phone_encrypted",
                "status",
                "language",
                "created_at",
                "requested_at",
                "confirmed_at",
                "marketing_stopped",
                "country",
            ],
            [
                (
                    idx,
                    crypto.encrypt(r.number),
                    Subscriber.Status.ACTIVE.value,
                    r.language,
                    now,
                    _when(r.consented_at),
                    _when(r.consented_at),
                    False,
                    phone.country(r.number),
                )
                for idx, r in new.items()
            ],
        )
        ids = dict(
            Subscriber.objects.filter(phone_index__in=list(new)).values_list("phone_index", "pk")
        )
        _insert(
            Subscriber.topics.through,
            ["subscriber_id", "topic_id"],
            {(ids[idx], topics[n.casefold()]) for idx, r in new.items() for n in r.topics},
        )
        _insert(
            Subscriber.districts.through,
            ["subscriber_id", "district_id"],
            {(ids[idx], districts[n.casefold()]) for idx, r in new.items() for n in r.districts},
        )
        _insert(
            ConsentEvent,
            [
                "subscriber_ref",
                "action",
                "channel",
                "wording",
                "notice_version",
                "source_message_id",
                "occurred_at",
            ],
            [
                (
                    idx,
                    ConsentEvent.Action.IMPORTED.value,
                    "import",
                    f"Opt-in on {r.consented_at.isoformat()}; proof: {r.source}",
                    notice_version,
                    "",
                    now,
                )
                for idx, r in new.items()
            ],
        )
    report.imported += len(new)
