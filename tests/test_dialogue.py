"""A citizen's messages, from the stored webhook to the state change and the queued answer."""

from __future__ import annotations

import pytest

from stadtbote.broadcasts.models import Delivery
from stadtbote.channels.models import InboundWebhook, SendState
from stadtbote.dialogue import tasks, texts
from stadtbote.dialogue.models import Reply
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import ConsentEvent, Subscriber
from tests.helpers import (
    ALICE,
    active_subscriber,
    button_reply,
    compact,
    post_webhook,
    text_message,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    """Replies stay queued so the tests can look at them; sending is tested elsewhere."""
    monkeypatch.setattr(tasks, "send_replies", lambda: None)
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


@pytest.fixture
def always_open():
    """No office hours: the acknowledgement alone, at any hour the suite runs (what is said
    outside office hours is tests/test_auto_answers.py's)."""
    from stadtbote.inbox.models import OfficeHours

    OfficeHours.objects.all().delete()


def receive(client, payload) -> None:
    assert post_webhook(client, compact(payload)).status_code == 200
    tasks.apply_inbound_once()


def replies() -> list[str]:
    return [r.content["text"] for r in Reply.objects.order_by("id")]


def test_start_asks_for_confirmation_with_a_button_and_records_the_request(client):
    receive(client, text_message(ALICE, "Start"))
    subscriber = subscribers.find(ALICE)
    assert subscriber.status == Subscriber.Status.PENDING
    reply = Reply.objects.get()
    assert [b["id"] for b in reply.content["buttons"]] == [
        texts.CONFIRM_BUTTON,
        texts.DECLINE_BUTTON,
    ]
    event = ConsentEvent.objects.get()
    assert event.action == ConsentEvent.Action.REQUESTED
    assert event.wording == reply.content["text"]
    assert event.subscriber_ref == subscriber.phone_index


def test_confirming_subscribes_and_welcomes(client):
    receive(client, text_message(ALICE, "Start"))
    receive(client, button_reply(ALICE, texts.CONFIRM_BUTTON))
    subscriber = subscribers.find(ALICE)
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.confirmed_at is not None
    assert replies()[-1] == texts.welcome().text
    assert list(ConsentEvent.objects.values_list("action", flat=True).order_by("id")) == [
        "requested",
        "confirmed",
    ]


def test_a_confirm_tap_without_a_request_subscribes_nobody(client):
    receive(client, button_reply(ALICE, texts.CONFIRM_BUTTON))
    assert subscribers.find(ALICE).status == Subscriber.Status.CONTACT
    assert replies() == [texts.not_subscribed().text]


def test_declining_leaves_the_citizen_unsubscribed(client):
    receive(client, text_message(ALICE, "Start"))
    receive(client, button_reply(ALICE, texts.DECLINE_BUTTON))
    assert subscribers.find(ALICE).status == Subscriber.Status.CONTACT


def test_stop_unsubscribes_at_once_and_withdraws_what_is_queued(client, django_user_model):
    from stadtbote.broadcasts import actions

    subscriber = active_subscriber()
    author = django_user_model.objects.create(username="editor")
    post = actions.create_post(author, title="T", text="News")
    actions.send_post(post)
    receive(client, text_message(ALICE, "Stopp!"))
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    delivery = Delivery.objects.get()
    assert delivery.state == SendState.FAILED
    assert delivery.last_error == "unsubscribed"
    assert replies()[-1] == texts.unsubscribed().text
    assert ConsentEvent.objects.order_by("-id").first().action == "withdrawn"


def test_stop_works_mid_dialogue(client):
    receive(client, text_message(ALICE, "Start"))
    receive(client, text_message(ALICE, "stop"))
    assert subscribers.find(ALICE).status == Subscriber.Status.UNSUBSCRIBED


def test_start_when_subscribed_says_so(client):
    active_subscriber()
    receive(client, text_message(ALICE, "Start"))
    assert replies() == [texts.already_subscribed().text]


def test_the_same_message_in_two_webhooks_is_answered_once(client):
    first = text_message(ALICE, "Start", message_id="wamid.SAME")
    second = text_message(ALICE, "Start", message_id="wamid.SAME")
    second["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] = "Other"
    receive(client, first)
    receive(client, second)
    assert Reply.objects.count() == 1
    assert InboundWebhook.objects.filter(state="applied").count() == 2


def test_a_malformed_webhook_is_marked_and_the_next_one_still_applies(client):
    post_webhook(client, b'{"object":"whatsapp_business_account","entry":"x"}')
    receive(client, text_message(ALICE, "Start"))
    states = dict(InboundWebhook.objects.values_list("id", "state"))
    assert sorted(states.values()) == ["applied", "malformed"]
    assert subscribers.find(ALICE).status == Subscriber.Status.PENDING


def test_a_failing_handler_marks_the_webhook_and_rolls_back_its_effects(client, monkeypatch):
    def explode(event):
        subscribers.find_or_create(event.sender)
        raise RuntimeError("boom with +491701234567")

    monkeypatch.setattr("stadtbote.dialogue.router.handle", explode)
    post_webhook(client, compact(text_message(ALICE, "Start")))
    tasks.apply_inbound_once()
    row = InboundWebhook.objects.get()
    assert row.state == "failed"
    assert "491701234567" not in row.error
    assert not Subscriber.objects.exists()


def test_other_text_from_a_stranger_lands_in_the_inbox_with_a_hint_to_send_start(
    client, always_open
):
    from stadtbote.inbox.models import Message

    receive(client, text_message(ALICE, "Wann fährt der Bus?"))
    assert replies() == [texts.received_from_stranger().text]
    assert list(Message.objects.values_list("direction", "text")) == [
        ("in", "Wann fährt der Bus?"),
        ("auto", texts.received_from_stranger().text),  # staff see what the citizen was told
    ]


def test_no_phone_number_is_stored_in_clear(client):
    receive(client, text_message(ALICE, "Start"))
    subscriber = subscribers.find(ALICE)
    assert ALICE not in subscriber.phone_index
    assert ALICE.encode() not in bytes(subscriber.phone_encrypted)
    assert subscriber.phone == ALICE


def test_a_photo_from_a_subscriber_is_answered_once(client, always_open):
    from tests.helpers import envelope, wamid

    active_subscriber()
    photo = envelope(
        {
            "contacts": [{"profile": {"name": "Test"}, "wa_id": ALICE}],
            "messages": [
                {
                    "from": ALICE,
                    "id": wamid(),
                    "timestamp": "1700000000",
                    "type": "image",
                    "image": {"mime_type": "image/jpeg", "sha256": "x", "id": "123"},
                }
            ],
        }
    )
    receive(client, photo)
    assert replies() == [texts.received().text]


def test_a_reaction_is_not_answered(client):
    from tests.helpers import envelope, wamid

    active_subscriber()
    reaction = envelope(
        {
            "messages": [
                {
                    "from": ALICE,
                    "id": wamid(),
                    "timestamp": "1700000000",
                    "type": "reaction",
                    "reaction": {"message_id": "wamid.POST", "emoji": "👍"},
                }
            ]
        }
    )
    receive(client, reaction)
    assert replies() == []
    assert InboundWebhook.objects.get().state == "applied"
