"""Fixtures for the broadcast engine's tests: staff with their rights, an approved template,
a stand-in for the network that keeps what would have been sent, and a settable clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from stadtbote.broadcasts import tasks
from stadtbote.broadcasts.models import Template
from stadtbote.channels.sending import Outgoing, SendLoop

BERLIN = ZoneInfo("Europe/Berlin")


def user_with(django_user_model, name, *codenames):
    user = django_user_model.objects.create(username=name)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return django_user_model.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def editor(django_user_model):
    return user_with(django_user_model, "editor", "add_post", "change_post", "view_post")


@pytest.fixture
def approver(django_user_model):
    return user_with(django_user_model, "approver", "approve_post", "view_post", "change_post")


@pytest.fixture
def template(db) -> Template:
    return Template.objects.create(
        name="stadt_news",
        language="de",
        category=Template.Category.MARKETING,
        body="Neues aus der Stadt: {{1}}",
        status=Template.Status.APPROVED,
    )


class Network:
    """Stands in for Meta: keeps every message that would have been sent."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def __call__(self, items: list[Outgoing]) -> list[str]:
        start = len(self.sent)
        self.sent.extend(items)
        return [f"wamid.E{start + n}" for n in range(len(items))]

    def to(self, number: str) -> list[Outgoing]:
        return [o for o in self.sent if o.to == number]


@pytest.fixture
def network(monkeypatch) -> Network:
    fake = Network()
    monkeypatch.setattr(SendLoop, "send_many", lambda self, items: fake(list(items)))
    return fake


class Clock:
    def __init__(self, monkeypatch) -> None:
        self._monkeypatch = monkeypatch

    def set(self, local: str) -> datetime:
        """'2026-11-23 22:15' in Berlin becomes the time everything sees."""
        moment = datetime.fromisoformat(local).replace(tzinfo=BERLIN)
        self._monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def dispatch_all() -> None:
    while tasks.dispatch_once():
        pass
