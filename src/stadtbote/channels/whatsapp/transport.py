"""Sends over the WhatsApp Cloud API (or anything that speaks it: a BSP, the emulator).

A failed request is retried only when it certainly did not reach Meta; see errors.py for why
and for how answers are sorted.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import aiohttp
from django.conf import settings

from stadtbote.channels.types import OutboundMessage, TransportError
from stadtbote.channels.whatsapp import errors, payloads

log = logging.getLogger(__name__)

# Failures before a connection existed: nothing was sent, so a retry cannot duplicate. The
# connect timeout covers waiting for a pooled connection too.
NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


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
        except NOT_SENT as exc:
            raise TransportError(f"connection: {type(exc).__name__}", permanent=False) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The request may have been written, read and acted on before this: a timeout,
            # a reset or a closed connection while waiting for the answer, a cut-off answer.
            log.warning("send outcome unknown after %s", type(exc).__name__)
            raise errors.OutcomeUnknown(type(exc).__name__) from None
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if status == 200 and isinstance(payload, dict):
            try:
                return str(payload["messages"][0]["id"])
            except (KeyError, IndexError, TypeError):
                pass
        error = errors.from_response(status, payload)
        if isinstance(error, errors.OutcomeUnknown):
            log.warning("send outcome unknown after %s", error.cause)
        raise error
