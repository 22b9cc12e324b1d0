"""Templates: registered with Meta, kept in step with Meta's review, and filled for a post."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from stadtbote.accounts import audit
from stadtbote.broadcasts.models import Post, Template
from stadtbote.channels.types import OutboundMessage, TemplateUse, TransportError
from stadtbote.channels.whatsapp import templates as meta
from stadtbote.lib.problems import Problem

BODY_MAX = 1024
BUTTONS_MAX, BUTTON_TEXT_MAX = 10, 25  # Meta's limits for quick-reply buttons
_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
# Meta refuses template parameters with line breaks, tabs or more than four spaces in a row.
_BREAKS = re.compile(r"\s*\n\s*\n\s*|\t|\s{5,}")
_LINE = re.compile(r"\s*\n\s*")


class TemplateError(Problem, ValueError):
    """The template cannot be used or registered; the message says why, for people."""


def check(template: Template) -> None:
    if not _NAME.match(template.name):
        raise TemplateError(
            gettext_noop("A template name has only lower-case letters, digits and _.")
        )
    if len(template.body) > BODY_MAX:
        raise TemplateError(gettext_noop("A template text has at most 1,024 characters."))
    buttons = template.buttons or []
    if len(buttons) > BUTTONS_MAX or any(
        not isinstance(b, str) or not b.strip() or len(b) > BUTTON_TEXT_MAX for b in buttons
    ):
        raise TemplateError(
            gettext_noop(
                "A template has at most 10 quick-reply buttons, each with a text of at most "
                "25 characters."
            )
        )
    if len({b.strip().casefold() for b in buttons}) != len(buttons):
        raise TemplateError(gettext_noop("Each quick-reply button needs a text of its own."))
    found = meta.variables(template.body)
    if found not in ([], [1], [1, 2]):
        raise TemplateError(
            gettext_noop(
                "A post template has the variable {{1}} for the post's text and may have {{2}} "
                "for its title; no others."
            )
        )


def register(template: Template) -> Template:
    """Submit to Meta for review. Raises TemplateError or TransportError."""
    check(template)
    remote = meta.register(
        name=template.name,
        language=template.language,
        category=template.category,
        body=template.body,
        buttons=template.buttons or [],
    )
    template.status, template.meta_id = remote.status, remote.meta_id
    template.synced_at = timezone.now()
    template.save(update_fields=["status", "meta_id", "synced_at"])
    return template


@transaction.atomic
def create(
    by: AbstractBaseUser,
    *,
    name: str,
    language: str,
    category: str,
    body: str,
    buttons: Sequence[str] = (),
) -> Template:
    """A new template, not yet submitted to Meta (see submit). `buttons`: quick-reply texts,
    for a poll's template."""
    template = Template(
        name=name.strip(),
        language=language,
        category=category,
        body=body.strip(),
        buttons=[b.strip() for b in buttons if b.strip()],
    )
    check(template)
    if Template.objects.filter(name=template.name, language=template.language).exists():
        raise TemplateError(
            gettext_noop("There is a template %(name)s in this language already."),
            name=template.name,
        )
    template.save()
    audit.record(by, "template.created", template, buttons=len(template.buttons))
    return template


@transaction.atomic
def change(
    by: AbstractBaseUser, template: Template, *, category: str, body: str, buttons: Sequence[str]
) -> Template:
    """Changes a template Meta has not seen yet; one Meta reviewed stays as it was reviewed
    (a new one is added instead)."""
    locked = Template.objects.select_for_update().get(pk=template.pk)
    if locked.status != Template.Status.DRAFT:
        raise TemplateError(
            gettext_noop(
                "Meta has this template already and sends it only as reviewed; add a new one "
                "instead."
            )
        )
    locked.category, locked.body = category, body.strip()
    locked.buttons = [b.strip() for b in buttons if b.strip()]
    check(locked)
    locked.save(update_fields=["category", "body", "buttons"])
    audit.record(by, "template.changed", locked, buttons=len(locked.buttons))
    return locked


def submit(by: AbstractBaseUser, template: Template) -> Template:
    """Registers a template not yet submitted with Meta (with its quick-reply buttons).
    Raises TemplateError or TransportError (Meta not reachable, or refusing it)."""
    if template.status != Template.Status.DRAFT:
        raise TemplateError(gettext_noop("This template was submitted to Meta already."))
    registered = register(template)
    audit.record(by, "template.submitted", registered, status=registered.status)
    return registered


def sync() -> int:
    """Meta's review states onto our templates; returns how many changed."""
    return _apply_all(meta.fetch_all())


@transaction.atomic
def _apply_all(remote: list[meta.RemoteTemplate]) -> int:
    return sum(
        apply_status(item.name, item.language, item.status, item.reason, item.meta_id)
        for item in remote
    )


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer to "does the WhatsApp connection work?": whether Meta (or the BSP) accepted
    the token and the business account, and what it said, for people."""

    ok: bool
    detail: str
    templates: int = 0


def check_connection() -> ConnectionCheck:
    """Asks Meta for the account's templates (the token, the account id and the network all
    have to be right for that) and brings their review states up to date on the way."""
    try:
        remote = meta.fetch_all()
    except TransportError as exc:
        return ConnectionCheck(False, str(exc))
    _apply_all(remote)
    return ConnectionCheck(True, "", templates=len(remote))


def apply_status(name: str, language: str, status: str, reason: str = "", meta_id: str = "") -> int:
    if status not in Template.Status.values:
        return 0
    updates: dict[str, object] = {
        "status": status,
        "status_reason": (reason or "")[:100],
        "synced_at": timezone.now(),
    }
    if meta_id:
        updates["meta_id"] = meta_id
    return (
        Template.objects.filter(name=name, language=language)
        .exclude(status=status)
        .update(**updates)
    )


def _flatten(text: str) -> str:
    return _LINE.sub(" ", _BREAKS.sub(" – ", text)).strip()


def fill(template: Template, post: Post) -> OutboundMessage:
    """The post as this template: its text in {{1}}, its title in {{2}}, shortened so the
    whole message stays within Meta's 1,024 characters."""
    wanted = meta.variables(template.body)
    values = {1: _flatten(post.text), 2: _flatten(post.title)}
    room = (
        BODY_MAX
        - len(re.sub(r"\{\{\d+\}\}", "", template.body))
        - (len(values[2]) if 2 in wanted else 0)
    )
    if len(values[1]) > room:
        values[1] = values[1][: max(room - 1, 0)] + "…"
    parameters = tuple(values[n] for n in wanted)
    text = template.body
    for n in wanted:
        text = text.replace(f"{{{{{n}}}}}", values[n])
    return OutboundMessage(
        text=text, template=TemplateUse(template.name, template.language, parameters)
    )
