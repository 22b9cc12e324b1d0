"""Demo data for `make run`: the seed topics and a staff login."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.text import slugify

from stadtbote.accounts import roles
from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import templates
from stadtbote.broadcasts.models import Template
from stadtbote.channels.types import TransportError
from stadtbote.inbox import chat_templates
from stadtbote.subscribers.models import District, Topic

SEED_TOPICS = [
    ("Baustellen & Verkehr", "baustellen-verkehr", "Straßensperrungen, Umleitungen, Baustellen"),
    ("Veranstaltungen", "veranstaltungen", "Feste, Märkte, Kultur"),
    ("Warnungen", "warnungen", "Unwetter, Notfälle, dringende Hinweise"),
    ("Rathaus & Politik", "rathaus-politik", "Stadtrat, Verwaltung, Bürgerservice"),
]
SEED_DISTRICTS = ["Innenstadt", "Nord", "Ost", "Süd", "West"]
DEMO_USER = "redaktion"
DEMO_APPROVER = "freigabe"  # four eyes: posts are approved by a second person
DEMO_ADMINISTRATOR = "it"  # settings and staff accounts
DEMO_DPO = "datenschutz"  # the only one who sees phone numbers; reads the audit log
DEMO_AGENT = "buergerservice"  # answers citizens in the inbox


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


NEWS_TEMPLATE = "Neues von der Stadt: {{1}}\n\nAbmelden: schreiben Sie Stop. Mehr: Hilfe."


POLL_TEMPLATE = "stadt_umfrage"
POLL_TEMPLATE_BODY = "Eine Frage der Stadt: {{1}}\n\nTippen Sie auf Abstimmen, um zu antworten."


def register_news_template() -> str:
    """The template posts use outside the 24-hour window, submitted to Meta (the emulator,
    which approves it at once). Returns its state."""
    return _registered(settings.POST_TEMPLATE, NEWS_TEMPLATE)


def register_poll_template() -> str:
    """The template that invites to a poll outside the 24-hour window: its one quick-reply
    button opens the poll in the chat. Returns its state."""
    return _registered(POLL_TEMPLATE, POLL_TEMPLATE_BODY, buttons=["Abstimmen"])


def register_inbox_templates() -> list[str]:
    """The inbox's utility templates: "an answer is waiting" and "news about your report"
    (inbox/chat_templates.py). Returns their states."""
    return [
        _registered(name, body, buttons, category=Template.Category.UTILITY)
        for name, (body, buttons) in chat_templates.TEMPLATES.items()
    ]


def _registered(
    name: str,
    body: str,
    buttons: list[str] | None = None,
    category: str = Template.Category.MARKETING,
) -> str:
    template, _ = Template.objects.get_or_create(
        name=name,
        language="de",
        defaults={"body": body, "buttons": buttons or [], "category": category},
    )
    if template.status in (Template.Status.DRAFT, Template.Status.PENDING):
        try:
            templates.register(template)
        except TransportError:
            templates.sync()  # registered before: read its state instead
    return Template.objects.get(pk=template.pk).status


DEMO_ROLES = {
    DEMO_USER: Role.EDITOR,
    DEMO_APPROVER: Role.APPROVER,
    DEMO_ADMINISTRATOR: Role.ADMINISTRATOR,
    DEMO_DPO: Role.DATA_PROTECTION_OFFICER,
    DEMO_AGENT: Role.AGENT,
}


def reset_demo_user(username: str = DEMO_USER) -> tuple[str, str]:
    """A demo staff account with its role (DEMO_ROLES) and a fresh password each start;
    returns the login."""
    password = secrets.token_urlsafe(12)
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username)
    user.is_superuser = False
    user.set_password(password)
    user.save()
    roles.assign(user, DEMO_ROLES[username])
    return username, password
