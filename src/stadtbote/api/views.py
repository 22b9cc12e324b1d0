"""REST API v1. Thin: each endpoint checks permission, calls one action, shapes the answer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Status
from ninja.errors import HttpError

from stadtbote.api.auth import TokenAuth
from stadtbote.api.schemas import (
    ApprovalIn,
    DeliveryCounts,
    PostIn,
    PostOut,
    Problem,
    RejectionIn,
)
from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Post

api = NinjaAPI(
    title="Stadtbote API",
    version="1",
    description="Posts, their sending and their delivery counts.",
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
    )
    return Status(201, post)


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
    actions.cancel(post)
    return post


@api.post(
    "/posts/{post_id}/pause",
    response={200: PostOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["workflow"],
)
def pause_post(request: HttpRequest, post_id: int) -> Post:
    _require(request, "broadcasts.approve_post")
    return actions.pause(_post(post_id))


@api.post(
    "/posts/{post_id}/resume",
    response={200: PostOut, 403: Problem, 404: Problem, 409: Problem},
    tags=["workflow"],
)
def resume_post(request: HttpRequest, post_id: int) -> Post:
    _require(request, "broadcasts.approve_post")
    return actions.resume(_post(post_id))


@api.get(
    "/posts/{post_id}/deliveries", response={200: DeliveryCounts, 404: Problem}, tags=["posts"]
)
def delivery_counts(request: HttpRequest, post_id: int) -> dict[str, int]:
    _require(request, "broadcasts.view_post")
    return actions.delivery_counts(get_object_or_404(Post, pk=post_id))
