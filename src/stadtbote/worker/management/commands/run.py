from __future__ import annotations

import logging
from typing import Any

import uvicorn
from django.core.management.base import BaseCommand, CommandParser

from stadtbote.channels.sending import SendLoop
from stadtbote.worker import embedded

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the web app (uvicorn) with the background worker embedded in the same process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="web only; run `stadtbote worker` processes separately (scaled mode)",
        )

    def handle(self, *args: Any, host: str, port: int, no_worker: bool, **options: Any) -> None:
        consumer = None
        if not no_worker:
            consumer = embedded.start()
        config = uvicorn.Config(
            "stadtbote.asgi:application",
            host=host,
            port=port,
            lifespan="off",
            access_log=False,  # URLs are harmless, but one line per webhook is noise at scale
            log_level="info",
        )
        try:
            uvicorn.Server(config).run()
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)
            SendLoop.shutdown()
