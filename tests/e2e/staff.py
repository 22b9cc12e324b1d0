"""Staff for the browser journeys: an editor and an approver with a second factor, created in
the running app, and the codes the approver's authenticator app would show."""

from __future__ import annotations

import secrets
import time

from django_otp.oath import TOTP

from tests.e2e.stack import Stack

_CREATE = """
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice
from stadtbote.accounts import roles
from stadtbote.accounts.roles import Role
for name, role in (("redaktion", Role.EDITOR), ("freigabe", Role.APPROVER)):
    user = User.objects.create_user(name, f"{name}@stadt.example", "{password}")
    roles.assign(user, role)
approver = User.objects.get(username="freigabe")
TOTPDevice.objects.create(user=approver, name="app", key="{key}", confirmed=True)
"""


def create_staff(stack: Stack) -> tuple[str, str]:
    """`redaktion` (editor) and `freigabe` (approver, with a TOTP device); returns their
    password and the device's key (hex)."""
    password, key = secrets.token_urlsafe(12), secrets.token_hex(20)
    stack.command("shell", "-c", _CREATE.replace("{password}", password).replace("{key}", key))
    return password, key


def totp_code(key: str, step_ahead: int = 0) -> str:
    """A code from the authenticator app. A code works once (django-otp's replay protection),
    so a second login within the same 30 s uses the next step's, which the one step of
    drift tolerance accepts."""
    totp = TOTP(bytes.fromhex(key))
    totp.time = time.time() + step_ahead * totp.step
    return f"{totp.token():06d}"
