"""An answer written outside the 24-hour window waits; the citizen's next message, through
the real webhook and chat router, opens the window and the answer goes out then, once."""

from __future__ import annotations

import pytest
from django.test import Client

from stadtbote.dialogue import tasks
from stadtbote.dialogue.models import Reply
from stadtbote.inbox.models import Message
from tests.helpers import ALICE, compact, post_webhook, text_message
from tests.inbox_pages import citizen, reply_waiting_template, writes

pytestmark = pytest.mark.django_db


def _deliver(body: bytes) -> None:
    assert post_webhook(Client(), body).status_code == 200
    while tasks.apply_inbound_once():
        pass


def test_held_answers_go_out_when_the_citizen_writes_again(as_, people):
    conversation = writes(citizen(wrote_just_now=False), "Ist das erledigt?").conversation
    reply_waiting_template()
    agent = as_(people["gerd"])
    for text in ("Ja, seit gestern.", "Danke für die Geduld."):
        agent.post(f"/posteingang/{conversation.pk}/antworten/", {"text": text})
    assert Reply.objects.count() == 1  # only the invitation
    held = conversation.messages.filter(direction=Message.Direction.OUT)
    assert all(m.held for m in held)

    _deliver(compact(text_message(ALICE, "Antwort anzeigen")))

    texts = [r.content.get("text") for r in Reply.objects.order_by("id")]
    assert "Ja, seit gestern." in texts and "Danke für die Geduld." in texts
    assert texts.index("Ja, seit gestern.") < texts.index("Danke für die Geduld.")
    assert not conversation.messages.filter(held=True).exists()
    page = agent.get(f"/posteingang/{conversation.pk}/").text
    assert "wartet auf den Bürger" not in page

    count = Reply.objects.count()
    _deliver(compact(text_message(ALICE, "Noch etwas")))
    assert [r.content.get("text") for r in Reply.objects.order_by("id")[count:]].count(
        "Ja, seit gestern."
    ) == 0  # released once
