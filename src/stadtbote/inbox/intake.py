"""Where the chat router hands over what is not a command: into the citizen's conversation,
and the automatic answer the citizen gets (auto_answers.py)."""

from __future__ import annotations

from django.db import transaction

from stadtbote.channels.types import CitizenMessage, OutboundMessage
from stadtbote.inbox import actions, auto_answers
from stadtbote.inbox.models import Conversation
from stadtbote.subscribers.models import Subscriber


def on_message(subscriber: Subscriber, event: CitizenMessage) -> OutboundMessage | None:
    """Stores the message for staff and queues the automatic answer itself (it is kept in the
    conversation with its send record), so the router has nothing left to send: None.

    The conversation row is locked first: two workers applying two messages of one citizen
    at once must not both give the once-per-period answers.
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(
            pk=actions.conversation_of(subscriber).pk
        )
        # Only the first message awaiting an answer is acknowledged, so a citizen who writes
        # five lines does not get five answers. Read before the message is recorded.
        first = conversation.awaiting_since is None
        message = actions.record_inbound(subscriber, event, conversation)
        auto_answers.answer(
            subscriber, conversation, message, first=first, in_reply_to=event.message_id
        )
    return None
