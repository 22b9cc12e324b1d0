"""Whatever is posted to the send route, the answer is 200, 400 or 401 with a JSON body."""

from __future__ import annotations

import functools
import json
from typing import Any

from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whatsapp_emulator.app import create_app

from .support import AUTH, SEND_PATH, make_config, running

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def mostly(likely: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Seven times in eight ``likely``, otherwise any JSON value."""
    return st.sampled_from([True] * 7 + [False]).flatmap(
        lambda pick: likely if pick else json_values
    )


def obj(
    required: dict[str, st.SearchStrategy[Any]],
    optional: dict[str, st.SearchStrategy[Any]] | None = None,
) -> st.SearchStrategy[Any]:
    """Mostly an object with the required fields and some optional ones, else any JSON."""
    return mostly(st.fixed_dictionaries(required, optional=optional or {}))


# Bodies close to valid ones reach the deeper checks that random JSON never gets past; each
# field is usually right and sometimes anything, so every check gets its turn.
texts = mostly(st.text(min_size=1, max_size=30)) | st.sampled_from(["", " ", "x" * 4097, "x" * 21])
button = obj({"type": mostly(st.just("reply")), "reply": obj({"id": texts, "title": texts})})
interactive = obj(
    {
        "type": mostly(st.sampled_from(["button", "button", "list"])),
        "body": obj({"text": texts}),
        "action": obj({"buttons": mostly(st.lists(button, min_size=1, max_size=4))}),
    },
    {
        "header": obj({"type": mostly(st.just("text")), "text": texts}),
        "footer": obj({"text": texts}),
    },
)
envelope = {
    "messaging_product": mostly(st.just("whatsapp")),
    "to": mostly(st.sampled_from(["491701234567", "+49 170 1234567", "4915100000000"])),
}
extras = {"context": obj({"message_id": texts}), "biz_opaque_callback_data": texts}
text_sends = st.fixed_dictionaries(
    {
        **envelope,
        "type": mostly(st.sampled_from(["text", "image"])),
        "text": obj({"body": texts}, {"preview_url": mostly(st.booleans())}),
    },
    optional=extras,
)
interactive_sends = st.fixed_dictionaries(
    {**envelope, "type": mostly(st.just("interactive")), "interactive": interactive},
    optional=extras,
)
read_receipts = st.fixed_dictionaries(
    {
        "messaging_product": mostly(st.just("whatsapp")),
        "status": mostly(st.just("read")),
        "message_id": texts,
    },
    optional={"typing_indicator": obj({"type": mostly(st.just("text"))})},
)


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


raw_bodies = st.one_of(
    text_sends.map(_encode),
    interactive_sends.map(_encode),
    read_receipts.map(_encode),
    json_values.map(_encode),
    st.binary(max_size=200),
    st.text(max_size=50).map(lambda text: text.encode("utf-8")),
)
headers = st.sampled_from(
    [AUTH, AUTH, AUTH, {}, {"Authorization": "Bearer wrong"}, {"Authorization": "x"}]
)


def test_the_send_route_never_fails_with_a_server_error() -> None:
    # Hypothesis drives a plain function, so the app runs on an event loop in another thread.
    with (
        start_blocking_portal("asyncio") as portal,
        portal.wrap_async_context_manager(running(create_app(make_config()))) as client,
    ):

        @settings(
            max_examples=300,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(body=raw_bodies, request_headers=headers)
        def check(body: bytes, request_headers: dict[str, str]) -> None:
            response = portal.call(
                functools.partial(client.post, SEND_PATH, content=body, headers=request_headers)
            )

            assert response.status_code in {200, 400, 401}
            answer = response.json()
            if response.status_code == 200:
                assert answer == {"success": True} or answer["messages"][0]["id"]
                return
            error = answer["error"]
            assert isinstance(error["message"], str)
            assert isinstance(error["type"], str)
            assert isinstance(error["code"], int)
            assert isinstance(error["fbtrace_id"], str)
            if response.status_code == 400:
                assert error["error_data"]["messaging_product"] == "whatsapp"
                assert isinstance(error["error_data"]["details"], str)

        check()
        # Everything accepted on the way can still be read back through the control API.
        for path in ("/_emulator/messages", "/_emulator/users", "/_emulator/webhooks"):
            assert portal.call(client.get, path).status_code == 200
