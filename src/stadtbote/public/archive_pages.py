"""The public archive's pages, feeds' discovery and the embeddable widget. Thin: the archive
module decides what is public; these pages are cacheable (ETag, Last-Modified, public
Cache-Control), set no cookies and load nothing from other sites."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import condition, require_GET

from stadtbote.broadcasts.models import Post
from stadtbote.broadcasts.rendering import whatsapp_html
from stadtbote.polls import showing
from stadtbote.public import archive, archive_settings
from stadtbote.subscribers.models import Topic

MAX_AGE = 300  # seconds a browser or the city's proxy may reuse a page without asking
WIDGET_MAX_POSTS = 10

View = Callable[..., HttpResponse]


def _topic(slug: str | None) -> Topic | None:
    return None if slug is None else get_object_or_404(Topic, slug=slug)


def _query(request: HttpRequest) -> str:
    return request.GET.get("q", "")[: archive.MAX_QUERY].strip()


def _list_version(request: HttpRequest, topic: str | None = None) -> archive.Version:
    return archive.version(archive.find(_topic(topic), _query(request)))


def feed_version(request: HttpRequest, topic: str | None = None) -> archive.Version:
    return archive.version(archive.find(_topic(topic)))


def cacheable(version: Callable[..., archive.Version]) -> Callable[[View], View]:
    """GET only, answered 304 when the client's copy is current, cacheable by anyone."""

    def once(request: HttpRequest, *args: Any, **kwargs: Any) -> archive.Version:
        # `condition` asks for the ETag and for Last-Modified separately: one query serves both.
        found: archive.Version | None = getattr(request, "_archive_version", None)
        if found is None:
            found = version(request, *args, **kwargs)
            request._archive_version = found  # type: ignore[attr-defined]
        return found

    def decorate(view: View) -> View:
        @require_GET
        @condition(
            # One page in two languages is two representations: each has its own tag.
            etag_func=lambda request, *a, **kw: f"{once(request, *a, **kw).etag}-{get_language()}",
            last_modified_func=lambda request, *a, **kw: once(request, *a, **kw).last_modified,
        )
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            patch_cache_control(response, public=True, max_age=MAX_AGE)
            return response

        return wrapper

    return decorate


@cacheable(_list_version)
def archive_list(request: HttpRequest, topic: str | None = None) -> HttpResponse:
    chosen = _topic(topic)
    query = _query(request)
    paginator = Paginator(archive.marked(archive.find(chosen, query)), archive.PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("seite", 1))
    except PageNotAnInteger:
        page = paginator.page(1)
    except EmptyPage as exc:
        raise Http404("no such page") from exc
    return render(
        request,
        "public/archive.html",
        {
            "page": page,
            "posts": [(post, archive.slug(post)) for post in page.object_list],
            "topic": chosen,
            "topics": Topic.objects.filter(posts__in=archive.published()).distinct(),
            "query": query,
            "feed_rss": reverse("feed-rss-topic", args=[chosen.slug])
            if chosen
            else reverse("feed-rss"),
            "feed_atom": reverse("feed-atom-topic", args=[chosen.slug])
            if chosen
            else reverse("feed-atom"),
        },
    )


@dataclass(frozen=True)
class _Shown:
    post: Post | None
    reactions: dict[str, int] | None  # None: not shown
    changed_at: datetime | None
    poll: archive.PollView | None = None  # None: an ordinary post


def _shown(request: HttpRequest, post_id: int) -> _Shown:
    """The post and what its page shows, looked up once per request (the ETag, Last-Modified
    and the page itself all need them)."""
    found: _Shown | None = getattr(request, "_archive_post", None)
    if found is None:
        post = archive.post(post_id)
        if post is None:
            found = _Shown(None, None, None)
        else:
            setting = archive_settings.current()
            reactions = archive.reactions(post, setting.show_reactions)
            figures = getattr(post, "figures", None)
            # Last-Modified moves with everything the page shows: a client asking with
            # If-Modified-Since alone must not keep old counts, or the counts after the
            # setting was switched off.
            moments = [post.send_started_at, setting.updated_at]
            if reactions is not None and figures is not None:
                moments.append(figures.refreshed_at)
            found = _Shown(
                post,
                reactions,
                max(m for m in moments if m is not None),
                archive.poll_view(post),
            )
        request._archive_post = found  # type: ignore[attr-defined]
    return found


def _post_version(request: HttpRequest, post_id: int, slug: str = "") -> archive.Version:
    shown = _shown(request, post_id)
    post = shown.post
    if post is None:
        return archive.Version("missing", None)
    poll = shown.poll
    raw = (
        f"{post.pk}|{post.status}|{post.send_started_at}|{post.title}|{len(post.text)}"
        f"|{archive.poll_digest(poll)}"
    )
    # The reactions shown (or none, with the setting off) are part of the page.
    reactions = shown.reactions
    raw += f"|{sorted(reactions.items()) if reactions is not None else 'hidden'}"
    # Shown results change without a time to tell (a late vote, an erased voter): such a page
    # is validated by its ETag alone, so no If-Modified-Since can keep an old count alive.
    modified = None if poll is not None and poll.results is not None else shown.changed_at
    return archive.Version(hashlib.sha256(raw.encode()).hexdigest()[:32], modified)


@cacheable(_post_version)
def post_page(request: HttpRequest, post_id: int, slug: str = "") -> HttpResponse:
    """The post's permalink; a wrong or missing slug leads to the right one."""
    shown = _shown(request, post_id)
    post = shown.post
    if post is None:
        raise Http404("no such post")
    if slug != archive.slug(post):
        return HttpResponsePermanentRedirect(
            reverse("archive-post", args=[post.pk, archive.slug(post)])
        )
    return render(
        request,
        "public/post.html",
        {
            "post": post,
            "html": whatsapp_html(post.text),
            **_poll_context(shown.poll),
            "reactions": shown.reactions,
            "feed_rss": reverse("feed-rss"),
            "feed_atom": reverse("feed-atom"),
        },
    )


def _poll_context(poll: archive.PollView | None) -> dict[str, Any]:
    if poll is None or poll.results is None:
        return {"poll": poll}
    return {
        "poll": poll,
        "chart": showing.chart(poll.results),
        "summary": showing.summary(poll.results),
    }


def _widget_version(request: HttpRequest) -> archive.Version:
    return archive.version(archive.find(_topic(request.GET.get("thema") or None)))


EMBEDDABLE: dict[str, Any] = {**settings.SECURE_CSP, "frame-ancestors": ["*"]}


# Made to be embedded in the city's own pages: any site may frame it (and nothing else).
@xframe_options_exempt
@csp_override(EMBEDDABLE)
@cacheable(_widget_version)
def widget(request: HttpRequest) -> HttpResponse:
    topic = _topic(request.GET.get("thema") or None)
    try:
        count = max(1, min(WIDGET_MAX_POSTS, int(request.GET.get("anzahl", 5))))
    except ValueError:
        count = 5
    posts = list(archive.find(topic)[:count])
    return render(
        request,
        "public/widget.html",
        {"posts": [(post, archive.slug(post)) for post in posts], "topic": topic},
    )
