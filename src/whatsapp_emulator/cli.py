"""Command line: ``python -m whatsapp_emulator`` or ``whatsapp_emulator.cli.main(argv)``.

Importing this module has no side effects, so the app's own command can call :func:`main`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping

import uvicorn

from whatsapp_emulator.app import create_app
from whatsapp_emulator.config import ConfigError, EmulatorConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whatsapp-emulator",
        description=(
            "Local stand-in for the WhatsApp Cloud API. Reads WHATSAPP_ACCESS_TOKEN, "
            "WHATSAPP_APP_SECRET, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_BUSINESS_ACCOUNT_ID, "
            "WHATSAPP_VERIFY_TOKEN and the optional EMULATOR_* variables."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8300, help="port to listen on")
    parser.add_argument(
        "--webhook-url", help="where to deliver webhooks (overrides EMULATOR_WEBHOOK_URL)"
    )
    parser.add_argument(
        "--read-delay",
        type=float,
        help="seconds after which sent messages count as read without the phone page "
        "(overrides EMULATOR_READ_DELAY)",
    )
    return parser


def config_from(args: argparse.Namespace, environ: Mapping[str, str]) -> EmulatorConfig:
    config = EmulatorConfig.from_env(environ)
    overrides: dict[str, object] = {}
    if args.webhook_url is not None:
        overrides["webhook_url"] = args.webhook_url
    if args.read_delay is not None:
        overrides["read_delay"] = args.read_delay
    return config.replace(**overrides) if overrides else config


class QuietPolling(logging.Filter):
    """Keeps the phone page's once-a-second GETs of the control API out of the access log.

    Without it the log is a wall of polling lines that hides the Graph API requests.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn.access records carry (client, method, path, http version, status).
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3:
            return not (args[1] == "GET" and str(args[2]).startswith("/_emulator/"))
        return True


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from(args, os.environ)
    except ConfigError as error:
        print(f"whatsapp-emulator: {error}", file=sys.stderr)
        return 2
    base = f"http://{args.host}:{args.port}"
    print(f"WhatsApp emulator: Graph API at {base}, phone page at {base}/phone")
    print(f"Webhooks go to {config.webhook_url or 'nowhere (no webhook URL set)'}")
    logging.getLogger("uvicorn.access").addFilter(QuietPolling())
    uvicorn.run(create_app(config), host=args.host, port=args.port)
    return 0
