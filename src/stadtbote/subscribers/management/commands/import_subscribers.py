from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stadtbote.subscribers.importing import ImportFileError, import_csv

SHOWN_PROBLEMS = 50


class Command(BaseCommand):
    help = (
        "Import subscribers with their consent proof from a CSV file (columns: phone, "
        "consented_at, consent_source; optional topics, districts, language). Safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--region", default="DE", help="for numbers without country code")
        parser.add_argument(
            "--notice-version",
            default="import",
            help="the privacy notice the consent was given under",
        )

    def handle(
        self, *args: Any, file: Path, region: str, notice_version: str, **options: Any
    ) -> None:
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        try:
            with file.open(encoding="utf-8-sig", newline="") as stream:
                report = import_csv(stream, region=region, notice_version=notice_version)
        except ImportFileError as exc:
            raise CommandError(f"Nothing imported: {exc}.") from None
        except UnicodeDecodeError:
            raise CommandError("Nothing imported: the file is not UTF-8 text.") from None
        self.stdout.write(
            f"Imported {report.imported}, already known {report.already_known}, "
            f"skipped {report.skipped}."
        )
        for line, reason in report.problems[:SHOWN_PROBLEMS]:
            self.stdout.write(f"  row {line}: {reason}")
        if report.skipped > SHOWN_PROBLEMS:
            self.stdout.write(f"  … and {report.skipped - SHOWN_PROBLEMS} more.")
