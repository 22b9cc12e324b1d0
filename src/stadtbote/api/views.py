"""REST API v1. Thin: each endpoint checks permission, calls one action, shapes the answer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Status
from ninja.errors import HttpError

from stadtbote.api.auth import TokenAuth
from stadtbote.api.schemas import DeliveryCounts, PostIn, PostOut, Problem, SendOut
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
    )
    return Status(201, post)


@api.get("/posts/{post_id}", response={200: PostOut, 404: Problem}, tags=["posts"])
def get_post(request: HttpRequest, post_id: int) -> Post:
    _require(request, "broadcasts.view_post")
    return get_object_or_404(Post, pk=post_id)


@api.post(
    "/posts/{post_id}/send", response={202: SendOut, 404: Problem, 409: Problem}, tags=["posts"]
)
def send_post(request: HttpRequest, post_id: int) -> Status[dict[str, object]]:
    _require(request, "broadcasts.change_post")
    post = get_object_or_404(Post, pk=post_id)
    queued = actions.send_post(post)
    return Status(202, {"id": post.pk, "status": post.status, "queued": queued})


@api.get(
    "/posts/{post_id}/deliveries", response={200: DeliveryCounts, 404: Problem}, tags=["posts"]
)
def delivery_counts(request: HttpRequest, post_id: int) -> dict[str, int]:
    _require(request, "broadcasts.view_post")
    return actions.delivery_counts(get_object_or_404(Post, pk=post_id))
