from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from stadtbote.subscribers.export import export
from stadtbote.subscribers.lookup import subscriber_from_input


class Command(BaseCommand):
    help = "Print everything stored about a subscriber as JSON (Art. 15/20 GDPR)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="e.g. +49 170 1234567")

    def handle(self, *args: Any, number: str, **options: Any) -> None:
        data = export(subscriber_from_input(number))
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
