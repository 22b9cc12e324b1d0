"""Media, location, reaction, list and template sends, uploads and template definitions:
whatever is posted, the answer is 200 or a Graph error, never a server error."""

from __future__ import annotations

import functools
import json
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whatsapp_emulator.app import create_app

from .content_support import MEDIA_PATH, TEMPLATES_PATH
from .support import AUTH, CITIZEN, SEND_PATH, make_config, running
from .test_graph_fuzzing import json_values, mostly, obj

texts = mostly(st.text(min_size=1, max_size=20)) | st.sampled_from(
    ["", " ", "x" * 1025, "👍", "👍👍"]
)
numbers = st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=8))
media_object = obj(
    {}, {"id": texts, "link": mostly(st.just("https://a.example/x")), "caption": texts}
)
section = obj(
    {
        "rows": mostly(
            st.lists(obj({"id": texts, "title": texts}, {"description": texts}), max_size=4)
        )
    },
    {"title": texts},
)
template_component = obj(
    {"type": mostly(st.sampled_from(["body", "header", "button", "BODY", "footer"]))},
    {
        "parameters": mostly(
            st.lists(
                obj(
                    {"type": mostly(st.sampled_from(["text", "payload", "image", "currency"]))},
                    {"text": texts, "payload": texts, "image": media_object},
                ),
                max_size=4,
            )
        ),
        "sub_type": mostly(st.sampled_from(["quick_reply", "url", "QUICK_REPLY"])),
        "index": st.one_of(st.integers(-2, 12), st.text(max_size=3)),
    },
)
contents: dict[str, st.SearchStrategy[Any]] = {
    "image": media_object,
    "document": obj({}, {"id": texts, "link": texts, "filename": texts, "caption": texts}),
    "sticker": media_object,
    "location": obj({"latitude": numbers, "longitude": numbers}, {"name": texts}),
    "reaction": obj({"message_id": texts}, {"emoji": texts}),
    "interactive": obj(
        {
            "type": mostly(st.just("list")),
            "body": obj({"text": texts}),
            "action": obj({"button": texts, "sections": mostly(st.lists(section, max_size=3))}),
        }
    ),
    "template": obj(
        {
            "name": mostly(st.sampled_from(["hello_world", "abc"])),
            "language": obj({"code": mostly(st.sampled_from(["en_US", "de"]))}),
        },
        {"components": mostly(st.lists(template_component, max_size=4))},
    ),
}
sends = st.sampled_from(sorted(contents)).flatmap(
    lambda kind: st.fixed_dictionaries(
        {
            "messaging_product": st.just("whatsapp"),
            "to": st.just(CITIZEN),
            "type": mostly(st.just(kind)),
            kind: contents[kind],
        }
    )
)
definitions = obj(
    {
        "name": mostly(st.sampled_from(["a_b", "x"])) | texts,
        "language": mostly(st.sampled_from(["de", "en_US"])),
        "category": mostly(st.sampled_from(["UTILITY", "MARKETING"])),
        "components": mostly(
            st.lists(
                obj(
                    {"type": mostly(st.sampled_from(["BODY", "HEADER", "FOOTER", "BUTTONS"]))},
                    {
                        "text": mostly(st.sampled_from(["Hi {{1}}", "Hi", "{{a}}"])) | texts,
                        "format": mostly(st.sampled_from(["TEXT", "IMAGE"])),
                        "example": json_values,
                        "buttons": mostly(
                            st.lists(obj({"type": mostly(st.just("QUICK_REPLY")), "text": texts}))
                        ),
                    },
                ),
                max_size=4,
            )
        ),
    },
    {"parameter_format": mostly(st.sampled_from(["NAMED", "POSITIONAL"]))},
)


def _multipart(fields: list[tuple[str, bytes]], boundary: str) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value
        for name, value in fields
    ]
    return b"\r\n".join(parts) + f"\r\n--{boundary}--\r\n".encode()


uploads = st.one_of(
    st.binary(max_size=300),
    st.lists(
        st.tuples(
            st.sampled_from(["file", "type", "messaging_product", "x"]),
            st.sampled_from([b"whatsapp", b"image/png", b"image/gif", b"", b"\x89PNG"])
            | st.binary(max_size=20),
        ),
        max_size=5,
    ).map(lambda fields: _multipart(fields, "fuzz")),
)


def _check(response: httpx.Response) -> None:
    assert response.status_code in {200, 400, 401}, response.text
    answer = response.json()
    if response.status_code != 200:
        error = answer["error"]
        assert isinstance(error["code"], int)
        assert isinstance(error["message"], str)
        assert isinstance(error["error_data"]["details"], str)


def _post(
    portal: BlockingPortal, client: httpx.AsyncClient, path: str, **kwargs: Any
) -> httpx.Response:
    return portal.call(
        functools.partial(client.post, path, headers=kwargs.pop("headers", AUTH), **kwargs)
    )


def test_content_routes_never_fail_with_a_server_error() -> None:
    with (
        start_blocking_portal("asyncio") as portal,
        portal.wrap_async_context_manager(running(create_app(make_config()))) as client,
    ):
        fuzz = settings(
            max_examples=150,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )

        @fuzz
        @given(body=sends)
        def check_send(body: dict[str, Any]) -> None:
            _check(_post(portal, client, SEND_PATH, content=json.dumps(body).encode()))

        @fuzz
        @given(body=definitions)
        def check_definition(body: Any) -> None:
            _check(_post(portal, client, TEMPLATES_PATH, content=json.dumps(body).encode()))

        @fuzz
        @given(body=uploads)
        def check_upload(body: bytes) -> None:
            headers = {**AUTH, "Content-Type": "multipart/form-data; boundary=fuzz"}
            _check(_post(portal, client, MEDIA_PATH, content=body, headers=headers))

        check_send()
        check_definition()
        check_upload()
        for path in ("/_emulator/messages", "/_emulator/users", "/_emulator/templates"):
            assert portal.call(client.get, path).status_code == 200
