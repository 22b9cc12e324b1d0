from __future__ import annotations

import logging
import socket
from typing import Any

import uvicorn
from django.core.management.base import BaseCommand, CommandError, CommandParser
from uvicorn.supervisors import Multiprocess

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
        parser.add_argument(
            "--web-processes",
            type=int,
            default=1,
            help="web server processes sharing the port; with more than one, the embedded "
            "worker runs in the process that supervises them",
        )

    def handle(
        self,
        *args: Any,
        host: str,
        port: int,
        no_worker: bool,
        web_processes: int,
        **options: Any,
    ) -> None:
        if web_processes < 1:
            raise CommandError("--web-processes must be at least 1")
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
            workers=web_processes,
        )
        try:
            if web_processes > 1:
                Multiprocess(config, sockets=[listening_socket(host, port)]).run()
            else:
                uvicorn.Server(config).run()
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)
            SendLoop.shutdown()


def listening_socket(host: str, port: int) -> socket.socket:
    """The port the web processes share, created here so that its protocol is TCP: asyncio
    sets TCP_NODELAY only on connections of such a socket, and uvicorn's own shared socket
    (protocol 0) made every answer wait for the client's delayed ACK, about 40 ms."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock
