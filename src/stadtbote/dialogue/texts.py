"""What Stadtbote says in the chat. Short, plain language; German first."""

from __future__ import annotations

from django.conf import settings

from stadtbote.channels.types import Button, OutboundMessage

CONFIRM_BUTTON = "subscription:confirm"
DECLINE_BUTTON = "subscription:decline"


def confirmation_question() -> OutboundMessage:
    return OutboundMessage(
        text=(
            "Hallo! Hier ist der WhatsApp-Service der Stadt. 👋\n\n"
            "Möchten Sie kurze Nachrichten der Stadt bekommen? "
            "Meist 1–2 Nachrichten an Werktagen.\n\n"
            f"So gehen wir mit Ihren Daten um: {settings.PRIVACY_NOTICE_URL}\n\n"
            "Bitte bestätigen Sie:"
        ),
        buttons=(Button(CONFIRM_BUTTON, "Ja, anmelden"), Button(DECLINE_BUTTON, "Nein, danke")),
    )


def welcome() -> OutboundMessage:
    return OutboundMessage(
        text=(
            "Willkommen! ✅ Sie sind angemeldet.\n\n"
            "Sie bekommen ab jetzt Nachrichten der Stadt, meist 1–2 an Werktagen.\n"
            "Abmelden geht jederzeit: schreiben Sie einfach *Stop*."
        )
    )


def declined() -> OutboundMessage:
    return OutboundMessage(
        text="In Ordnung, Sie sind nicht angemeldet. Mit *Start* können Sie es jederzeit tun."
    )


def already_subscribed() -> OutboundMessage:
    return OutboundMessage(
        text="Sie sind schon angemeldet. 🙂 Abmelden geht mit *Stop*, Hilfe mit *Hilfe*."
    )


def unsubscribed() -> OutboundMessage:
    return OutboundMessage(
        text=(
            "Sie sind abgemeldet und bekommen keine Nachrichten mehr. "
            "Mit *Start* können Sie sich wieder anmelden."
        )
    )


def not_subscribed() -> OutboundMessage:
    return OutboundMessage(
        text="Sie sind nicht angemeldet. Schreiben Sie *Start*, um Nachrichten der Stadt zu bekommen."
    )


def help_text() -> OutboundMessage:
    return OutboundMessage(
        text=(
            "So funktioniert der Service:\n"
            "• *Start* – anmelden\n"
            "• *Stop* – abmelden\n"
            "• *Hilfe* – diese Übersicht\n\n"
            "Dies ist keine 24-Stunden-Hotline. Im Notfall: 110 oder 112."
        )
    )


def received() -> OutboundMessage:
    # Honest until the inbox exists: nobody reads these messages yet.
    return OutboundMessage(
        text=(
            "Danke für Ihre Nachricht! Auf Nachrichten können wir hier noch nicht persönlich "
            "antworten. *Hilfe* zeigt, was geht. Im Notfall: 110 oder 112."
        )
    )
