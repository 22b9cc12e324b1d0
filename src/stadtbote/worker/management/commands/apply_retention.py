from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand

from stadtbote.retention import apply_retention


class Command(BaseCommand):
    help = "Apply the retention periods now (the worker does it every night at 03:15)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(asdict(apply_retention()), indent=2))
