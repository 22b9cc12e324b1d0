from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from stadtbote.subscribers.rotation import rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored phone number with STADTBOTE_FIELD_KEY. Old keys must be listed "
        "in STADTBOTE_FIELD_KEYS_PREVIOUS while this runs; the app keeps working meanwhile."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        report = rotate(batch_size=batch_size)
        self.stdout.write(
            f"Re-encrypted {report.subscribers} subscribers and {report.replies} pending replies."
        )
