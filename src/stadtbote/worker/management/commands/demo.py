from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from stadtbote import demo


class Command(BaseCommand):
    help = "Start the whole demo on this machine: app, worker and the WhatsApp emulator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--emulator-port", type=int, default=8300)

    def handle(self, *args: Any, port: int, emulator_port: int, **options: Any) -> None:
        base = settings.WHATSAPP["API_BASE_URL"]
        expected = f"http://127.0.0.1:{emulator_port}"
        if base != expected:
            raise CommandError(
                f"WHATSAPP_API_BASE_URL is {base}; the demo sends to the emulator at {expected}. "
                "Set it in .env (a fresh .env from `make run` already does)."
            )
        call_command("migrate", interactive=False, verbosity=0)
        # Tried without an authenticator app; anyone may still set one up under /staff/.
        settings.REQUIRE_SECOND_FACTOR = False
        demo.seed_topics()
        demo.seed_districts()
        logins = {name: demo.reset_demo_user(name)[1] for name in demo.DEMO_ROLES}
        webhook = f"http://127.0.0.1:{port}/webhooks/whatsapp"
        emulator = subprocess.Popen(  # noqa: S603 -- our own command, fixed arguments
            [
                sys.executable,
                "-m",
                "stadtbote.cli",
                "emulator",
                "--port",
                str(emulator_port),
                "--webhook-url",
                webhook,
            ],
            env=os.environ.copy(),
        )
        try:
            _wait_for(f"{expected}/_emulator/health", emulator)
            demo.register_news_template()
            demo.register_poll_template()
            demo.register_inbox_templates()
            self.stdout.write(
                "\n".join(
                    [
                        "",
                        "Stadtbote demo is running.",
                        f"  Newsroom:       http://127.0.0.1:{port}/redaktion/",
                        f"  Inbox:          http://127.0.0.1:{port}/posteingang/",
                        f"  Administration: http://127.0.0.1:{port}/admin/",
                        f"  Public archive: http://127.0.0.1:{port}/archiv/",
                        "  Logins:         "
                        + "\n                  ".join(
                            f"{name} / {password}  ({demo.DEMO_ROLES[name].value})"
                            for name, password in logins.items()
                        ),
                        "  Second factor:  optional in the demo; in production administrators"
                        " and approvers must set one up",
                        f"  Phone page:     {expected}/phone   (send 'Start' as a citizen)",
                        f"  REST API docs:  http://127.0.0.1:{port}/api/v1/docs",
                        "  Stop with Ctrl-C.",
                        "",
                    ]
                )
            )
            call_command("run", host="127.0.0.1", port=port, no_worker=False)
        finally:
            emulator.terminate()
            try:
                emulator.wait(timeout=10)
            except subprocess.TimeoutExpired:
                emulator.kill()


def _wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError("The emulator did not start; see its output above.")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 -- loopback URL
                return
        except OSError:
            time.sleep(0.2)
    raise CommandError(f"The emulator did not answer at {url}.")
