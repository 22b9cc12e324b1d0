"""RSS 2.0 and Atom 1.0 feeds of the public archive, of all posts and per topic."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from django.utils.translation import gettext as _

from stadtbote.broadcasts.models import Post
from stadtbote.polls.models import poll_of
from stadtbote.public import archive
from stadtbote.subscribers.models import Topic

ITEMS = 30


class LatestPosts(Feed):
    feed_type: type[SyndicationFeed] = Rss201rev2Feed
    # No fixed language: the feed says the one it was written in (?lang=, else Accept-Language).

    def get_object(self, request: HttpRequest, topic: str | None = None) -> Topic | None:
        return None if topic is None else get_object_or_404(Topic, slug=topic)

    def title(self, obj: Topic | None) -> str:
        name = settings.CITY_NAME
        return f"{name}: {obj.name}" if obj else f"{name}: {_('News')}"

    def description(self, obj: Topic | None) -> str:
        return _("What the city sent on WhatsApp, also here to read again.")

    def link(self, obj: Topic | None) -> str:
        return reverse("archive-topic", args=[obj.slug]) if obj else reverse("archive")

    def items(self, obj: Topic | None) -> list[Post]:
        return list(archive.find(obj).prefetch_related("poll__options")[:ITEMS])

    def item_title(self, item: Post) -> str:
        return _("Urgent: %(title)s") % {"title": item.title} if item.urgent else item.title

    def item_description(self, item: Post) -> str:
        # Plain text: feed readers show it as is, with WhatsApp's *markup* left readable.
        text = item.text if not item.link else f"{item.text}\n\n{item.link}"
        poll = poll_of(item)
        if poll is not None:  # the answers with the question; the results have a post of their own
            text += "\n\n" + "\n".join(f"– {option.label}" for option in poll.options.all())
        return text

    def item_link(self, item: Post) -> str:
        return reverse("archive-post", args=[item.pk, archive.slug(item)])

    def item_pubdate(self, item: Post) -> datetime | None:
        return item.send_started_at

    def item_updateddate(self, item: Post) -> datetime | None:
        return item.send_started_at

    def item_categories(self, item: Post) -> list[str]:
        return [topic.name for topic in item.topics.all()]


class LatestPostsAtom(LatestPosts):
    feed_type = Atom1Feed

    def subtitle(self, obj: Topic | None) -> str:
        return self.description(obj)
