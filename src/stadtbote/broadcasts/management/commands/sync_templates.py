from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from stadtbote.broadcasts import templates
from stadtbote.channels.types import TransportError


class Command(BaseCommand):
    help = "Read the review state of every template from Meta (the worker does it hourly)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            changed = templates.sync()
        except TransportError as exc:
            raise CommandError(f"Meta could not be asked: {exc}") from None
        self.stdout.write(f"{changed} template(s) changed state.")
