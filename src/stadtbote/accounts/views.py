"""Staff login: password, then the second factor (or setting it up), and logout."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from stadtbote.accounts import audit, lockout, roles, second_factor


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return str(settings.LOGIN_REDIRECT_URL)


def _after_login(request: HttpRequest) -> HttpResponse:
    step = second_factor.next_step(request.user, second_factor.is_verified(request))  # type: ignore[arg-type]
    if step is None:
        return HttpResponseRedirect(_next(request))
    return HttpResponseRedirect(f"{reverse(step)}?{urlencode({'next': _next(request)})}")


def _locked_message(request: HttpRequest, username: str) -> str | None:
    until = lockout.locked_until(username, audit.client_ip(request))
    if until is None:
        return None
    when = formats.time_format(timezone.localtime(until), "TIME_FORMAT")
    return _(
        "Too many failed attempts. This login is locked until %(time)s; please try again then."
    ) % {"time": when}


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login(request: HttpRequest) -> HttpResponse:
    form = AuthenticationForm(request, data=request.POST or None)
    locked = None
    if request.method == "POST":
        if form.is_valid():
            auth_login(request, form.get_user())
            return _after_login(request)
        locked = _locked_message(request, request.POST.get("username", ""))
    return render(
        request, "accounts/login.html", {"form": form, "locked": locked, "next": _next(request)}
    )


@csrf_protect
@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The code from the authenticator app, after the password."""
    if not second_factor.has_second_factor(request.user):  # type: ignore[arg-type]
        return _after_login(request)
    error = None
    if request.method == "POST":
        username = request.user.get_username()
        ip = audit.client_ip(request)
        if lockout.locked_until(username, ip) is None and second_factor.verify(
            request, request.POST.get("code", "")
        ):
            lockout.clear(username)
            return HttpResponseRedirect(_next(request))
        lockout.note_failure(username, ip)
        error = _locked_message(request, username)
        if error is not None:
            auth_logout(request)
            context = {"form": AuthenticationForm(), "locked": error, "next": ""}
            return render(request, "accounts/login.html", context)
        error = _("This code is not right. Enter the six digits your app shows now.")
    return render(request, "accounts/verify.html", {"error": error, "next": _next(request)})


@csrf_protect
@never_cache
@login_required
def set_up_second_factor(request: HttpRequest) -> HttpResponse:
    """Showing the secret (QR code and text) and confirming it with a first code. Someone
    who has a second factor must have used it in this session before replacing it."""
    user = request.user
    if second_factor.has_second_factor(user) and not second_factor.is_verified(request):  # type: ignore[arg-type]
        return redirect(f"{reverse('staff-verify')}?next={reverse('staff-second-factor')}")
    device = second_factor.pending_device(user)  # type: ignore[arg-type]
    error = None
    if request.method == "POST":
        if second_factor.confirm(request, device, request.POST.get("code", "")):
            return HttpResponseRedirect(_next(request))
        error = _("This code is not right. Enter the six digits your app shows now.")
    return render(
        request,
        "accounts/second_factor.html",
        {
            "qr": second_factor.qr_svg(device),
            "secret": second_factor.secret_for_typing(device),
            "error": error,
            "next": _next(request),
            "required": roles.needs_second_factor(user),  # type: ignore[arg-type]
        },
    )


@require_POST
@csrf_protect
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect("staff-login")
