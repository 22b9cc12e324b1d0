from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from stadtbote.dashboards import rollup


class Command(BaseCommand):
    help = "Bring the dashboards' counters up to date now (the worker does it every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = rollup.refresh(timezone.now())
        if not result.ran:
            self.stdout.write("Another process is refreshing the dashboards; nothing done.")
            return
        self.stdout.write(
            f"{result.days} day(s), {result.posts} post(s) counted, "
            f"{result.opt_outs} post(s)' opt-outs updated, "
            f"{result.signal_days} day(s) of reactions and forwarded messages."
        )
