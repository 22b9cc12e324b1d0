"""The answer to "Daten": what is stored about the citizen, readable in the chat."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from stadtbote.broadcasts.models import Delivery, PostReaction
from stadtbote.channels.types import OutboundMessage
from stadtbote.dialogue.texts import words
from stadtbote.lib import crypto, phone
from stadtbote.polls.models import Vote
from stadtbote.subscribers.models import ConsentEvent, Subscriber


def for_chat(subscriber: Subscriber) -> OutboundMessage:
    w = words(subscriber.language)
    number = subscriber.phone
    since = subscriber.confirmed_at or subscriber.created_at
    pause = (
        timezone.localtime(subscriber.paused_until).strftime("%d.%m.%Y")
        if subscriber.paused_until and subscriber.paused_until > timezone.now()
        else w["none"]
    )
    topics = ", ".join(subscriber.topics.values_list("name", flat=True)) or w["all_of_them"]
    districts = ", ".join(subscriber.districts.values_list("name", flat=True)) or w["all_of_them"]
    consents = ConsentEvent.objects.filter(subscriber_ref__in=crypto.blind_indexes(number)).count()
    received = Delivery.objects.filter(subscriber=subscriber).count()
    votes = Vote.objects.filter(subscriber=subscriber).count()
    reactions = PostReaction.objects.filter(subscriber=subscriber).exclude(emoji="").count()
    return OutboundMessage(
        text=w["data"].format(
            number=phone.masked(number),
            status=w[f"status_{subscriber.status}"],
            since=timezone.localtime(since).strftime("%d.%m.%Y"),
            topics=topics,
            districts=districts,
            pause=pause,
            received=received,
            votes=votes,
            reactions=reactions,
            consents=consents,
            privacy=settings.PRIVACY_NOTICE_URL,
        )
    )
