"""Where the chat router hands over what is not a command: into the citizen's conversation,
and the answer the citizen gets."""

from __future__ import annotations

from stadtbote.channels.types import CitizenMessage, OutboundMessage
from stadtbote.dialogue import texts
from stadtbote.inbox import actions
from stadtbote.subscribers.models import Subscriber


def on_message(subscriber: Subscriber, event: CitizenMessage) -> OutboundMessage | None:
    """Stores the message for staff. The first message of a conversation that waits for an
    answer is acknowledged; later ones are not, so a citizen who writes five lines does not
    get five answers."""
    conversation = actions.conversation_of(subscriber)
    acknowledge = conversation.awaiting_since is None
    actions.record_inbound(subscriber, event)
    if not acknowledge:
        return None
    if subscriber.status == Subscriber.Status.ACTIVE:
        return texts.received(subscriber.language)
    return texts.received_from_stranger(subscriber.language)
