"""The second factor: TOTP codes from an authenticator app (django-otp's TOTP devices).

Mandatory for administrators and approvers (roles.SECOND_FACTOR_REQUIRED), optional for the
others; once someone has set it up, it is asked for at every login. After the password, a
session is logged in but not verified: `SecondFactorMiddleware` lets such a session reach
nothing of the staff area but the pages that verify or set up the second factor.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import urlencode

import segno
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from stadtbote.accounts import audit, roles

# The parts of the site that need a verified session; /staff/ holds the login pages.
STAFF_AREAS = ("/admin/", "/redaktion/")


def has_second_factor(user: AbstractBaseUser) -> bool:
    return bool(user_has_device(user, confirmed=True))


def is_verified(request: HttpRequest) -> bool:
    """Whether this session passed the second factor. (Right after `login()` the request's
    user is a plain user again, without django-otp's `is_verified`: not verified.)"""
    check = getattr(request.user, "is_verified", None)
    return bool(check()) if check is not None else False


def next_step(user: AbstractBaseUser, verified: bool) -> str | None:
    """The URL name of what a logged-in session has to do before the staff area, if any."""
    if verified:
        return None
    if has_second_factor(user):
        return "staff-verify"
    if roles.needs_second_factor(user):
        return "staff-second-factor"
    return None


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and request.path.startswith(STAFF_AREAS):
            step = next_step(user, is_verified(request))
            if step is not None:
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse(step)}?{query}")
        return self.get_response(request)


def verify(request: HttpRequest, code: str) -> bool:
    """Checks a code against the user's devices; marks the session verified if it matches."""
    device = match_token(request.user, code.strip().replace(" ", ""))
    if device is None:
        return False
    otp_login(request, device)
    audit.record(request.user, "login.second_factor")
    return True


def pending_device(user: AbstractBaseUser) -> TOTPDevice:
    """The device being set up: an unconfirmed one, created on first use."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)
    return device


def confirm(request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    """The first code from the app proves it holds the secret: the device becomes the user's
    second factor (replacing any earlier one) and this session is verified."""
    if not device.verify_token(code.strip().replace(" ", "")):
        return False
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    audit.record(request.user, "second_factor.set_up")
    return True


def secret_for_typing(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for apps without a camera."""
    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def qr_svg(device: TOTPDevice) -> str:
    return str(segno.make(device.config_url, error="m").svg_inline(scale=5, title="QR code"))
