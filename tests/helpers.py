"""Named helpers for tests: webhook bodies as Meta sends them, signed posts, subscribers."""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.test import Client
from django.test.client import Client as _Client
from django.utils import timezone

from stadtbote.channels.whatsapp.signature import sign
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import Subscriber

ALICE = "491701234567"
BOB = "491709876543"
_ids = itertools.count(1)


def wamid() -> str:
    return f"wamid.TEST{next(_ids):08d}"


def envelope(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": settings.WHATSAPP["BUSINESS_ACCOUNT_ID"],
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "4915100000000",
                                "phone_number_id": settings.WHATSAPP["PHONE_NUMBER_ID"],
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def text_message(sender: str, text: str, message_id: str | None = None) -> dict[str, Any]:
    return envelope(
        {
            "contacts": [{"profile": {"name": "Test"}, "wa_id": sender}],
            "messages": [
                {
                    "from": sender,
                    "id": message_id or wamid(),
                    "timestamp": str(int(time.time())),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
    )


def button_reply(sender: str, button_id: str, context_id: str = "wamid.CTX") -> dict[str, Any]:
    return envelope(
        {
            "contacts": [{"profile": {"name": "Test"}, "wa_id": sender}],
            "messages": [
                {
                    "context": {"from": "4915100000000", "id": context_id},
                    "from": sender,
                    "id": wamid(),
                    "timestamp": str(int(time.time())),
                    "type": "interactive",
                    "interactive": {
                        "type": "button_reply",
                        "button_reply": {"id": button_id, "title": "Ja"},
                    },
                }
            ],
        }
    )


def status(message_id: str, state: str, recipient: str = ALICE, **extra: Any) -> dict[str, Any]:
    return envelope(
        {
            "statuses": [
                {
                    "id": message_id,
                    "status": state,
                    "timestamp": str(int(time.time())),
                    "recipient_id": recipient,
                    **extra,
                }
            ]
        }
    )


def compact(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def post_webhook(client: Client | _Client, body: bytes, signature: str | None = "auto") -> Any:
    headers = {}
    if signature == "auto":
        headers["HTTP_X_HUB_SIGNATURE_256"] = sign(settings.WHATSAPP["APP_SECRET"], body)
    elif signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post("/webhooks/whatsapp", data=body, content_type="application/json", **headers)


def active_subscriber(number: str = ALICE, *, wrote_just_now: bool = True) -> Subscriber:
    """Subscribed through the chat; by default inside WhatsApp's 24-hour window."""
    subscriber = subscribers.find_or_create(number)
    if wrote_just_now:
        subscribers.note_inbound(subscriber, timezone.now())
    subscribers.request_subscription(subscriber, wording="question")
    subscribers.confirm_subscription(subscriber, wording="welcome")
    subscriber.refresh_from_db()
    return subscriber


@contextlib.contextmanager
def emulator_server(**config_changes: Any) -> Iterator[Any]:
    """The real emulator, served over HTTP on a free port in this process, with the app's
    WhatsApp settings pointed at it. Yields the emulator core for inspection."""
    import socket
    import threading

    import uvicorn
    from django.test import override_settings

    from tests.emulator.support import make_config
    from whatsapp_emulator.app import create_app

    config = make_config(
        access_token=settings.WHATSAPP["ACCESS_TOKEN"],
        app_secret=settings.WHATSAPP["APP_SECRET"],
        **config_changes,
    )
    app = create_app(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    whatsapp = {**settings.WHATSAPP, "API_BASE_URL": f"http://127.0.0.1:{sock.getsockname()[1]}"}
    try:
        with override_settings(WHATSAPP=whatsapp):
            yield app.state.emulator
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def staff_login(client: Any, user: Any) -> None:
    """Logs `user` into the test client with a second factor already passed, as after the
    code step of the staff login (tests/test_staff_login.py tests that step itself)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test app", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def staff_with_roles(user_model: Any, **roles_by_name: Any) -> dict[str, Any]:
    """Staff accounts by name, each with its role (accounts.roles.Role), fresh from the
    database so that no permission is cached."""
    from stadtbote.accounts import roles

    made = {}
    for name, role in roles_by_name.items():
        user = user_model.objects.create(username=name)
        roles.assign(user, role)
        made[name] = user_model.objects.get(pk=user.pk)
    return made
