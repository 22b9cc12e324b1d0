from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from stadtbote.subscribers.export import consent_history
from stadtbote.subscribers.lookup import number_from_input


class Command(BaseCommand):
    help = "Print the consent ledger of a phone number as JSON (also after an erasure)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="e.g. +49 170 1234567")

    def handle(self, *args: Any, number: str, **options: Any) -> None:
        history = consent_history(number_from_input(number))
        self.stdout.write(json.dumps(history, ensure_ascii=False, indent=2))
