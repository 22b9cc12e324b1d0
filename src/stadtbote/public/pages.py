"""The texts of the public pages: the city's own, or sensible defaults until it writes them."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from stadtbote.public.models import PageText

# English sources, German in the catalogue: shown until the city writes its own (in one
# language: a stored text is shown as written, whatever the page's language).
DEFAULTS = {
    PageText.Page.SUBSCRIBE: (
        _("News from the city on WhatsApp"),
        _(
            "The city sends short messages to your phone: construction sites and traffic, "
            "events, warnings and what is happening at the town hall. Usually 1–2 messages "
            "on weekdays.\n\n"
            "Free of charge, without an app and without an account. You choose what you want "
            "to hear about, and you can stop at any time with “Stop”.\n\n"
            "This is not a 24-hour hotline. In an emergency call 110 or 112."
        ),
    ),
    PageText.Page.PRIVACY: (
        _("Privacy in the city's WhatsApp service"),
        _(
            "What we store: your phone number (encrypted), whether and when you subscribed or "
            "unsubscribed, with the wording you saw then, your choice of topics and districts "
            "and whether our messages were delivered and read.\n\n"
            "What for: only to send you the city's news you asked for. We do not pass your "
            "data on. The messages go through WhatsApp (Meta).\n\n"
            "How long: until you unsubscribe; after that we delete your data after a short "
            "period. We keep the proof of your consent without your number.\n\n"
            "Your rights: “Stop” unsubscribes you at once. “Data” shows what we store, "
            "“Delete” deletes everything. You can also contact the city's data protection "
            "officer."
        ),
    ),
}


@dataclass(frozen=True)
class Page:
    title: str
    paragraphs: list[str]
    version: str


def page(kind: PageText.Page) -> Page:
    stored = PageText.objects.filter(page=kind).first()
    if stored:
        title, body = stored.title, stored.body
    else:
        title, body = (str(text) for text in DEFAULTS[kind])
    version = (stored.version if stored else "") or settings.PRIVACY_NOTICE_VERSION
    return Page(
        title=title,
        paragraphs=[p.strip() for p in body.split("\n\n") if p.strip()],
        version=version,
    )


def privacy_notice_version() -> str:
    """The version every consent records: the city's notice's, else the configured one."""
    stored = (
        PageText.objects.filter(page=PageText.Page.PRIVACY)
        .values_list("version", flat=True)
        .first()
    )
    return stored or settings.PRIVACY_NOTICE_VERSION
