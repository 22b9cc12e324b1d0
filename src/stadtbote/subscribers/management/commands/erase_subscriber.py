from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stadtbote.subscribers import actions
from stadtbote.subscribers.lookup import subscriber_from_input


class Command(BaseCommand):
    help = "Erase a subscriber's personal data (Art. 17 GDPR). Asks first unless --yes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="e.g. +49 170 1234567")
        parser.add_argument("--yes", action="store_true", help="do not ask")

    def handle(self, *args: Any, number: str, yes: bool, **options: Any) -> None:
        subscriber = subscriber_from_input(number)
        if not yes and input("Erase this subscriber's data for good? [y/N] ").lower() != "y":
            raise CommandError("Nothing erased.")
        actions.erase(subscriber, wording="erased on request, by staff", channel="staff")
        self.stdout.write("Erased. The consent ledger keeps its pseudonymous lines.")
