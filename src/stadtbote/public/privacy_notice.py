"""The privacy notice and its history. The consent ledger records which version each citizen
saw; every published version is kept (NoticeVersion), so the data protection officer can show
what that version said. A version's text is fixed once published: a change in substance needs
a new version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from stadtbote.accounts import audit
from stadtbote.public.models import NoticeVersion, PageText
from stadtbote.public.pages import DEFAULTS
from stadtbote.subscribers.models import ConsentEvent

# The ledger's actions that record a consent given with the notice shown.
CONSENTS = [ConsentEvent.Action.CONFIRMED, ConsentEvent.Action.IMPORTED]


class NoticeError(ValueError):
    pass


def _substance(title: str, body: str) -> tuple[str, str]:
    """What a reader sees: spacing and line endings are no change in substance."""
    return " ".join(title.split()), " ".join(body.split())


def _texts_of(version: str) -> list[tuple[str, str]]:
    """Every (title, body) this version may stand for: the kept text, or for the configured
    version before a city published its own notice, the built-in text in each language."""
    kept = NoticeVersion.objects.filter(version=version).values_list("title", "body").first()
    if kept is not None:
        return [kept]
    if version != settings.PRIVACY_NOTICE_VERSION:
        return []
    texts = []
    for code, _name in settings.LANGUAGES:  # the default language first
        with translation.override(code):
            title, body = DEFAULTS[PageText.Page.PRIVACY]
            texts.append((str(title), str(body)))
    return texts


def text_of(version: str) -> tuple[str, str] | None:
    """(title, body) a version said, or None if unknown. Before a city published its own
    notice, consents recorded the configured version with the built-in text (in the
    default language here)."""
    texts = _texts_of(version)
    return texts[0] if texts else None


def problem(*, title: str, body: str, version: str) -> str | None:
    """Why this notice may not be published, or None."""
    if not version.strip():
        return _("Give the privacy notice a version, e.g. 2026-11.")
    known = {_substance(*text) for text in _texts_of(version.strip())}
    if known and _substance(title, body) not in known:
        return _(
            "Version %(version)s was published with a different text, and citizens consented "
            "to that text: give it a new version."
        ) % {"version": version.strip()}
    return None


@transaction.atomic
def publish(by: AbstractBaseUser, *, title: str, body: str, version: str) -> PageText:
    """Makes this the privacy notice in force and keeps it in the history; the same version
    with the same text (a typo in spacing) changes the page only."""
    version = version.strip()
    reason = problem(title=title, body=body, version=version)
    if reason is not None:
        raise NoticeError(reason)
    page, _created = PageText.objects.select_for_update().get_or_create(
        page=PageText.Page.PRIVACY, defaults={"title": title, "body": body, "version": version}
    )
    previous = "" if _created else page.version
    page.title, page.body, page.version = title, body, version
    page.save()
    is_new = not NoticeVersion.objects.filter(version=version).exists()
    if is_new:
        NoticeVersion.objects.create(
            version=version,
            title=title,
            body=body,
            published_by_id=by.pk if by.is_authenticated else None,
            published_by_name=by.get_username() if by.is_authenticated else "",
        )
    audit.record(
        by,
        "settings.privacy_notice_published" if is_new else "settings.privacy_notice_changed",
        page,
        version=[previous or settings.PRIVACY_NOTICE_VERSION, version],
    )
    return page


@transaction.atomic
def change_subscribe_page(by: AbstractBaseUser, *, title: str, body: str) -> PageText:
    page, created = PageText.objects.get_or_create(
        page=PageText.Page.SUBSCRIBE, defaults={"title": title, "body": body}
    )
    old_title = "" if created else page.title
    page.title, page.body = title, body
    page.save()
    audit.record(by, "settings.subscribe_page_changed", page, title=[old_title, title])
    return page


@dataclass(frozen=True)
class Published:
    version: str
    title: str
    paragraphs: list[str]
    published_at: datetime | None  # None: the built-in notice, never published here
    published_by: str
    consents: int
    in_force: bool


def consents_per_version() -> QuerySet[ConsentEvent, tuple[str, int]]:
    """(version, consents) pairs, counted in the ledger's (action, notice_version) index."""
    return (
        ConsentEvent.objects.filter(action__in=CONSENTS)
        .values_list("notice_version")
        .annotate(n=Count("*"))
        .values_list("notice_version", "n")
        .order_by()
    )


def history() -> list[Published]:
    """Every version, newest first, with how many consents recorded it. Versions the ledger
    names but the history does not (the built-in notice) come last."""
    counts = dict(consents_per_version())
    in_force = (
        PageText.objects.filter(page=PageText.Page.PRIVACY)
        .values_list("version", flat=True)
        .first()
        or settings.PRIVACY_NOTICE_VERSION
    )
    shown = [
        Published(
            v.version,
            v.title,
            _paragraphs(v.body),
            v.published_at,
            v.published_by_name,
            counts.get(v.version, 0),
            v.version == in_force,
        )
        for v in NoticeVersion.objects.all()
    ]
    known = {p.version for p in shown}
    for version in sorted(set(counts) - known):
        text = text_of(version)
        title, body = text if text is not None else ("", "")
        shown.append(
            Published(
                version, title, _paragraphs(body), None, "", counts[version], version == in_force
            )
        )
    if settings.PRIVACY_NOTICE_VERSION not in {p.version for p in shown}:
        title, body = text_of(settings.PRIVACY_NOTICE_VERSION) or ("", "")
        shown.append(
            Published(
                settings.PRIVACY_NOTICE_VERSION,
                title,
                _paragraphs(body),
                None,
                "",
                0,
                in_force == settings.PRIVACY_NOTICE_VERSION,
            )
        )
    return shown


def _paragraphs(body: str) -> list[str]:
    return [p.strip() for p in body.split("\n\n") if p.strip()]
