"""The texts of the public pages: the city's own, or sensible defaults until it writes them."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from stadtbote.public.models import PageText

DEFAULTS = {
    PageText.Page.SUBSCRIBE: (
        "Nachrichten der Stadt per WhatsApp",
        "Die Stadt schickt Ihnen kurze Nachrichten aufs Handy: Baustellen und Verkehr, "
        "Veranstaltungen, Warnungen und was im Rathaus passiert. Meist 1–2 Nachrichten an "
        "Werktagen.\n\n"
        "Kostenlos, ohne App und ohne Konto. Sie wählen selbst, worüber Sie hören möchten, und "
        "können jederzeit mit „Stop“ aufhören.\n\n"
        "Dies ist keine 24-Stunden-Hotline. Im Notfall rufen Sie 110 oder 112.",
    ),
    PageText.Page.PRIVACY: (
        "Datenschutz beim WhatsApp-Service der Stadt",
        "Was wir speichern: Ihre Telefonnummer (verschlüsselt), ob und wann Sie sich angemeldet "
        "oder abgemeldet haben, mit dem Wortlaut, den Sie dabei gesehen haben, Ihre Auswahl an "
        "Themen und Stadtteilen und ob unsere Nachrichten zugestellt und gelesen wurden.\n\n"
        "Wofür: nur, um Ihnen die Nachrichten der Stadt zu schicken, die Sie bestellt haben. Wir "
        "geben Ihre Daten nicht weiter. Die Nachrichten laufen über WhatsApp (Meta).\n\n"
        "Wie lange: bis Sie sich abmelden; danach löschen wir Ihre Daten nach einer kurzen Frist. "
        "Den Nachweis Ihrer Einwilligung bewahren wir ohne Ihre Nummer auf.\n\n"
        "Ihre Rechte: Mit „Stop“ melden Sie sich sofort ab. „Daten“ zeigt, was wir speichern, "
        "„Löschen“ löscht alles. Sie können sich auch an die Datenschutzbeauftragte der Stadt "
        "wenden.",
    ),
}


@dataclass(frozen=True)
class Page:
    title: str
    paragraphs: list[str]
    version: str


def page(kind: PageText.Page) -> Page:
    stored = PageText.objects.filter(page=kind).first()
    title, body = (stored.title, stored.body) if stored else DEFAULTS[kind]
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
