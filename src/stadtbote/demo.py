"""Demo data for `make run`: the seed topics and a staff login."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.utils.text import slugify

from stadtbote.subscribers.models import District, Topic

SEED_TOPICS = [
    ("Baustellen & Verkehr", "baustellen-verkehr", "Straßensperrungen, Umleitungen, Baustellen"),
    ("Veranstaltungen", "veranstaltungen", "Feste, Märkte, Kultur"),
    ("Warnungen", "warnungen", "Unwetter, Notfälle, dringende Hinweise"),
    ("Rathaus & Politik", "rathaus-politik", "Stadtrat, Verwaltung, Bürgerservice"),
]
SEED_DISTRICTS = ["Innenstadt", "Nord", "Ost", "Süd", "West"]
DEMO_USER = "redaktion"


def seed_topics() -> None:
    for position, (name, slug, description) in enumerate(SEED_TOPICS):
        Topic.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "position": position}
        )


def seed_districts() -> None:
    for position, name in enumerate(SEED_DISTRICTS):
        District.objects.get_or_create(
            name=name, defaults={"slug": slugify(name), "position": position}
        )


def reset_demo_user() -> tuple[str, str]:
    """A superuser for the demo with a fresh password each start; returns the login."""
    password = secrets.token_urlsafe(12)
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=DEMO_USER)
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return DEMO_USER, password
