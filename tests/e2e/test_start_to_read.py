"""From a citizen's "Start" on the emulator's phone to the read receipt in the post's counts,
with the app, its worker(s) and the emulator as separate processes talking HTTP."""

from __future__ import annotations

import pytest

from tests.e2e.phone import Phone, text_of
from tests.e2e.stack import request, wait_until

pytestmark = pytest.mark.e2e


def test_a_citizen_subscribes_gets_a_post_and_reads_it(stack):
    try:
        _walk_through(stack, Phone(stack, "491701234567"))
    except AssertionError:
        print(stack.logs())
        raise


def _walk_through(stack, phone: Phone) -> None:
    # 1. The citizen writes "Start" and gets the confirmation question with buttons.
    phone.write("Start")
    question = phone.wait_for(lambda m: m["type"] == "interactive", "the confirmation question")

    # 2. The citizen taps "Ja, anmelden" and is welcomed.
    phone.tap(question, "subscription:confirm")
    phone.wait_for_text("Willkommen")

    # 3. An editor writes and submits a post, a second person approves it (four eyes).
    stack.command(
        "createsuperuser", "--no-input", "--username", "editor", "--email", "e@example.org"
    )
    stack.command(
        "createsuperuser", "--no-input", "--username", "approver", "--email", "a@example.org"
    )
    auth = {"Authorization": f"Bearer {stack.command('create_api_token', 'editor').strip()}"}
    approver = {"Authorization": f"Bearer {stack.command('create_api_token', 'approver').strip()}"}
    status, post = request(
        "POST",
        f"{stack.app_url}/api/v1/posts",
        {"title": "Baustelle", "text": "Die *Hauptstraße* ist ab Montag gesperrt."},
        auth,
    )
    assert status == 201, post
    status, body = request("POST", f"{stack.app_url}/api/v1/posts/{post['id']}/submit", None, auth)
    assert (status, body["status"]) == (200, "submitted"), body
    status, body = request(
        "POST", f"{stack.app_url}/api/v1/posts/{post['id']}/approve", {}, approver
    )
    assert (status, body["status"]) == (200, "sending"), body

    # 4. The phone receives it, the citizen opens the chat, and the read receipt comes back.
    phone.wait_for_text("Hauptstraße")
    phone.read_all()

    def counts() -> dict | None:
        _, body = request(
            "GET", f"{stack.app_url}/api/v1/posts/{post['id']}/deliveries", None, auth
        )
        return body if body.get("read") == 1 else None

    final = wait_until(counts, what="the read receipt in the post's counts")
    assert final["total"] == 1
    assert final["failed"] == 0

    # The post reached the citizen exactly once.
    assert len([m for m in phone.received() if "Hauptstraße" in text_of(m)]) == 1
