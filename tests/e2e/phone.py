"""The emulator through its control API: a simulated citizen's phone, and the emulator's own
log of accepted sends, fault rules and settings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.e2e.stack import Stack, request, wait_until


def text_of(message: dict[str, Any]) -> str:
    if message["type"] == "interactive":
        return message["interactive"]["body"]["text"]
    return message.get("text") or ""


class Phone:
    def __init__(self, stack: Stack, number: str) -> None:
        self.stack = stack
        self.number = number
        self.base = f"{stack.emulator_url}/_emulator/users/{number}"

    def messages(self) -> list[dict[str, Any]]:
        status, body = request("GET", f"{self.base}/messages")
        assert status == 200, body
        return body["messages"]

    def received(self) -> list[dict[str, Any]]:
        return [m for m in self.messages() if m["direction"] == "out"]

    def send(self, payload: dict[str, Any]) -> None:
        status, body = request("POST", f"{self.base}/send", payload)
        assert status == 200, body

    def write(self, text: str) -> None:
        self.send({"type": "text", "text": text})

    def wait_for(self, check: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """The newest message from the city that passes `check`."""
        return wait_until(
            lambda: next((m for m in reversed(self.received()) if check(m)), None), what=what
        )

    def wait_for_text(self, fragment: str) -> dict[str, Any]:
        return self.wait_for(lambda m: fragment in text_of(m), f"a message with {fragment!r}")

    def count_received(self) -> int:
        return len(self.received())

    def wait_for_new(self, after: int, what: str) -> dict[str, Any]:
        wait_until(lambda: self.count_received() > after, what=what)
        return self.received()[-1]

    def tap(self, message: dict[str, Any], button_id: str) -> None:
        buttons = message["interactive"]["action"]["buttons"]
        reply = next(b["reply"] for b in buttons if b["reply"]["id"] == button_id)
        self.send(
            {
                "type": "button_reply",
                "id": reply["id"],
                "title": reply["title"],
                "context_id": message["id"],
            }
        )

    def pick(self, message: dict[str, Any], row_id: str) -> None:
        rows = [r for s in message["interactive"]["action"]["sections"] for r in s["rows"]]
        row = next(r for r in rows if r["id"] == row_id)
        self.send(
            {
                "type": "list_reply",
                "id": row["id"],
                "title": row["title"],
                "context_id": message["id"],
            }
        )

    def read_all(self) -> None:
        status, _ = request("POST", f"{self.base}/read", {})
        assert status == 200


class Emulator:
    """What Meta's side saw and how it misbehaves: the ground truth for "who got what how often"."""

    def __init__(self, stack: Stack) -> None:
        self.base = f"{stack.emulator_url}/_emulator"

    def sends(self) -> list[dict[str, Any]]:
        """Every send the emulator accepted (answered with a message id), in order."""
        status, body = request("GET", f"{self.base}/messages")
        assert status == 200, body
        return body["messages"]

    def sends_by_tracker(self) -> Counter[str]:
        """Accepted sends per `biz_opaque_callback_data`: the app's tracker names the row."""
        return Counter(
            str(s["body"].get("biz_opaque_callback_data"))
            for s in self.sends()
            if s["body"].get("biz_opaque_callback_data")
        )

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        status, body = request("POST", f"{self.base}/faults", rule)
        assert status == 200, body
        return body["fault"]

    def faults(self) -> list[dict[str, Any]]:
        status, body = request("GET", f"{self.base}/faults")
        assert status == 200, body
        return body["faults"]

    def clear_faults(self) -> None:
        status, body = request("DELETE", f"{self.base}/faults")
        assert status == 200, body

    def configure(self, **patch: Any) -> dict[str, Any]:
        status, body = request("POST", f"{self.base}/config", patch)
        assert status == 200, body
        return body["config"]
