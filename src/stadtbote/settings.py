"""Django settings. Every value comes from the environment; see docs/operations.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.csp import CSP

from stadtbote.config import env, env_bool, env_int, env_required

DATA_DIR = Path(env("STADTBOTE_DATA_DIR", str(Path.cwd() / "var")) or "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_required("STADTBOTE_SECRET_KEY")
FIELD_KEY = env_required("STADTBOTE_FIELD_KEY")
# Keys FIELD_KEY replaced, comma-separated, kept readable until `rotate_field_key` has run.
FIELD_KEYS_PREVIOUS = [k for k in (env("STADTBOTE_FIELD_KEYS_PREVIOUS") or "").split(",") if k]
DEBUG = env_bool("STADTBOTE_DEBUG", False)
ALLOWED_HOSTS = (env("STADTBOTE_ALLOWED_HOSTS", "127.0.0.1,localhost") or "").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in (env("STADTBOTE_CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",  # serves the API docs' scripts and styles itself: no third-party request
    "stadtbote.accounts",
    "stadtbote.channels",
    "stadtbote.subscribers",
    "stadtbote.dialogue",
    "stadtbote.broadcasts",
    "stadtbote.worker",
    "stadtbote.public",
    "stadtbote.newsroom",
    "stadtbote.dashboards",
    "stadtbote.polls",
    "stadtbote.inbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "stadtbote.public.language.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "stadtbote.accounts.second_factor.SecondFactorMiddleware",
    "stadtbote.accounts.audit.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "stadtbote.urls"
ASGI_APPLICATION = "stadtbote.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Only admin/base_site.html: the admin with the staff's language switch.
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "stadtbote.public.context_processors.language",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    url = env("DATABASE_URL")
    if url is None:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "stadtbote.sqlite3"),
            "OPTIONS": {
                # WAL lets the web process read while the worker writes; IMMEDIATE takes the
                # write lock at BEGIN so two writers wait (busy timeout) instead of deadlocking.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    if config["ENGINE"] == "django.db.backends.postgresql":
        # A connection pool per process. Persistent per-thread connections (CONN_MAX_AGE) do
        # not work under ASGI, where every request may run in another thread: they pile up
        # until PostgreSQL refuses new clients (measured: 26 % of webhooks failed).
        options = config.setdefault("OPTIONS", {})
        options["pool"] = {
            "min_size": 1,
            "max_size": env_int("STADTBOTE_DB_POOL_SIZE", 10),
            "timeout": 10,
        }
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
# Compiled by `make setup` (stadtbote/lib/catalogs.py) next to the .po files.
# Our own date formats first ("02.12.2026, 14:05"), Django's for everything else.
FORMAT_MODULE_PATH = ["stadtbote.formats"]
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Uploaded images of posts; served at MEDIA_URL so that Meta can fetch them by link.
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
# Static files (the admin's, later the newsroom's) are served by the app itself, found where
# they live, so no collectstatic step is needed for a single-machine installation.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

SESSION_COOKIE_HTTPONLY = True
# The staff's language choice; public pages never read it (see public/language.py).
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("STADTBOTE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
# Content Security Policy: only this site's own scripts, styles, images and forms; nothing
# from third parties. Inline styles stay allowed (the admin and the previews use them);
# inline scripts need the per-response nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True

# Meta sends webhook payloads of up to about 3 MB; anything larger is refused before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 3 * 1024 * 1024
WEBHOOK_MAX_BYTES = 3 * 1024 * 1024

REDIS_URL = env("REDIS_URL")

WHATSAPP: dict[str, str] = {
    "API_BASE_URL": (env("WHATSAPP_API_BASE_URL") or "https://graph.facebook.com").rstrip("/"),
    "API_VERSION": env("WHATSAPP_API_VERSION") or "v23.0",
    "ACCESS_TOKEN": env("WHATSAPP_ACCESS_TOKEN") or "",
    "PHONE_NUMBER_ID": env("WHATSAPP_PHONE_NUMBER_ID") or "",
    "BUSINESS_ACCOUNT_ID": env("WHATSAPP_BUSINESS_ACCOUNT_ID") or "",
    "APP_SECRET": env("WHATSAPP_APP_SECRET") or "",
    "VERIFY_TOKEN": env("WHATSAPP_VERIFY_TOKEN") or "",
}
# Meta's throughput per sending number; 0 switches pacing off (tests, a BSP that paces itself).
WHATSAPP_MESSAGES_PER_SECOND = env_int("WHATSAPP_MESSAGES_PER_SECOND", 80)
# Meta's messaging limit: unique users per rolling 24 hours reached with templates (outside
# the service window): 250 for a new number, then 2000, 10000, 100000; 0 means unlimited.
# Posts beyond it are held and spread over the following days.
WHATSAPP_DAILY_UNIQUE_USERS = env_int("WHATSAPP_DAILY_UNIQUE_USERS", 250)

# Huey: durable SQLite queue with an in-process consumer by default, Redis when scaled.
_huey_consumer: dict[str, object] = {
    "workers": env_int("STADTBOTE_WORKER_THREADS", 4),
    "worker_type": "thread",
}
if REDIS_URL:
    HUEY: dict[str, Any] = {
        "name": "stadtbote",
        "huey_class": "huey.RedisHuey",
        "url": REDIS_URL,
        "immediate": False,
        "consumer": _huey_consumer,
    }
else:
    # A SQLite queue is polled; huey's idle back-off would otherwise grow to 10 s, and a
    # citizen waiting for the answer to "Start" would wait that long. Redis blocks instead.
    _huey_consumer |= {"initial_delay": 0.05, "backoff": 1.5, "max_delay": 0.25}
    HUEY = {
        "name": "stadtbote",
        "huey_class": "huey.SqliteHuey",
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": False,
        "consumer": _huey_consumer,
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("STADTBOTE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "huey": {"level": "WARNING"},
        # httpx logs every request's URL at INFO; a media download URL is a credential.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# Where citizens read the privacy notice, and the version recorded with every consent.
# The city's name as the public pages, the feeds and the widget show it.
CITY_NAME = env("STADTBOTE_CITY_NAME") or "Stadt"
PUBLIC_URL = (env("STADTBOTE_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
PRIVACY_NOTICE_URL = env("STADTBOTE_PRIVACY_NOTICE_URL") or f"{PUBLIC_URL}/datenschutz/"
PRIVACY_NOTICE_VERSION = env("STADTBOTE_PRIVACY_NOTICE_VERSION") or "2026-11"
# The template a new post uses for subscribers outside the 24-hour window, when it exists.
POST_TEMPLATE = env("STADTBOTE_POST_TEMPLATE") or "stadt_news"
# The number citizens write to, as shown on the subscribe page (digits with country code).
WHATSAPP_DISPLAY_NUMBER = env("STADTBOTE_WHATSAPP_DISPLAY_NUMBER") or ""

# Timing of posts (Europe/Berlin): non-urgent sends wait out the quiet hours, and nobody gets
# more than DAILY_CAP non-urgent posts a day; urgent posts ignore both.
QUIET_HOURS_START = env("STADTBOTE_QUIET_HOURS_START") or "21:00"
QUIET_HOURS_END = env("STADTBOTE_QUIET_HOURS_END") or "07:00"
DAILY_CAP = env_int("STADTBOTE_DAILY_CAP", 2)  # 0: no cap
# Cost: the country of the city's subscribers (for the price table), and a monthly budget in
# the price table's currency. 0: no budget. BUDGET_BLOCK refuses approvals beyond it.
COUNTRY = env("STADTBOTE_COUNTRY") or "DE"
MONTHLY_BUDGET = env_int("STADTBOTE_MONTHLY_BUDGET", 0)
BUDGET_BLOCK = env("STADTBOTE_BUDGET_BLOCK") == "1"
# A send claimed this long ago and never recorded belongs to a killed worker.
STALE_CLAIM_SECONDS = env_int("STADTBOTE_STALE_CLAIM_SECONDS", 600)

# Staff accounts: failed logins (password or second factor) that lock a name, or an address,
# for LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = ["stadtbote.accounts.backends.LockoutBackend"]
LOCKOUT_FAILURES = env_int("STADTBOTE_LOCKOUT_FAILURES", 5)
LOCKOUT_FAILURES_PER_ADDRESS = env_int("STADTBOTE_LOCKOUT_FAILURES_PER_ADDRESS", 30)
LOCKOUT_MINUTES = env_int("STADTBOTE_LOCKOUT_MINUTES", 15)
LOGIN_URL = "staff-login"
LOGIN_REDIRECT_URL = "/redaktion/"
# A working day, then log in again; the session ends with the browser, too.
SESSION_COOKIE_AGE = 10 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
OTP_TOTP_ISSUER = env("STADTBOTE_OTP_ISSUER") or "Stadtbote"
# Administrators, approvers and superusers must use a second factor. Only the demo (`make
# run`) switches this off, so that it can be tried without an authenticator app.
REQUIRE_SECOND_FACTOR = env_bool("STADTBOTE_REQUIRE_SECOND_FACTOR", True)
# Proxies of the operator's own in front of the app that append the client's
# address to X-Forwarded-For (0: none; the audit log then records the direct peer).
TRUSTED_PROXY_HOPS = env_int("STADTBOTE_TRUSTED_PROXY_HOPS", 0)

# Retention (see docs/operations.md): what is kept how long, enforced by a nightly job.
CONFIRMATION_HOURS = env_int("STADTBOTE_CONFIRMATION_HOURS", 48)
RETENTION_UNSUBSCRIBED_DAYS = env_int("STADTBOTE_RETENTION_UNSUBSCRIBED_DAYS", 30)
RETENTION_MESSAGES_DAYS = env_int("STADTBOTE_RETENTION_MESSAGES_DAYS", 30)
# Days after a poll closes until its votes are cut loose from the subscribers.
RETENTION_VOTES_DAYS = env_int("STADTBOTE_RETENTION_VOTES_DAYS", 30)

# Citizens' concerns (docs/operations.md, "Inbox"). Files citizens send are kept here, under
# random names, and deleted with their conversation's messages after RETENTION_MESSAGES_DAYS.
INBOX_MEDIA_DIR = Path(env("STADTBOTE_INBOX_MEDIA_DIR") or str(DATA_DIR / "inbox-media"))
INBOX_MEDIA_MAX_MB = env_int("STADTBOTE_INBOX_MEDIA_MAX_MB", 16)
# Hours after which an unanswered message counts as overdue in the inbox.
INBOX_RESPONSE_HOURS = env_int("STADTBOTE_INBOX_RESPONSE_HOURS", 24)
# Automatic answers (outside office hours, emergency hint, "too many messages") are given to
# one citizen at most once in this many hours each.
INBOX_AUTO_ANSWER_HOURS = env_int("STADTBOTE_INBOX_AUTO_ANSWER_HOURS", 12)
# More messages than this from one citizen within ten minutes: stored, but no answers.
INBOX_FLOOD_MESSAGES = env_int("STADTBOTE_INBOX_FLOOD_MESSAGES", 20)
# The state whose public holidays close the office (ISO 3166-2 subdivision of Germany:
# BW, BY, BE, BB, HB, HH, HE, MV, NI, NW, RP, SL, SN, ST, SH, TH).
HOLIDAY_STATE = env("STADTBOTE_HOLIDAY_STATE") or "BW"
# The city's area for defect reports: south,west,north,east in degrees. A pin outside it is
# politely refused. Empty: any place is taken.
CITY_BOUNDS = env("STADTBOTE_CITY_BOUNDS") or ""
# Forwarding new concerns to the city's own defect-reporting system over Open311 GeoReport
# v2 (its base URL, e.g. https://example.org/open311/v2). Empty: nothing is forwarded.
OPEN311_FORWARD_URL = (env("STADTBOTE_OPEN311_FORWARD_URL") or "").rstrip("/")
OPEN311_FORWARD_API_KEY = env("STADTBOTE_OPEN311_FORWARD_API_KEY") or ""
OPEN311_FORWARD_JURISDICTION = env("STADTBOTE_OPEN311_FORWARD_JURISDICTION") or ""
# This installation's own Open311 jurisdiction id (clients may send it; it must match).
OPEN311_JURISDICTION = env("STADTBOTE_OPEN311_JURISDICTION") or ""
