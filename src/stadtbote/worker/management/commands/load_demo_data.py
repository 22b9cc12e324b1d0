from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from stadtbote import demo


class Command(BaseCommand):
    help = "Create the seed topics and example districts (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        demo.seed_topics()
        demo.seed_districts()
        self.stdout.write("Topics and districts are there.")
