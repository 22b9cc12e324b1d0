"""The subscriber's whole life in the chat: choosing, pausing, asking, erasing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from stadtbote.broadcasts import actions as broadcasts
from stadtbote.broadcasts.models import Delivery
from stadtbote.channels.models import InboundWebhook, StatusEvent
from stadtbote.dialogue import tasks, texts
from stadtbote.dialogue.models import ReceivedMessage, Reply
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import ConsentEvent, District, Subscriber, Topic
from tests.helpers import (
    ALICE,
    active_subscriber,
    button_reply,
    compact,
    envelope,
    post_webhook,
    status,
    text_message,
    wamid,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


@pytest.fixture
def topics() -> list[Topic]:
    return [
        Topic.objects.create(name=name, slug=name.lower(), position=n)
        for n, name in enumerate(["Baustellen", "Feste", "Warnungen"])
    ]


def receive(client, payload) -> None:
    assert post_webhook(client, compact(payload)).status_code == 200
    tasks.apply_inbound_once()


def last_reply() -> dict:
    return Reply.objects.order_by("-id").first().content


def list_reply(sender: str, row_id: str, at: int | None = None) -> dict:
    return envelope(
        {
            "messages": [
                {
                    "from": sender,
                    "id": wamid(),
                    "timestamp": str(at or int(datetime.now(UTC).timestamp())),
                    "type": "interactive",
                    "interactive": {
                        "type": "list_reply",
                        "list_reply": {"id": row_id, "title": "x"},
                    },
                }
            ]
        }
    )


def test_topics_are_chosen_from_a_list_one_tap_at_a_time(client, topics):
    subscriber = active_subscriber()
    receive(client, text_message(ALICE, "Themen"))
    menu = last_reply()["menu"]
    assert [r["id"] for r in menu["rows"]] == [f"topic:{t.pk}" for t in topics] + [
        "topic:all",
        "topic:done",
    ]
    receive(client, list_reply(ALICE, f"topic:{topics[0].pk}"))
    receive(client, list_reply(ALICE, f"topic:{topics[2].pk}"))
    assert set(subscriber.topics.all()) == {topics[0], topics[2]}
    assert last_reply()["menu"]["rows"][0]["title"] == "✓ Baustellen"
    receive(client, list_reply(ALICE, f"topic:{topics[0].pk}"))  # tap again: unchosen
    assert set(subscriber.topics.all()) == {topics[2]}
    receive(client, list_reply(ALICE, "topic:all"))
    assert not subscriber.topics.exists()
    receive(client, list_reply(ALICE, "topic:done"))
    assert last_reply()["text"] == texts.saved().text


def test_a_tap_on_a_topic_that_no_longer_exists_shows_the_list_again(client, topics):
    active_subscriber()
    receive(client, list_reply(ALICE, "topic:99999"))
    assert "menu" in last_reply()
    receive(client, list_reply(ALICE, "topic:not-a-number"))
    assert "menu" in last_reply()
    for odd in ("topic:²", "district:²", "pause:²", "topic:" + "9" * 40):  # digits int() refuses
        receive(client, list_reply(ALICE, odd))
    assert not InboundWebhook.objects.exclude(state=InboundWebhook.State.APPLIED).exists()


def test_districts_are_chosen_like_topics(client):
    districts = [
        District.objects.create(name=n, slug=n.lower()) for n in ["Ketschendorf", "Cortendorf"]
    ]
    subscriber = active_subscriber()
    receive(client, text_message(ALICE, "Stadtteil"))
    receive(client, list_reply(ALICE, f"district:{districts[1].pk}"))
    assert list(subscriber.districts.all()) == [districts[1]]


def test_without_districts_the_citizen_is_told_so(client):
    active_subscriber()
    receive(client, text_message(ALICE, "Stadtteil"))
    assert last_reply()["text"] == texts.no_districts().text


def test_choosing_needs_a_subscription(client, topics):
    receive(client, text_message(ALICE, "Themen"))
    assert last_reply()["text"] == texts.not_subscribed().text
    receive(client, list_reply(ALICE, f"topic:{topics[0].pk}"))
    assert not subscribers.find(ALICE).topics.exists()


def test_language_switches_every_answer_to_english(client):
    subscriber = active_subscriber()
    receive(client, text_message(ALICE, "Sprache"))
    assert [b["id"] for b in last_reply()["buttons"]] == ["lang:de", "lang:en"]
    receive(client, button_reply(ALICE, "lang:en"))
    subscriber.refresh_from_db()
    assert subscriber.language == "en"
    receive(client, text_message(ALICE, "Hilfe"))
    assert last_reply()["text"] == texts.help_text("en").text


def test_an_english_start_asks_in_english(client):
    receive(client, text_message(ALICE, "Subscribe please"))
    assert last_reply()["text"] == texts.confirmation_question("en").text
    assert subscribers.find(ALICE).language == "en"


def test_pause_holds_posts_until_it_ends(client, django_user_model):
    subscriber = active_subscriber()
    receive(client, text_message(ALICE, "Pause"))
    assert [r["id"] for r in last_reply()["menu"]["rows"]] == [
        "pause:7",
        "pause:14",
        "pause:28",
        "pause:off",
    ]
    receive(client, list_reply(ALICE, "pause:14"))
    subscriber.refresh_from_db()
    assert subscriber.paused_until > timezone.now() + timedelta(days=13)
    post = broadcasts.create_post(
        django_user_model.objects.create(username="e"), title="T", text="x"
    )
    assert broadcasts.send_post(post) == 0
    receive(client, list_reply(ALICE, "pause:off"))
    subscriber.refresh_from_db()
    assert subscriber.paused_until is None


def test_data_tells_what_is_stored_without_the_full_number(client, topics):
    subscriber = active_subscriber()
    subscribers.toggle_topic(subscriber, topics[1])
    receive(client, text_message(ALICE, "meine Daten"))
    text = last_reply()["text"]
    assert "Feste" in text
    assert ALICE not in text
    assert "+49 ••• ••• 67" in text
    assert "angemeldet" in text


def test_help_offers_every_command_as_a_list(client):
    receive(client, text_message(ALICE, "hilfe"))
    ids = [r["id"] for r in last_reply()["menu"]["rows"]]
    assert ids == [
        "menu:report",
        "menu:topics",
        "menu:districts",
        "menu:pause",
        "menu:language",
        "menu:data",
        "menu:erase",
        "menu:stop",
    ]
    receive(client, list_reply(ALICE, "menu:data"))
    assert "Telefonnummer" in last_reply()["text"]


def test_erase_asks_first_and_cancel_keeps_everything(client):
    active_subscriber()
    receive(client, text_message(ALICE, "Löschen"))
    assert [b["id"] for b in last_reply()["buttons"]] == [texts.ERASE_CONFIRM, texts.ERASE_CANCEL]
    receive(client, button_reply(ALICE, texts.ERASE_CANCEL))
    assert subscribers.find(ALICE) is not None


def test_erase_leaves_nothing_personal_behind(client, topics, django_user_model, settings):
    subscriber = active_subscriber()
    subscribers.toggle_topic(subscriber, topics[0])
    post = broadcasts.create_post(
        django_user_model.objects.create(username="e"), title="T", text="x"
    )
    broadcasts.send_post(post)
    Delivery.objects.update(message_id="wamid.D1", state=20)
    receive(client, status("wamid.D1", "delivered"))
    receive(client, text_message(ALICE, "Loeschen"))
    receive(client, button_reply(ALICE, texts.ERASE_CONFIRM))

    assert subscribers.find(ALICE) is None
    assert not Subscriber.objects.exists()
    assert not ReceivedMessage.objects.exists()
    assert not StatusEvent.objects.filter(message_id="wamid.D1").exists()
    delivery = Delivery.objects.get()  # the post's count keeps it, anonymous
    assert (delivery.subscriber_id, delivery.message_id) == (None, None)
    for body in InboundWebhook.objects.values_list("body", flat=True):
        assert f'"{ALICE}"'.encode() not in bytes(body)
    # The goodbye still goes out; its number is the only trace and is kept until it is sent.
    goodbye = Reply.objects.get()
    assert goodbye.subscriber is None
    assert goodbye.content["text"] == texts.erased().text
    # The ledger keeps its pseudonymous lines and records the erasure.
    actions = list(ConsentEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-1] == "erased"
    assert all(ALICE not in e.wording for e in ConsentEvent.objects.all())


def test_a_late_start_older_than_a_stop_does_not_resubscribe(client):
    subscriber = active_subscriber()
    now = int(datetime.now(UTC).timestamp())
    stop = text_message(ALICE, "Stop")
    stop["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(now)
    late_start = text_message(ALICE, "Start")
    late_start["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(now - 30)
    receive(client, stop)
    receive(client, late_start)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def test_a_start_in_the_same_second_as_a_stop_loses(client):
    active_subscriber()
    now = str(int(datetime.now(UTC).timestamp()))
    for text in ("Stop", "Start"):
        message = text_message(ALICE, text)
        message["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = now
        receive(client, message)
    assert subscribers.find(ALICE).status == Subscriber.Status.UNSUBSCRIBED


def test_a_newer_start_after_a_stop_asks_again(client):
    active_subscriber()
    now = int(datetime.now(UTC).timestamp())
    for text, at in (("Stop", now - 60), ("Start", now)):
        message = text_message(ALICE, text)
        message["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(at)
        receive(client, message)
    assert subscribers.find(ALICE).status == Subscriber.Status.PENDING


@pytest.mark.parametrize(
    "text", ["🙂", "x" * 10_000, "مرحبا", "שלום", "   ", "\u200f\u200e", "👍👍👍", "Start Stop"]
)
def test_any_text_gets_a_friendly_answer(client, text):
    receive(client, text_message(ALICE, text))
    assert InboundWebhook.objects.get().state == "applied"
    assert Reply.objects.count() == 1


def test_a_marketing_stop_in_whatsapp_keeps_posts_away(client, django_user_model):
    subscriber = active_subscriber()
    body = envelope({})
    body["entry"][0]["changes"][0] = {
        "field": "user_preferences",
        "value": {
            "messaging_product": "whatsapp",
            "user_preferences": [
                {
                    "wa_id": ALICE,
                    "detail": "stop",
                    "category": "marketing_messages",
                    "value": "stop",
                    "timestamp": 1731705721,
                }
            ],
        },
    }
    receive(client, body)
    subscriber.refresh_from_db()
    assert subscriber.marketing_stopped
    post = broadcasts.create_post(
        django_user_model.objects.create(username="e"), title="T", text="x"
    )
    assert broadcasts.send_post(post) == 0


@pytest.mark.parametrize(
    ("code", "field"), [(131026, "unreachable_code"), (131050, "marketing_stopped")]
)
def test_failures_that_concern_the_person_mark_the_subscriber(
    client, django_user_model, code, field
):
    subscriber = active_subscriber()
    post = broadcasts.create_post(
        django_user_model.objects.create(username="e"), title="T", text="x"
    )
    broadcasts.send_post(post)
    Delivery.objects.update(message_id="wamid.F1", state=15)
    receive(client, status("wamid.F1", "failed", errors=[{"code": code, "title": "t"}]))
    subscriber.refresh_from_db()
    assert getattr(subscriber, field)


def test_someone_marked_not_on_whatsapp_who_writes_is_reachable_again(client):
    subscriber = active_subscriber(wrote_just_now=False)
    subscriber.unreachable_code = 131026
    subscriber.save()
    receive(client, text_message(ALICE, "Hallo?"))
    subscriber.refresh_from_db()
    assert subscriber.unreachable_code is None


def test_a_changed_number_moves_the_subscription(client, topics):
    subscriber = active_subscriber()
    subscribers.toggle_topic(subscriber, topics[0])
    new_number = "491709999999"
    body = envelope(
        {
            "messages": [
                {
                    "from": ALICE,
                    "id": wamid(),
                    "timestamp": "1753851315",
                    "type": "system",
                    "system": {
                        "body": "changed",
                        "wa_id": new_number,
                        "type": "user_changed_number",
                    },
                }
            ]
        }
    )
    receive(client, body)
    assert subscribers.find(ALICE) is None
    moved = subscribers.find(new_number)
    assert moved.pk == subscriber.pk
    assert moved.phone == new_number
    assert list(moved.topics.all()) == [topics[0]]


def test_the_business_scoped_id_is_stored_beside_the_number(client):
    message = text_message(ALICE, "Start")
    message["entry"][0]["changes"][0]["value"]["contacts"][0]["user_id"] = "US.1349120865530274"
    receive(client, message)
    assert subscribers.find(ALICE).bsuid == "US.1349120865530274"


def test_unconfirmed_requests_expire(client):
    receive(client, text_message(ALICE, "Start"))
    Subscriber.objects.update(requested_at=timezone.now() - timedelta(hours=49))
    assert subscribers.expire_unconfirmed(timedelta(hours=48)) == 1
    assert subscribers.find(ALICE).status == Subscriber.Status.CONTACT
    receive(client, button_reply(ALICE, texts.CONFIRM_BUTTON))
    assert subscribers.find(ALICE).status == Subscriber.Status.CONTACT
