"""The public archive: every post that went out (Coburg: "everything also on the city
website"), for the archive pages, the feeds and the widget alike.

A post is public once it started sending (sending, paused or sent) and staff left it "on the
website"; drafts, posts waiting for approval or their time, and cancelled posts are not.
Nothing about recipients is public: no counts, no audience beyond the topics; only the
reaction counts per emoji, when an administrator chose to show them (archive_settings).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils.text import slugify

from stadtbote.broadcasts.models import Post
from stadtbote.broadcasts.reactions import ranked as reactions_ranked
from stadtbote.polls import actions, results
from stadtbote.polls.models import Poll
from stadtbote.polls.results import Results
from stadtbote.subscribers.models import Topic

PUBLIC_STATES = [Post.Status.SENDING, Post.Status.PAUSED, Post.Status.SENT]
PAGE_SIZE = 20
MAX_QUERY = 100  # characters of a search that are used; the rest is ignored


def published() -> QuerySet[Post]:
    return (
        Post.objects.filter(
            status__in=PUBLIC_STATES, on_website=True, send_started_at__isnull=False
        )
        .order_by("-send_started_at", "-id")
        .prefetch_related("topics")
    )


def find(topic: Topic | None = None, query: str = "") -> QuerySet[Post]:
    """Published posts, newest first, of one topic and/or matching a search in title and
    text (every word must occur, in any case)."""
    posts = published()
    if topic is not None:
        posts = posts.filter(topics=topic)
    for word in query[:MAX_QUERY].split():
        posts = posts.filter(Q(title__icontains=word) | Q(text__icontains=word))
    return posts


def post(post_id: int) -> Post | None:
    return published().select_related("figures").filter(pk=post_id).first()


def reactions(post: Post, shown: bool) -> dict[str, int] | None:
    """The post's reactions per emoji as the figures last counted them (every minute): a
    public page reads the counter, never the reactions themselves. None when not shown."""
    if not shown:
        return None
    figures = getattr(post, "figures", None)
    return reactions_ranked(figures.reactions) if figures is not None else {}


# German letters as German writes them without: slugify alone would drop "ß" and turn "ä" into
# "a", and "Straße" would become "strae".
_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def slug(post: Post) -> str:
    return slugify(post.title.translate(_GERMAN))[:60].strip("-") or "beitrag"


# A poll's results are public once its results post has gone out (polls.actions.results_public).
_RESULTS_PUBLIC = Q(poll__results_post__status__in=[Post.Status.SENDING, Post.Status.SENT])


def marked(posts: QuerySet[Post]) -> QuerySet[Post]:
    """The posts with `is_poll` and `results_shown`, for the lists' marks."""
    return posts.annotate(
        is_poll=Exists(Poll.objects.filter(post=OuterRef("pk"))),
        results_shown=Exists(
            Poll.objects.filter(
                post=OuterRef("pk"),
                results_post__status__in=[Post.Status.SENDING, Post.Status.SENT],
            )
        ),
    )


@dataclass(frozen=True)
class Version:
    """What a cached page depends on: validators for ETag and Last-Modified."""

    etag: str
    last_modified: datetime | None


def version(posts: QuerySet[Post]) -> Version:
    """Changes whenever a post joins or leaves these posts (published, hidden, cancelled),
    and when a poll among them gets its results published (the lists say so). Their
    Last-Modified is that of the newest post, or of the newest results post if later."""
    summary = posts.order_by().aggregate(
        count=Count("id"),
        newest=Max("send_started_at"),
        last_id=Max("id"),
        results=Count("id", filter=_RESULTS_PUBLIC),
        newest_results=Max("poll__results_post__send_started_at", filter=_RESULTS_PUBLIC),
    )
    ids = ",".join(str(i) for i in posts.values_list("id", flat=True)[:PAGE_SIZE])
    raw = (
        f"{summary['count']}|{summary['newest']}|{summary['last_id']}|{ids}"
        f"|{summary['results']}|{summary['newest_results']}"
    )
    moments = [m for m in (summary["newest"], summary["newest_results"]) if m is not None]
    return Version(hashlib.sha256(raw.encode()).hexdigest()[:32], max(moments, default=None))


@dataclass(frozen=True)
class PollView:
    """A poll as the archive shows it: its answers, and its results once they are public."""

    answers: list[str]
    multiple: bool
    results: Results | None


def poll_view(post: Post) -> PollView | None:
    """None for an ordinary post. Results only once published: never before."""
    poll = Poll.objects.filter(post=post).select_related("results_post").first()
    if poll is None:
        return None
    return PollView(
        answers=list(poll.options.values_list("label", flat=True)),
        multiple=poll.multiple,
        results=results.results(poll) if actions.results_public(poll) else None,
    )


def poll_digest(view: PollView | None) -> str:
    """What of a poll the archive's post page shows that can change after sending: whether
    the results are public and, once they are, the counts (votes still come in until the
    poll closes, and an erased subscriber's vote leaves the counts at any time)."""
    if view is None or view.results is None:
        return "-"
    counts = ",".join(str(option.votes) for option in view.results.options)
    return f"results:{view.results.voters}:{counts}"
