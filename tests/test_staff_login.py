"""Staff login: password (Argon2), lockout, the second factor (TOTP) where the role needs it
or the person set it up, secure sessions, CSRF and the Content Security Policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from stadtbote.accounts import roles
from stadtbote.accounts.models import AuditEntry, LoginFailure
from stadtbote.accounts.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "ein recht langes Passwort"


@pytest.fixture
def person(django_user_model):
    def make(name: str, *given: Role):
        user = django_user_model.objects.create(username=name)
        user.set_password(PASSWORD)
        user.save()
        roles.assign(user, *given)
        return user

    return make


@pytest.fixture(autouse=True)
def _no_otp_throttle(settings):
    # django-otp's own throttle makes a device wait after a wrong code; the lockout tested
    # here is ours, so its delays are switched off.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def log_in(client: Client, name: str, password: str = PASSWORD, next_url: str = "/admin/"):
    return client.post("/staff/login/", {"username": name, "password": password, "next": next_url})


def code_for(device: TOTPDevice, later: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp() + later * device.step
    return f"{totp.token():06d}"


def with_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def test_the_staff_area_sends_a_stranger_to_the_login(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/staff/login/?next=")
    assert b'autocomplete="current-password"' in response.content


def test_an_editor_logs_in_with_her_password_alone(client, person):
    user = person("erika", Role.EDITOR)
    assert identify_hasher(user.password).algorithm == "argon2"
    response = log_in(client, "erika")
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_password_is_refused_with_a_plain_message(client, person):
    person("erika", Role.EDITOR)
    response = log_in(client, "erika", "falsch falsch falsch")
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert client.get("/admin/").status_code == 302
    assert LoginFailure.objects.get().username == "erika"


def test_five_failures_lock_the_name_even_for_the_right_password(client, person):
    person("erika", Role.EDITOR)
    for _ in range(5):
        log_in(client, "erika", "falsch falsch falsch")
    response = log_in(client, "Erika")  # the right password, the name in other letters
    assert response.status_code == 200 and "gesperrt" in response.content.decode()
    assert AuditEntry.objects.filter(action="login.locked").exists()
    # The window passes: the failures are old, the login works again.
    LoginFailure.objects.all().delete()
    assert log_in(client, "erika").status_code == 302


def test_a_lock_ends_after_its_window(client, person):
    from stadtbote.accounts import lockout

    person("erika", Role.EDITOR)
    for _ in range(5):
        log_in(client, "erika", "falsch falsch falsch")
    until = lockout.locked_until("erika", "127.0.0.1")
    assert until is not None and timedelta(minutes=14) < until - timezone.now() <= timedelta(
        minutes=15
    )


def test_one_address_trying_many_names_is_locked(client, person, settings):
    settings.LOCKOUT_FAILURES_PER_ADDRESS = 3
    person("erika", Role.EDITOR)
    for name in ("anna", "bert", "carl"):
        log_in(client, name, "raten raten raten")
    assert "gesperrt" in log_in(client, "erika").content.decode()
    other_address = Client(REMOTE_ADDR="192.0.2.44")
    assert log_in(other_address, "erika").status_code == 302


def test_an_inactive_account_cannot_log_in(client, person):
    user = person("erika", Role.EDITOR)
    user.is_active = False
    user.save()
    assert log_in(client, "erika").status_code == 200


def test_an_approver_must_set_up_a_second_factor_before_anything_else(client, person):
    user = person("paula", Role.APPROVER)
    response = log_in(client, "paula")
    assert response.url.startswith("/staff/second-factor/")
    assert client.get("/admin/broadcasts/post/").url.startswith("/staff/second-factor/")
    page = client.get("/staff/second-factor/?next=/admin/broadcasts/post/")
    assert page.status_code == 200 and b"<svg" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert code_for(device) != "000000"
    wrong = client.post("/staff/second-factor/", {"code": "123456", "next": "/admin/"})
    assert wrong.status_code == 200 and b'role="alert"' in wrong.content
    right = client.post(
        "/staff/second-factor/", {"code": code_for(device), "next": "/admin/broadcasts/post/"}
    )
    assert right.status_code == 302 and right.url == "/admin/broadcasts/post/"
    assert client.get("/admin/broadcasts/post/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(action="second_factor.set_up", actor_id=user.pk).exists()


def test_with_a_second_factor_the_code_is_asked_for_at_every_login(client, person):
    user = person("paula", Role.APPROVER)
    device = with_device(user)
    response = log_in(client, "paula")
    assert response.url.startswith("/staff/code/")
    assert client.get("/admin/").url.startswith("/staff/code/")
    # Not verified yet, so the second factor cannot be replaced by someone with the password.
    assert client.get("/staff/second-factor/").url.startswith("/staff/code/")
    assert client.post("/staff/code/", {"code": "000000"}).status_code == 200
    answer = client.post("/staff/code/", {"code": code_for(device), "next": "/admin/"})
    assert answer.status_code == 302 and answer.url == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert AuditEntry.objects.filter(action="login.second_factor").count() == 1


def test_an_editor_who_set_up_a_second_factor_is_asked_for_it_too(client, person):
    with_device(person("erika", Role.EDITOR))
    assert log_in(client, "erika").url.startswith("/staff/code/")


def test_wrong_codes_count_towards_the_lockout_and_end_the_session(client, person):
    user = person("paula", Role.APPROVER)
    device = with_device(user)
    log_in(client, "paula")
    for _ in range(4):
        assert client.post("/staff/code/", {"code": "000000"}).status_code == 200
    last = client.post("/staff/code/", {"code": "000000"})
    assert "gesperrt" in last.content.decode()
    assert client.get("/admin/", follow=True).redirect_chain[-1][0].startswith("/staff/login/")
    assert "gesperrt" in log_in(client, "paula").content.decode()
    assert not TOTPDevice.objects.filter(pk=device.pk, last_t__gt=-1).exists()


def test_a_used_code_cannot_be_used_again(client, person):
    user = person("paula", Role.APPROVER)
    device = with_device(user)
    code = code_for(device)
    log_in(client, "paula")
    assert client.post("/staff/code/", {"code": code}).status_code == 302
    client.post("/staff/logout/")
    other = Client()
    log_in(other, "paula")
    assert other.post("/staff/code/", {"code": code}).status_code == 200


def test_next_never_leads_off_the_site(client, person):
    person("erika", Role.EDITOR)
    response = log_in(client, "erika", next_url="https://evil.example/steal")
    assert response.url == "/redaktion/"  # the newsroom, where staff start


def test_logout_needs_a_post_with_a_csrf_token(person):
    person("erika", Role.EDITOR)
    client = Client(enforce_csrf_checks=True)
    page = client.get("/staff/login/")
    token = page.cookies["csrftoken"].value
    assert (
        client.post("/staff/login/", {"username": "erika", "password": PASSWORD}).status_code == 403
    )
    assert (
        client.post(
            "/staff/login/",
            {"username": "erika", "password": PASSWORD, "csrfmiddlewaretoken": token},
        ).status_code
        == 302
    )
    assert client.get("/staff/logout/").status_code == 405
    assert client.post("/staff/logout/").status_code == 403
    token = client.cookies["csrftoken"].value  # a login rotates the token
    assert client.post("/staff/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert AuditEntry.objects.filter(action="logout").exists()


def test_sessions_are_http_only_short_and_same_site(client, person, settings):
    person("erika", Role.EDITOR)
    log_in(client, "erika")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60


def test_pages_carry_a_content_security_policy_without_third_parties(client):
    response = client.get("/staff/login/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy.replace("https://", "")  # no other origin is allowed


def test_the_api_docs_load_nothing_from_a_third_party(client):
    page = client.get("/api/v1/docs").content.decode()
    assert "cdn." not in page and "/static/ninja/" in page
