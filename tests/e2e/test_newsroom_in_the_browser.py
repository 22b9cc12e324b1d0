"""The demo's newsroom in a real browser against the running app, worker and emulator: an
editor logs in and writes a post and sees its preview, audience and cost, submits it; an
approver logs in with her second factor and approves it; the citizen's phone receives it and
reads it; the post page follows it."""

from __future__ import annotations

import re

import pytest

from tests.e2e.phone import Phone, text_of
from tests.e2e.stack import wait_until
from tests.e2e.staff import create_staff, totp_code

pytestmark = pytest.mark.e2e


def test_write_preview_submit_approve_and_follow_a_post(stack, page):
    try:
        _walk_through(stack, page)
    except AssertionError:
        print(stack.logs())
        raise


def _log_in(page, stack, name: str, password: str, totp_key: str | None = None) -> None:
    page.context.clear_cookies()
    page.goto(f"{stack.app_url}/admin/")  # the staff area sends a stranger to the login
    page.fill("#id_username", name)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")
    if totp_key is not None:
        page.wait_for_url(re.compile(r".*/staff/code/"))
        page.fill("#id_code", totp_code(totp_key))
        page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/admin/$"))


def _run_action(page, stack, post_id: int, action: str) -> str:
    page.goto(f"{stack.app_url}/admin/broadcasts/post/")
    page.check(f"input[name=_selected_action][value='{post_id}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    return page.inner_text(".messagelist")


def _walk_through(stack, page) -> None:
    phone = Phone(stack, "491701234567")
    phone.write("Start")
    question = phone.wait_for(lambda m: m["type"] == "interactive", "the confirmation question")
    phone.tap(question, "subscription:confirm")
    phone.wait_for_text("Willkommen")

    password, key = create_staff(stack)

    # The editor writes the post and sees it as the phone will show it.
    _log_in(page, stack, "redaktion", password)
    page.goto(f"{stack.app_url}/admin/broadcasts/post/add/")
    page.fill("#id_title", "Stadtfest")
    page.fill("#id_text", "Am *Samstag* ist Stadtfest auf dem Marktplatz.")
    page.fill("#id_link", "https://stadt.example/stadtfest")
    page.click("input[name=_continue]")
    post_id = int(re.search(r"/post/(\d+)/change/", page.url).group(1))
    preview = page.inner_html(".field-preview")
    assert "<strong>Samstag</strong>" in preview
    assert "https://stadt.example/stadtfest" in preview
    assert "1 Empfänger" in page.inner_text(".field-audience")
    assert "eingereicht" in _run_action(page, stack, post_id, "submit")

    # An editor is not offered approval at all; the approver, with her second factor, is.
    page.goto(f"{stack.app_url}/admin/broadcasts/post/")
    assert "approve" not in page.eval_on_selector_all(
        "select[name=action] option", "options => options.map(o => o.value)"
    )
    _log_in(page, stack, "freigabe", password, totp_key=key)
    assert "freigegeben" in _run_action(page, stack, post_id, "approve")

    # The citizen gets it once and reads it; the post page follows.
    phone.wait_for_text("Stadtfest auf dem Marktplatz")
    phone.read_all()

    def read_on_the_post_page() -> str | None:
        page.goto(f"{stack.app_url}/admin/broadcasts/post/{post_id}/change/")
        funnel = page.inner_text(".field-funnel")
        return funnel if "1 gelesen" in funnel else None

    funnel = wait_until(read_on_the_post_page, what="the read receipt on the post page")
    assert "1 gesamt" in funnel and "0 fehlgeschlagen" in funnel
    copy = page.input_value(".field-channel_copy textarea")
    assert copy.startswith("*Stadtfest*")
    assert len([m for m in phone.received() if "Marktplatz" in text_of(m)]) == 1

    # The city's website has it too: the archive, its permalink, and the feed.
    page.context.clear_cookies()
    page.goto(f"{stack.app_url}/archiv/")
    page.click("text=Stadtfest")
    assert "<strong>Samstag</strong>" in page.inner_html("article")
    feed = page.request.get(f"{stack.app_url}/archiv/rss/")
    assert feed.ok and "<title>Stadtfest</title>" in feed.text()
