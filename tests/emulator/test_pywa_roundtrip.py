"""pywa, an independent client, against the emulator: every send, media, templates, webhooks.

pywa sets its base URL to https://graph.facebook.com/v{version} on the session it is given.
An ``httpx.AsyncClient`` with ``ASGITransport`` routes by path only, so pywa_async talks to
the emulator in-process without touching the network, the media download URL included.
Webhooks the emulator really sent (received by a local HTTP server) are fed, byte for byte
with their ``X-Hub-Signature-256``, to pywa's own signature check and update parser.

Where pywa and the contract disagree, the contract decides:
- ``file_size`` of ``GET /{media_id}``: pywa's docstring shows a number, Meta's OpenAPI
  schema and example (contract 1.6) a string; the emulator answers a string, which pywa
  passes through unchanged.
- pywa sends template button components with ``"index": 0`` (a number) and upper-case
  ``"type": "BODY"`` / ``"sub_type": "QUICK_REPLY"``; the contract documents a string index
  and lower case. Meta's own OpenAPI examples use numbers too, so the emulator accepts both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pywa_async import WhatsApp, errors, types
from pywa_async.types.templates import (
    BodyText,
    Buttons,
    FooterText,
    HeaderText,
    ParamFormat,
    QuickReplyButton,
    Template,
    TemplateCategory,
    TemplateLanguage,
    TemplateStatus,
)
from starlette.applications import Starlette

from whatsapp_emulator.app import create_app

from .content_support import PDF, PNG
from .support import (
    ACCESS_TOKEN,
    APP_SECRET,
    BUSINESS_ACCOUNT_ID,
    CITIZEN,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    Received,
    make_config,
    receiver,
    wait_until,
)

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def pywa_client(app: Starlette, **options: Any) -> AsyncIterator[WhatsApp]:
    async with app.router.lifespan_context(app):
        # trust_env=False: a proxy from the environment must not take the requests.
        session = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), trust_env=False)
        async with session:
            yield WhatsApp(
                phone_id=PHONE_NUMBER_ID,
                token=ACCESS_TOKEN,
                session=session,
                waba_id=BUSINESS_ACCOUNT_ID,
                api_version="23.0",
                **options,
            )


async def chat(app: Starlette) -> list[dict[str, Any]]:
    user = app.state.emulator.state.users.get(CITIZEN)
    return [] if user is None else [message.to_json() for message in user.messages]


async def test_pywa_sends_every_message_type_and_the_emulator_records_it() -> None:
    app = create_app(make_config())
    async with pywa_client(app) as wa:
        text = await wa.send_message(CITIZEN, "Die Biotonne kommt morgen.")
        buttons = await wa.send_message(
            CITIZEN,
            "Möchten Sie Nachrichten bekommen?",
            header="Stadt Musterstadt",
            footer="STOP zum Abmelden",
            buttons=[
                types.Button(title="Ja", callback_data="ja"),
                types.Button(title="Nein", callback_data="nein"),
            ],
        )
        selection = await wa.send_message(
            CITIZEN,
            "Welcher Termin passt?",
            buttons=types.SectionList(
                button_title="Termine",
                sections=[
                    types.Section(
                        title="Vormittag",
                        rows=[
                            types.SectionRow(
                                title="9 Uhr", callback_data="t9", description="Bürgeramt"
                            )
                        ],
                    ),
                    types.Section(
                        title="Nachmittag",
                        rows=[types.SectionRow(title="15 Uhr", callback_data="t15")],
                    ),
                ],
            ),
        )
        image = await wa.send_image(CITIZEN, PNG, caption="Neues Rathaus", mime_type="image/png")
        linked = await wa.send_image(CITIZEN, "https://stadt.example/plan.jpg")
        document = await wa.send_document(
            CITIZEN, PDF, filename="amtsblatt.pdf", caption="Amtsblatt", mime_type="application/pdf"
        )
        location = await wa.send_location(
            CITIZEN, 52.5186, 13.4081, name="Rathaus", address="Markt 1"
        )
        reaction = await wa.send_reaction(CITIZEN, "👍", text.id)
        removed = await wa.remove_reaction(CITIZEN, text.id)
        messages = await chat(app)

    sent_ids = [
        m.id
        for m in (text, buttons, selection, image, linked, document, location, reaction, removed)
    ]
    assert [message["id"] for message in messages] == sent_ids
    assert [message["type"] for message in messages] == [
        "text",
        "interactive",
        "interactive",
        "image",
        "image",
        "document",
        "location",
        "reaction",
        "reaction",
    ]
    assert messages[0]["text"] == "Die Biotonne kommt morgen."
    assert messages[1]["interactive"]["action"]["buttons"][1]["reply"] == {
        "id": "nein",
        "title": "Nein",
    }
    assert messages[2]["interactive"]["action"]["sections"][0]["rows"][0]["id"] == "t9"
    assert messages[3]["media"]["caption"] == "Neues Rathaus"
    assert messages[3]["media"]["mime_type"] == "image/png"
    assert messages[4]["media"] == {"link": "https://stadt.example/plan.jpg"}
    assert messages[5]["media"]["filename"] == "amtsblatt.pdf"
    assert messages[6]["location"]["name"] == "Rathaus"
    assert messages[7]["reaction"] == {"message_id": text.id, "emoji": "👍"}
    assert messages[8]["reaction"] == {"message_id": text.id, "emoji": ""}


async def test_pywa_reads_typing_and_marks_as_read() -> None:
    app = create_app(make_config())
    async with pywa_client(app) as wa:
        received = app.state.emulator.receive_text(CITIZEN, "Wann ist Sperrmüll?", "Erika")
        typing = await wa.indicate_typing(received.id)
        read = await wa.mark_message_as_read(received.id)

    assert typing.success is True
    assert read.success is True
    assert received.status == "read"


async def test_pywa_uploads_reads_downloads_and_deletes_media() -> None:
    app = create_app(make_config())
    async with pywa_client(app) as wa:
        uploaded = await wa.upload_media(PDF, mime_type="application/pdf", filename="a.pdf")
        url = await wa.get_media_url(uploaded.id)
        chunks = [chunk async for chunk in wa.stream_media(url.url)]
        deleted = await wa.delete_media(uploaded.id)
        with pytest.raises(errors.WhatsAppError) as gone:
            await wa.get_media_url(uploaded.id)

    assert url.id == uploaded.id
    assert url.mime_type == "application/pdf"
    assert str(url.file_size) == str(len(PDF))
    assert b"".join(chunks) == PDF
    assert deleted.success is True
    assert gone.value.code == 100


async def test_pywa_creates_lists_and_sends_templates() -> None:
    app = create_app(make_config())
    template = Template(
        name="abholung",
        category=TemplateCategory.UTILITY,
        language=TemplateLanguage.GERMAN,
        parameter_format=ParamFormat.NAMED,
        components=[
            header := HeaderText(text="Abfall in {{ort}}", ort="Musterstadt"),
            body := BodyText(
                text="Hallo {{name}}, morgen kommt die {{tonne}}.", name="Erika", tonne="Biotonne"
            ),
            FooterText(text="Ihre Stadtverwaltung"),
            Buttons(buttons=[stop := QuickReplyButton(text="Abmelden")]),
        ],
    )
    async with pywa_client(app) as wa:
        created = await wa.create_template(template=template)
        templates = await wa.get_templates(languages=[TemplateLanguage.GERMAN])
        details = await wa.get_template(created.id)
        sent = await wa.send_template(
            to=CITIZEN,
            template=template,
            params=[
                header.params(ort="Neustadt"),
                body.params(name="Ali", tonne="Papiertonne"),
                stop.params(callback_data="stop:abfall", index=0),
            ],
        )
        messages = await chat(app)

    assert created.status == TemplateStatus.APPROVED
    assert [t.name for t in templates] == ["abholung"]
    assert templates.total_count == 1
    assert details.status == TemplateStatus.APPROVED
    [message] = messages
    assert message["id"] == sent.id
    assert message["text"] == "Hallo Ali, morgen kommt die Papiertonne."
    assert message["template"]["header"]["text"] == "Abfall in Neustadt"
    assert message["template"]["buttons"] == [
        {"type": "quick_reply", "index": "0", "text": "Abmelden", "payload": "stop:abfall"}
    ]


async def test_pywa_gets_meta_errors_as_its_typed_exceptions() -> None:
    app = create_app(make_config())
    async with pywa_client(app) as wa:
        with pytest.raises(errors.TemplateNotExists) as missing:
            await wa.send_template(
                to=CITIZEN, name="gibt_es_nicht", language=TemplateLanguage.GERMAN
            )
        with pytest.raises(errors.WhatsAppError) as too_long:
            await wa.send_message(CITIZEN, "x" * 4097)

    assert missing.value.code == 132001
    assert too_long.value.code == 100


async def feed(wa: WhatsApp, received: Received) -> None:
    """Hand a delivered webhook to pywa exactly as a web server would."""
    signature = received.headers["X-Hub-Signature-256"]
    assert await wa.webhook_update_validator(received.body, signature) is None
    assert await wa.webhook_update_handler(received.body) == ("ok", 200)


class ErrorLog(logging.Handler):
    """Collects pywa's error log lines: pywa logs and swallows updates it cannot build."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_pywa_verifies_and_parses_every_webhook_the_emulator_sends() -> None:
    # pywa 4.5 builds every user from contacts[].user_id (the 2026 BSUID form of its
    # fixtures, contract 2.3 and 2.9), so the emulator sends BSUID fields here.
    updates: list[tuple[str, Any]] = []
    pywa_errors = ErrorLog()
    pywa_logger = logging.getLogger("pywa")
    pywa_logger.addHandler(pywa_errors)
    async with receiver() as hook:
        app = create_app(make_config(webhook_url=hook.url, bsuid=True))
        async with pywa_client(app, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN) as wa:

            @wa.on_message()
            async def on_message(_: WhatsApp, message: types.Message) -> None:
                updates.append(("message", message))

            @wa.on_callback_button()
            async def on_button(_: WhatsApp, button: types.CallbackButton) -> None:
                updates.append(("button", button))

            @wa.on_callback_selection()
            async def on_selection(_: WhatsApp, selection: types.CallbackSelection) -> None:
                updates.append(("selection", selection))

            @wa.on_message_status()
            async def on_status(_: WhatsApp, status: types.MessageStatus) -> None:
                updates.append(("status", status))

            @wa.on_template_status_update()
            async def on_template(_: WhatsApp, update: types.TemplateStatusUpdate) -> None:
                updates.append(("template", update))

            template = Template(
                name="rueckfrage",
                category=TemplateCategory.MARKETING,
                language=TemplateLanguage.GERMAN,
                components=[
                    BodyText("Neuigkeiten aus dem Rathaus"),
                    Buttons(buttons=[QuickReplyButton(text="Mehr")]),
                ],
            )
            await wa.create_template(template=template)
            buttons = await wa.send_message(
                CITIZEN, "Ja?", buttons=[types.Button(title="Ja", callback_data="ja")]
            )
            rows = await wa.send_message(
                CITIZEN,
                "Welcher?",
                buttons=types.SectionList(
                    button_title="Wählen",
                    sections=[
                        types.Section(
                            title="A", rows=[types.SectionRow(title="Eins", callback_data="r1")]
                        )
                    ],
                ),
            )
            sent_template = await wa.send_template(
                to=CITIZEN, name="rueckfrage", language=TemplateLanguage.GERMAN
            )
            control = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://emulator"
            )
            async with control:
                taps = [
                    {"type": "text", "text": "Grüße aus der Südstadt 👋"},
                    {"type": "button_reply", "id": "ja", "context_id": buttons.id},
                    {"type": "list_reply", "id": "r1", "context_id": rows.id},
                    {"type": "button", "text": "Mehr", "context_id": sent_template.id},
                ]
                for tap in taps:
                    answer = await control.post(f"/_emulator/users/{CITIZEN}/send", json=tap)
                    assert answer.status_code == 200, answer.text
                # 1 template approval, 3 x sent and delivered, 4 messages from the phone.
                await wait_until(lambda: len(hook.requests) >= 11)
            for received in list(hook.requests):
                await feed(wa, received)
            await wait_until(lambda: len(updates) >= 11)
            # A tampered body fails pywa's check.
            tampered = hook.requests[0].body.replace(b"APPROVED", b"REJECTED")
            refused = await wa.webhook_update_validator(
                tampered, hook.requests[0].headers["X-Hub-Signature-256"]
            )
            await asyncio.sleep(0)

    kinds = [kind for kind, _ in updates]
    assert kinds.count("template") == 1
    assert kinds.count("status") == 6
    [(_, approved)] = [u for u in updates if u[0] == "template"]
    assert approved.new_status == TemplateStatus.APPROVED
    assert approved.template_name == "rueckfrage"
    texts = [update for kind, update in updates if kind == "message"]
    assert [message.text for message in texts] == ["Grüße aus der Südstadt 👋"]
    button_updates = [update for kind, update in updates if kind == "button"]
    assert sorted(str(b.data) for b in button_updates) == ["Mehr", "ja"]
    [selection] = [update for kind, update in updates if kind == "selection"]
    assert selection.data == "r1"
    assert selection.reply_to_message is not None
    assert selection.reply_to_message.id == rows.id
    pywa_logger.removeHandler(pywa_errors)
    assert pywa_errors.lines == []
    assert refused == ("Forbidden", 403)
