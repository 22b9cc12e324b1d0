"""Sends over the WhatsApp Cloud API (or anything that speaks it: a BSP, the emulator)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiohttp
from django.conf import settings

from stadtbote.channels.types import OutboundMessage, TransportError
from stadtbote.channels.whatsapp import errors, payloads


@dataclass(frozen=True)
class WhatsAppConfig:
    base_url: str
    version: str
    phone_number_id: str
    access_token: str

    @classmethod
    def from_settings(cls) -> WhatsAppConfig:
        wa = settings.WHATSAPP
        return cls(
            base_url=wa["API_BASE_URL"],
            version=wa["API_VERSION"],
            phone_number_id=wa["PHONE_NUMBER_ID"],
            access_token=wa["ACCESS_TOKEN"],
        )

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{self.version}/{self.phone_number_id}/messages"


class WhatsAppTransport:
    """One method, like an httpx transport: a message in, Meta's message id out."""

    def __init__(self, session: aiohttp.ClientSession, config: WhatsAppConfig) -> None:
        self._session = session
        self._config = config
        self._headers = {
            "Authorization": f"Bearer {config.access_token}",
            "Content-Type": "application/json",
        }

    @property
    def sender_key(self) -> str:
        """What Meta paces by: the sending phone number."""
        return self._config.phone_number_id

    async def send(self, to: str, message: OutboundMessage) -> str:
        body = json.dumps(payloads.build(to, message), separators=(",", ":"))
        try:
            async with self._session.post(
                self._config.messages_url, data=body, headers=self._headers
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransportError(f"connection: {type(exc).__name__}", permanent=False) from None
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if status == 200 and isinstance(payload, dict):
            try:
                return str(payload["messages"][0]["id"])
            except (KeyError, IndexError, TypeError):
                pass
            raise TransportError("success without a message id", permanent=False)
        raise errors.from_response(status, payload)
