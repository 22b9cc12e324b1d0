"""Finding a subscriber from what a person types: '+49 170 1234567', '0049…', '49170…'."""

from __future__ import annotations

from django.core.management.base import CommandError

from stadtbote.lib import phone
from stadtbote.subscribers import actions
from stadtbote.subscribers.models import Subscriber


def number_from_input(raw: str) -> str:
    try:
        return phone.normalize(raw)
    except phone.InvalidPhoneNumber:
        raise CommandError(
            f"{raw!r} is not a phone number in international form (e.g. +49 170 1234567)."
        ) from None


def subscriber_from_input(raw: str) -> Subscriber:
    subscriber = actions.find(number_from_input(raw))
    if subscriber is None:
        raise CommandError("No subscriber has this number.")
    return subscriber
