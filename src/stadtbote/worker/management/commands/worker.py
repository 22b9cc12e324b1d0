from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run a background worker alone (scaled mode: any number, on any machine)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--threads", type=int, default=None)

    def handle(self, *args: Any, threads: int | None, **options: Any) -> None:
        extra = {"workers": threads} if threads else {}
        call_command("run_huey", **extra)
