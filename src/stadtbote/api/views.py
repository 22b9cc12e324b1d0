"""REST API v1. Thin: each endpoint checks permission, calls one action, shapes the answer."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, NinjaAPI, Query, Status, UploadedFile
from ninja.errors import HttpError
from ninja.openapi.schema import OpenAPISchema

from stadtbote.api.auth import TokenAuth
from stadtbote.api.schemas import (
    ApprovalIn,
    AudienceIn,
    AudienceOut,
    ChannelCountsIn,
    ChannelOut,
    ChannelPostingIn,
    ConcernStatsOut,
    DeliveryCounts,
    FunnelOut,
    PollResultsOut,
    PostIn,
    PostOut,
    PostStatsOut,
    PostUpdateIn,
    PreviewOut,
    Problem,
    RejectionIn,
    ScheduleIn,
    SeriesQuery,
    SubscriberNumbersOut,
    SubscriberSeriesOut,
    TemplateOut,
)
from stadtbote.broadcasts import actions, channel_outlet, reports
from stadtbote.broadcasts.models import Post, Template
from stadtbote.dashboards import api as stats
from stadtbote.inbox import statistics as concern_statistics
from stadtbote.polls import results
from stadtbote.polls.models import Poll

# Answers every operation may give besides its own: a body that is not JSON, a missing,
# revoked or unknown token, a request that does not fit the operation (ninja's list of
# problems, or a sentence).
_DETAIL = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
        }
    }
}
COMMON_RESPONSES: dict[str, Any] = {
    "400": {"description": "The body cannot be read (not JSON).", "content": _DETAIL},
    "401": {"description": "No valid API token."},
    "422": {
        "description": "The request does not fit: what is wrong, for each part.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "detail": {"anyOf": [{"type": "string"}, {"type": "array", "items": {}}]}
                    },
                    "required": ["detail"],
                }
            }
        },
    },
}


class StadtboteAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for code, response in COMMON_RESPONSES.items():
                    operation["responses"].setdefault(code, response)
        return schema


api = StadtboteAPI(
    title="Stadtbote API",
    version="1",
    description=(
        "Posts (write, change, submit, approve, schedule, pause, cancel, follow), audiences "
        "and their cost, subscriber numbers (aggregates only), templates, poll results "
        "(aggregates only). A token acts with "
        "its account's role; a read-only token may only read."
    ),
    auth=TokenAuth(),
    urls_namespace="api-v1",
)


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise HttpError(403, "Your account may not do this.")


@api.exception_handler(actions.NotAllowed)
def not_allowed(request: HttpRequest, exc: actions.NotAllowed) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=403)


@api.exception_handler(actions.PostError)
def post_error(request: HttpRequest, exc: actions.PostError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.post("/posts", response={201: PostOut, 403: Problem, 409: Problem}, tags=["posts"])
def create_post(request: HttpRequest, payload: PostIn) -> Status[Post]:
    _require(request, "broadcasts.add_post")
    post = actions.create_post(
        request.user,  # type: ignore[arg-type]
        title=payload.title,
        text=payload.text,
        topics=payload.topics,
        districts=payload.districts,
        template=payload.template,
        urgent=payload.urgent,
        publish_at=payload.publish_at,
        language=payload.language,
        link=payload.link,
        share_footer=payload.share_footer,
        on_website=payload.on_website,
    )
    return Status(201, post)


LIST_LIMIT = 100


@api.get("/posts", response=list[PostOut], tags=["posts"])
def list_posts(
    request: HttpRequest, status: str | None = None, limit: int = 20, offset: int = 0
) -> list[Post]:
    """Newest first; `status` filters (draft, submitted, scheduled, sending, paused, sent,
    cancelled); at most 100 at a time."""
    _require(request, "broadcasts.view_post")
    if status is not None and status not in Post.Status.values:
        raise HttpError(422, f"Unknown status: {status}.")
    if not 1 <= limit <= LIST_LIMIT or offset < 0:
        raise HttpError(422, f"limit is 1–{LIST_LIMIT}, offset at least 0.")
    posts = Post.objects.order_by("-created_at", "-id").prefetch_related("topics", "districts")
    if status is not None:
        posts = posts.filter(status=status)
    return list(posts.select_related("template")[offset : offset + limit])


@api.patch(
    "/posts/{post_id}",
    response={200: PostOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["posts"],
)
def update_post(request: HttpRequest, post_id: int, payload: PostUpdateIn) -> Post:
    """Changes a draft: only the fields sent."""
    changes = payload.dict(exclude_unset=True)
    return actions.update_post(_post(post_id), request.user, **changes)  # type: ignore[arg-type]


@api.post(
    "/posts/{post_id}/schedule",
    response={200: PostOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["posts"],
)
def schedule_post(request: HttpRequest, post_id: int, payload: ScheduleIn) -> Post:
    """Sets the publish time (Europe/Berlin if given without an offset). Before approval the
    author or an editor may; a scheduled post's time is moved by an approver."""
    return actions.reschedule(_post(post_id), request.user, payload.publish_at)  # type: ignore[arg-type]


@api.post("/audiences/count", response={200: AudienceOut, 409: Problem}, tags=["audiences"])
def count_audience(request: HttpRequest, payload: AudienceIn) -> dict[str, object]:
    """Who a post with these choices would reach now, and what it would cost: for choosing
    an audience before writing."""
    _require(request, "broadcasts.add_post")
    return reports.audience_for(
        request.user,  # type: ignore[arg-type]
        topics=payload.topics,
        districts=payload.districts,
        language=payload.language,
        template=payload.template,
    )


@api.get("/subscribers/numbers", response=SubscriberNumbersOut, tags=["subscribers"])
def subscriber_numbers(request: HttpRequest) -> dict[str, object]:
    """How many subscribe, by status, topic, district and language. No person appears."""
    _require(request, "broadcasts.view_post")
    return reports.subscriber_numbers()


@api.get("/stats/subscribers", response={200: SubscriberSeriesOut}, tags=["stats"])
def stats_subscribers(request: HttpRequest, period: Query[SeriesQuery]) -> dict[str, object]:
    """Active subscribers and the day's joins and departures, per day (the city's time
    zone), from the counters brought up to date every minute. At most 731 days at a time."""
    _require(request, "broadcasts.view_post")
    try:
        return stats.subscriber_series(period.from_, period.to)
    except stats.BadPeriod as exc:
        raise HttpError(422, str(exc)) from None


@api.get("/stats/posts", response={200: PostStatsOut}, tags=["stats"])
def stats_posts(request: HttpRequest, limit: int = 20) -> dict[str, object]:
    """The most recently sent posts with their funnel, failures by reason, opt-outs in the
    24 hours after each, cost, reactions in the chat per emoji and Channel reactions; at
    most 100."""
    _require(request, "broadcasts.view_post")
    if not 1 <= limit <= LIST_LIMIT:
        raise HttpError(422, f"limit is 1–{LIST_LIMIT}.")
    return stats.post_stats(limit)


@api.get("/stats/concerns", response={200: ConcernStatsOut, 403: Problem}, tags=["stats"])
def stats_concerns(
    request: HttpRequest, days: int = concern_statistics.DEFAULT_DAYS
) -> dict[str, object]:
    """Citizens' concerns of the last `days` days (1 to 731, the city's time zone, today
    included): counts by category, district and status, per day, response and resolution
    times (median and 90th percentile in hours), and the open and overdue counts of now.
    Counts and durations only: no concern appears."""
    _require(request, "inbox.view_statistics")
    if not 1 <= days <= concern_statistics.MAX_DAYS:
        raise HttpError(422, f"days is 1–{concern_statistics.MAX_DAYS}.")
    return concern_statistics.as_api(concern_statistics.compute(days))


@api.get("/templates", response=list[TemplateOut], tags=["templates"])
def list_templates(request: HttpRequest) -> list[Template]:
    """The registered templates and Meta's verdict on each."""
    _require(request, "broadcasts.view_template")
    return list(Template.objects.order_by("name", "language"))


@api.get("/posts/{post_id}", response={200: PostOut, 404: Problem}, tags=["posts"])
def get_post(request: HttpRequest, post_id: int) -> Post:
    _require(request, "broadcasts.view_post")
    return get_object_or_404(Post, pk=post_id)


def _post(post_id: int) -> Post:
    return get_object_or_404(Post, pk=post_id)


@api.post(
    "/posts/{post_id}/submit",
    response={200: PostOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["workflow"],
)
def submit_post(request: HttpRequest, post_id: int) -> Post:
    return actions.submit(_post(post_id), request.user)  # type: ignore[arg-type]


@api.post(
    "/posts/{post_id}/approve",
    response={200: PostOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["workflow"],
)
def approve_post(request: HttpRequest, post_id: int, payload: ApprovalIn) -> Post:
    """Sends the post (or schedules it for its publish time). The approver is not the author,
    except for an urgent post by someone allowed to send alone, with a reason."""
    user = request.user
    return actions.approve(_post(post_id), user, alone_reason=payload.reason)  # type: ignore[arg-type]


@api.post(
    "/posts/{post_id}/reject",
    response={200: PostOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["workflow"],
)
def reject_post(request: HttpRequest, post_id: int, payload: RejectionIn) -> Post:
    user = request.user
    return actions.reject(_post(post_id), user, comment=payload.comment)  # type: ignore[arg-type]


@api.post(
    "/posts/{post_id}/cancel",
    response={200: PostOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["workflow"],
)
def cancel_post(request: HttpRequest, post_id: int) -> Post:
    _require(request, "broadcasts.approve_post")
    post = _post(post_id)
    actions.cancel(post, by=request.user)  # type: ignore[arg-type]
    return post


@api.post(
    "/posts/{post_id}/pause",
    response={200: PostOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["workflow"],
)
def pause_post(request: HttpRequest, post_id: int) -> Post:
    _require(request, "broadcasts.approve_post")
    return actions.pause(_post(post_id), by=request.user)  # type: ignore[arg-type]


@api.post(
    "/posts/{post_id}/resume",
    response={200: PostOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["workflow"],
)
def resume_post(request: HttpRequest, post_id: int) -> Post:
    _require(request, "broadcasts.approve_post")
    return actions.resume(_post(post_id), by=request.user)  # type: ignore[arg-type]


@api.get(
    "/posts/{post_id}/deliveries", response={200: DeliveryCounts, 404: Problem}, tags=["posts"]
)
def delivery_counts(request: HttpRequest, post_id: int) -> dict[str, int]:
    _require(request, "broadcasts.view_post")
    return actions.delivery_counts(get_object_or_404(Post, pk=post_id))


@api.post(
    "/posts/{post_id}/image",
    response={200: PostOut, 403: Problem, 404: Problem, 409: Problem, 413: Problem},
    tags=["posts"],
)
def attach_image(request: HttpRequest, post_id: int, image: File[UploadedFile]) -> Post:
    """A JPEG or PNG of at most 5 MB; the post's text becomes its caption."""
    if image.size and image.size > actions.IMAGE_MAX_BYTES:
        raise HttpError(413, "The image is larger than WhatsApp allows (5 MB).")
    data = image.read(actions.IMAGE_MAX_BYTES + 1)
    return actions.attach_image(_post(post_id), request.user, data)  # type: ignore[arg-type]


@api.get("/posts/{post_id}/preview", response={200: PreviewOut, 404: Problem}, tags=["posts"])
def preview(request: HttpRequest, post_id: int) -> dict[str, object]:
    _require(request, "broadcasts.view_post")
    return reports.preview(_post(post_id))


@api.get("/posts/{post_id}/audience", response={200: AudienceOut, 404: Problem}, tags=["posts"])
def audience(request: HttpRequest, post_id: int) -> dict[str, object]:
    """Who the post reaches if sent now, what it will cost, and the month's budget."""
    _require(request, "broadcasts.view_post")
    return reports.audience(_post(post_id))


@api.get("/posts/{post_id}/funnel", response={200: FunnelOut, 404: Problem}, tags=["posts"])
def post_funnel(request: HttpRequest, post_id: int) -> dict[str, object]:
    """Queued, held, sent, delivered, read, failed by reason; progress and ETA while sending;
    the actual cost; the subscriptions the post brought in through sharing."""
    _require(request, "broadcasts.view_post")
    return reports.funnel(_post(post_id))


@api.get("/posts/{post_id}/channel", response={200: ChannelOut, 404: Problem}, tags=["channel"])
def channel(request: HttpRequest, post_id: int) -> dict[str, object]:
    """The copy for the city's WhatsApp Channel, and whether and when it was posted there."""
    _require(request, "broadcasts.view_post")
    return reports.channel(_post(post_id))


@api.post(
    "/posts/{post_id}/channel",
    response={201: ChannelOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["channel"],
)
def channel_posted(
    request: HttpRequest, post_id: int, payload: ChannelPostingIn
) -> Status[dict[str, object]]:
    post = _post(post_id)
    channel_outlet.record_posted(post, request.user, posted_at=payload.posted_at)  # type: ignore[arg-type]
    return Status(201, reports.channel(post))


@api.put(
    "/posts/{post_id}/channel/counts",
    response={200: ChannelOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["channel"],
)
def channel_counts(
    request: HttpRequest, post_id: int, payload: ChannelCountsIn
) -> dict[str, object]:
    post = _post(post_id)
    channel_outlet.record_counts(
        post,
        request.user,  # type: ignore[arg-type]
        followers=payload.followers,
        reactions=payload.reactions,
    )
    return reports.channel(post)


@api.get("/polls/{post_id}/results", response={200: PollResultsOut, 404: Problem}, tags=["polls"])
def poll_results(request: HttpRequest, post_id: int) -> dict[str, object]:
    """The results of the poll that is this post, counted now from the current votes:
    per answer, per target district, voters, reach and participation. 404 for a post that
    is no poll."""
    _require(request, "broadcasts.view_post")
    # Looked up through the post: its primary key lookup answers an id beyond the integer
    # range with "not found", where a foreign key lookup would fail on SQLite.
    poll = get_object_or_404(Poll.objects.select_related("post"), post=_post(post_id))
    found = results.results(poll)

    def answers(options: list[results.AnswerCount]) -> list[dict[str, object]]:
        return [{"label": o.label, "votes": o.votes, "share": o.share} for o in options]

    return {
        "post_id": poll.post_id,
        "title": poll.post.title,
        "question": poll.post.text,
        "multiple": found.multiple,
        "is_open": found.is_open,
        "closes_at": found.closes_at,
        "answers": answers(found.options),
        "voters": found.voters,
        "reached": found.reached,
        "participation": found.participation,
        "rejected": found.rejected,
        "late": found.late,
        "by_district": [
            {"name": d.name, "voters": d.voters, "answers": answers(d.options)}
            for d in found.by_district
        ],
    }
