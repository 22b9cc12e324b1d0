"""Test configuration shared by the whole suite.

The backend is chosen by STADTBOTE_TEST_BACKEND: `sqlite` (default) runs everything; `postgres`
runs the database-touching tests again on PostgreSQL with Redis for the queue and pacing. When
those servers are not reachable the run skips with the reason, or fails if STADTBOTE_STRICT=1
(CI sets it, so a missing server can never pass as a green run).
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
BACKEND = os.environ.get("STADTBOTE_TEST_BACKEND", "sqlite")
STRICT = os.environ.get("STADTBOTE_STRICT") == "1"
POSTGRES_URL = os.environ.get(
    "STADTBOTE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/stadtbote"
)
REDIS_URL = os.environ.get("STADTBOTE_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")

TEST_ENV = {
    "STADTBOTE_ENV_FILE": "",
    "STADTBOTE_SECRET_KEY": secrets.token_urlsafe(32),
    "STADTBOTE_FIELD_KEY": secrets.token_urlsafe(32),
    "STADTBOTE_DATA_DIR": tempfile.mkdtemp(prefix="stadtbote-test-"),
    "WHATSAPP_API_BASE_URL": "http://127.0.0.1:9",  # nothing listens; tests that send set it
    "WHATSAPP_API_VERSION": "v23.0",
    "WHATSAPP_ACCESS_TOKEN": "test-token",
    "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
    "WHATSAPP_BUSINESS_ACCOUNT_ID": "200000000000001",
    "WHATSAPP_APP_SECRET": "test-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "test-verify-token",
    "WHATSAPP_MESSAGES_PER_SECOND": "0",
    # Timing rules off unless a test sets them: the suite runs at any hour, many posts a day.
    "STADTBOTE_QUIET_HOURS_START": "00:00",
    "STADTBOTE_QUIET_HOURS_END": "00:00",
    "STADTBOTE_DAILY_CAP": "0",
    "WHATSAPP_DAILY_UNIQUE_USERS": "0",
}
for _name in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(_name, None)
os.environ.update(TEST_ENV)


def _reachable(url: str, default_port: int) -> str | None:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return f"{parsed.scheme} at {host}:{port} is not reachable ({exc.strerror or exc})"


UNAVAILABLE: str | None = None
if BACKEND == "postgres":
    UNAVAILABLE = _reachable(POSTGRES_URL, 5432) or _reachable(REDIS_URL, 6379)
    if UNAVAILABLE is None:
        os.environ["DATABASE_URL"] = POSTGRES_URL
        os.environ["REDIS_URL"] = REDIS_URL
elif BACKEND != "sqlite":
    raise pytest.UsageError(f"STADTBOTE_TEST_BACKEND must be sqlite or postgres, not {BACKEND}")

# Settings are chosen here, after the environment above, rather than in the pytest ini (which
# pytest-django would read before this file runs). Touching them marks them configured, and
# pytest-django then sets Django up in its own pytest_configure.
os.environ["DJANGO_SETTINGS_MODULE"] = "stadtbote.settings"
from django.conf import settings as _settings  # noqa: E402

_settings.DATABASES  # noqa: B018


@pytest.fixture(autouse=True)
def _sending_rules_read_afresh():
    """The sending rules are kept in the process for a few seconds; a row another test stored
    (and rolled back) must not outlive it."""
    from stadtbote.broadcasts import sending_rules

    sending_rules.invalidate()
    yield
    sending_rules.invalidate()


def uses_database(item: pytest.Item) -> bool:
    fixtures = getattr(item, "fixturenames", ())
    return bool(
        item.get_closest_marker("django_db")
        or item.get_closest_marker("e2e")
        or item.get_closest_marker("backend")
        or item.get_closest_marker("redis")
        or {"db", "transactional_db"} & set(fixtures)
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backend: exercises the configured database/Redis backend")
    config.addinivalue_line(
        "markers", "redis: needs Redis; runs only in the PostgreSQL + Redis pass"
    )
    if UNAVAILABLE and STRICT:
        raise pytest.UsageError(f"STADTBOTE_STRICT=1 but {UNAVAILABLE}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND != "postgres":
        # Redis-only tests belong to the second pass; here they are left out, not skipped.
        later = [item for item in items if item.get_closest_marker("redis")]
        if later:
            config.hook.pytest_deselected(items=later)
            items[:] = [item for item in items if not item.get_closest_marker("redis")]
        return
    # The second pass repeats only what touches the database, queue or pacing.
    keep = [item for item in items if uses_database(item)]
    dropped = [item for item in items if not uses_database(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep
    if UNAVAILABLE:
        skip = pytest.mark.skip(reason=f"PostgreSQL/Redis tests skipped: {UNAVAILABLE}")
        for item in items:
            item.add_marker(skip)


def _sqlite_append_only_guards() -> tuple[list[str], list[str]]:
    """The SQLite triggers that keep the consent ledger and the audit log append-only, as
    (create, drop) statements, taken from the migrations that install them."""
    import importlib

    ledger = importlib.import_module(
        "stadtbote.subscribers.migrations.0002_consent_ledger_append_only"
    )
    audit = importlib.import_module("stadtbote.accounts.migrations.0002_audit_log")
    create, drop = audit.STATEMENTS["sqlite"]
    return [*ledger.SQLITE, *create], [*ledger.SQLITE_REVERSE, *drop]


@pytest.fixture(scope="session", autouse=True)
def _flushing_passes_the_append_only_guards():
    """After a test in a real transaction Django empties SQLite's tables with DELETE, which the
    append-only triggers refuse: the flush lifts them and puts them back in its transaction.
    (PostgreSQL flushes with TRUNCATE, which the statement triggers there do not cover.)"""
    if BACKEND == "postgres":
        yield
        return
    from django.db.backends.sqlite3.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **options):  # type: ignore[no-untyped-def]
        statements = original(self, style, tables, **options)
        if not statements:
            return statements
        create, drop = _sqlite_append_only_guards()
        return [*drop, *statements, *create]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]
    yield
    DatabaseOperations.sql_flush = original  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def _inbox_defaults_after_a_flush():
    """A test in a real transaction ends by emptying every table, the inbox's starting
    categories, departments and office hours included, which the tests after it expect as a
    new installation has them. Django's flush then sends post_migrate: they are put back."""
    from django.apps import apps
    from django.db.models.signals import post_migrate

    from stadtbote.inbox import defaults

    def reseed(sender, **kwargs):  # type: ignore[no-untyped-def]
        if sender.label == "inbox":
            defaults.seed(*(apps.get_model("inbox", m) for m in defaults.MODELS))

    post_migrate.connect(reseed, weak=False, dispatch_uid="tests-inbox-defaults")
    yield
    post_migrate.disconnect(dispatch_uid="tests-inbox-defaults")


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"the shared reference files are expected at {SHARED}")
    return SHARED


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, headless. Skips (fails under STRICT) without it.

    Module-scoped on purpose: Playwright's sync API marks its event loop as running in the main
    thread while it is started, so a browser kept for the whole run would make every asyncio
    test after the first browser module fail."""
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if STRICT:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="de-DE")
    yield context.new_page()
    context.close()


@pytest.fixture
def people(django_user_model):
    """One staff member of each role, by name (a module may define its own `people`)."""
    from stadtbote.accounts.roles import Role
    from tests.helpers import staff_with_roles

    return staff_with_roles(
        django_user_model,
        ida=Role.ADMINISTRATOR,
        erika=Role.EDITOR,
        paula=Role.APPROVER,
        gerd=Role.AGENT,
        vera=Role.VIEWER,
        dora=Role.DATA_PROTECTION_OFFICER,
    )


@pytest.fixture
def as_(client):
    """The test client logged in as this staff member (the last one logged in is logged out)."""
    from tests.helpers import staff_login

    def log_in(user):
        client.logout()
        staff_login(client, user)
        return client

    return log_in
