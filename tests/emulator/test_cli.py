"""The command line builds the configuration and hands the app to uvicorn."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import pytest
from starlette.applications import Starlette

from whatsapp_emulator import cli

ENVIRONMENT = {
    "WHATSAPP_ACCESS_TOKEN": "token",
    "WHATSAPP_APP_SECRET": "secret",
    "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
    "WHATSAPP_BUSINESS_ACCOUNT_ID": "200000000000001",
    "WHATSAPP_VERIFY_TOKEN": "verify",
    "EMULATOR_WEBHOOK_URL": "http://127.0.0.1:8000/from-env",
}


def test_it_has_sensible_defaults() -> None:
    args = cli.build_parser().parse_args([])

    assert (args.host, args.port, args.webhook_url, args.read_delay) == (
        "127.0.0.1",
        8300,
        None,
        None,
    )


def test_options_override_the_environment() -> None:
    args = cli.build_parser().parse_args(
        ["--webhook-url", "http://127.0.0.1:9000/hook", "--read-delay", "2.5"]
    )

    config = cli.config_from(args, ENVIRONMENT)

    assert config.webhook_url == "http://127.0.0.1:9000/hook"
    assert config.read_delay == 2.5
    assert config.access_token == "token"


def test_without_options_the_environment_decides() -> None:
    config = cli.config_from(cli.build_parser().parse_args([]), ENVIRONMENT)

    assert config.webhook_url == "http://127.0.0.1:8000/from-env"


def test_main_runs_uvicorn_with_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(cli.os, "environ", ENVIRONMENT)
    monkeypatch.setattr(
        cli.uvicorn, "run", lambda app, **options: calls.append(options | {"app": app})
    )

    assert cli.main(["--host", "127.0.0.2", "--port", "8399"]) == 0

    [call] = calls
    assert (call["host"], call["port"]) == ("127.0.0.2", 8399)
    assert isinstance(call["app"], Starlette)
    assert call["app"].state.emulator.config.webhook_url == "http://127.0.0.1:8000/from-env"


def test_main_explains_a_missing_variable_and_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment = {key: value for key, value in ENVIRONMENT.items() if key != "WHATSAPP_APP_SECRET"}
    monkeypatch.setattr(cli.os, "environ", environment)
    monkeypatch.setattr(cli.uvicorn, "run", lambda *args, **kwargs: pytest.fail("must not run"))

    assert cli.main([]) == 2
    assert "WHATSAPP_APP_SECRET" in capsys.readouterr().err


def test_python_m_whatsapp_emulator_shows_its_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "whatsapp_emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    assert "--webhook-url" in result.stdout


def access_record(method: str, path: str) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", method, path, "1.1", 200),
        None,
    )


def test_the_access_log_hides_the_phone_pages_polling_only() -> None:
    quiet = cli.QuietPolling()

    assert not quiet.filter(access_record("GET", "/_emulator/users"))
    assert quiet.filter(access_record("POST", "/_emulator/users/491701234567/send"))
    assert quiet.filter(access_record("POST", "/v23.0/100000000000001/messages"))
    assert quiet.filter(access_record("GET", "/phone"))
