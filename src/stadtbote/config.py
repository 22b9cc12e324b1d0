"""Reads the environment (and a .env file) into typed values; settings.py is built from these."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

# A .env file (by default in the working directory) fills in what the environment leaves unset.
# STADTBOTE_ENV_FILE names another file; set to empty, no file is read (the tests do this).
_env_file = os.environ.get("STADTBOTE_ENV_FILE", ".env")
if _env_file:
    load_dotenv(Path.cwd() / _env_file, override=False)


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_required(name: str) -> str:
    value = env(name)
    if value is None:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it in the environment or in a .env file "
            "(`make run` writes one with fresh keys)."
        )
    return value


def env_int(name: str, default: int) -> int:
    raw = env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = env(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}
