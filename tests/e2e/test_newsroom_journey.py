"""A press officer's day in the newsroom, in a real browser against the running app, worker
and emulator: the editor logs in, writes a post watching the live preview and count, and
submits it; the approver logs in with her second factor and sends it back with a comment;
the editor changes it and submits again; the approver approves; the citizen's phone gets it
once; the post page follows it to "read"; the public archive and its feed show it."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from tests.e2e.phone import Phone, text_of
from tests.e2e.stack import wait_until
from tests.e2e.staff import create_staff, totp_code

pytestmark = pytest.mark.e2e


def test_a_post_from_the_newsroom_to_the_phone_and_the_website(stack, page):
    try:
        _journey(stack, page)
    except AssertionError:
        print(stack.logs())
        raise


def _path_is(pattern: str):
    return lambda url: re.fullmatch(pattern, urlparse(url).path) is not None


def _log_in(
    page, stack, name: str, password: str, totp_key: str | None = None, step_ahead: int = 0
) -> None:
    page.context.clear_cookies()
    page.goto(f"{stack.app_url}/redaktion/")
    page.fill("#id_username", name)
    page.fill("#id_password", password)
    page.keyboard.press("Enter")
    if totp_key is not None:
        page.wait_for_url(_path_is(r"/staff/code/"))
        page.fill("#id_code", totp_code(totp_key, step_ahead))
        page.keyboard.press("Enter")
    page.wait_for_url(_path_is(r"/redaktion/"))


def _step(page, name: str) -> None:
    page.click(f"form[action$='/{name}/'] button")
    page.wait_for_selector(".messages")


def _journey(stack, page) -> None:
    phone = Phone(stack, "491701234567")
    phone.write("Start")
    question = phone.wait_for(lambda m: m["type"] == "interactive", "the confirmation question")
    phone.tap(question, "subscription:confirm")
    phone.wait_for_text("Willkommen")

    password, key = create_staff(stack)

    # The editor writes; the preview and the audience follow the typing, nothing is saved.
    _log_in(page, stack, "redaktion", password)
    page.click("text=Neuer Beitrag")
    page.fill("#id_title", "Stadtfest")
    page.fill("#id_text", "Am *Samstag* ist Stadtfest.")
    page.locator("[data-preview=html] strong", has_text="Samstag").wait_for()
    assert page.inner_text("[data-preview=recipients]") == "1"
    page.click("button[type=submit].primary")
    page.wait_for_url(_path_is(r"/redaktion/\d+/"))
    post_url = page.url
    _step(page, "submit")

    # The approver, with her second factor, sends it back with a comment.
    _log_in(page, stack, "freigabe", password, totp_key=key)
    page.goto(post_url)
    page.fill("#comment", "Bitte den Ort nennen.")
    _step(page, "reject")

    # The editor sees the comment, changes the draft, submits again.
    _log_in(page, stack, "redaktion", password)
    page.goto(post_url)
    assert "Bitte den Ort nennen." in page.inner_text("main")
    page.click("form[action$='/bearbeiten/'] button")
    page.fill("#id_text", "Am *Samstag* ist Stadtfest auf dem Marktplatz.")
    page.click("button[type=submit].primary")
    page.wait_for_url(_path_is(r"/redaktion/\d+/"))
    _step(page, "submit")

    _log_in(page, stack, "freigabe", password, totp_key=key, step_ahead=1)
    page.goto(post_url)
    _step(page, "approve")

    # The citizen gets it once and reads it; the post page follows.
    phone.wait_for_text("Stadtfest auf dem Marktplatz")
    phone.read_all()

    def read_on_the_post_page() -> str | None:
        page.goto(post_url)
        facts = page.inner_text("main")
        return facts if re.search(r"1 / 1 / 1", facts) else None

    wait_until(read_on_the_post_page, what="sent, delivered and read on the post page")
    assert len([m for m in phone.received() if "Marktplatz" in text_of(m)]) == 1

    # The city's website has it: the archive, the permalink, the feed.
    page.context.clear_cookies()
    page.goto(f"{stack.app_url}/archiv/")
    page.click("text=Stadtfest")
    assert "<strong>Samstag</strong>" in page.inner_html("article")
    feed = page.request.get(f"{stack.app_url}/archiv/rss/")
    assert feed.ok and "<title>Stadtfest</title>" in feed.text()
