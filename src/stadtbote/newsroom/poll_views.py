"""The newsroom's poll pages: writing a poll, its live results, the CSV, closing it and
publishing its results. Thin views: polls.actions changes things (and checks who may, and
records it in the audit log); polls.results counts; polls.showing draws. Staff see counts
only, never who voted what."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stadtbote.broadcasts import actions as posts
from stadtbote.broadcasts import reports
from stadtbote.broadcasts.models import Post
from stadtbote.lib.problems import localised
from stadtbote.newsroom.poll_forms import ANSWERS, PollForm
from stadtbote.newsroom.views import _user, staff
from stadtbote.polls import actions, results, showing
from stadtbote.polls.models import Poll
from stadtbote.public.archive import slug

# How often the results page asks for fresh numbers while the poll is open (seconds).
REFRESH_SECONDS = 5


def _poll(post_id: int) -> Poll:
    # By the post's primary key: an id beyond the integer range is "not found" there, where
    # the foreign key column would fail on SQLite.
    return get_object_or_404(
        Poll.objects.select_related("post", "post__template", "results_post"), post__pk=post_id
    )


@staff("broadcasts.add_post")
def compose(request: HttpRequest, post_id: int | None = None) -> HttpResponse:
    """Writing a new poll, or changing a draft one."""
    poll = _poll(post_id) if post_id is not None else None
    if poll is not None and poll.post.status != Post.Status.DRAFT:
        messages.warning(request, _("Only a draft can be changed."))
        return redirect("newsroom-post", poll.post_id)
    initial = PollForm.initial_for(poll) if poll is not None else None
    form = PollForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = form.as_action_fields()
        try:
            if poll is None:
                question = fields.pop("text")  # a changed poll's post calls it its text
                poll = actions.create_poll(_user(request), question=question, **fields)
            else:
                poll = actions.update_poll(poll, _user(request), **fields)
        except (actions.PollError, posts.PostError, posts.NotAllowed) as exc:
            form.add_error(None, localised(exc))
        else:
            messages.success(request, _("Saved."))
            return redirect("newsroom-post", poll.post_id)
    return render(
        request,
        "newsroom/poll_compose.html",
        {
            "form": form,
            "poll": poll,
            "head": [form["title"], form["text"]],
            "answers": [form[name] for name in ANSWERS],
            "rest": [form[name] for name in PollForm.REST],
            "preview": reports.preview(poll.post) if poll is not None else None,
            "chat": showing.chat_preview(poll) if poll is not None else None,
        },
    )


def _results_context(poll: Poll) -> dict[str, Any]:
    found = results.results(poll)
    return {
        "poll": poll,
        "found": found,
        "chart": showing.chart(found),
        "summary": showing.summary(found),
        "refresh_seconds": REFRESH_SECONDS,
    }


@staff()
def results_page(request: HttpRequest, post_id: int) -> HttpResponse:
    poll = _poll(post_id)
    user = _user(request)
    post = poll.post
    return render(
        request,
        "newsroom/poll_results.html",
        _results_context(poll)
        | {
            "post": post,
            "may_change": user.has_perm("broadcasts.change_post"),
            "started": post.status in (Post.Status.SENDING, Post.Status.PAUSED, Post.Status.SENT),
            "public": actions.results_public(poll),
        },
    )


@staff()
def results_live(request: HttpRequest, post_id: int) -> HttpResponse:
    """The changing part of the results page, fetched every few seconds by its script."""
    response = render(request, "newsroom/_poll_results.html", _results_context(_poll(post_id)))
    response["Cache-Control"] = "no-store"
    return response


@staff()
def results_csv(request: HttpRequest, post_id: int) -> HttpResponse:
    poll = _poll(post_id)
    body = results.as_csv(results.results(poll), poll.post.title)
    # The byte order mark lets spreadsheet programs read umlauts as UTF-8.
    response = HttpResponse("\ufeff" + body, content_type="text/csv; charset=utf-8")
    name = f"umfrage-{poll.post_id}-{slug(poll.post)}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@staff("broadcasts.change_post")
def close(request: HttpRequest, post_id: int) -> HttpResponse:
    poll = _poll(post_id)
    if poll.post.status not in (Post.Status.SENDING, Post.Status.PAUSED, Post.Status.SENT):
        messages.error(request, _("Only a poll that has been sent can be closed."))
    elif poll.closed_at is not None:
        messages.info(request, _("This poll was closed already."))
    else:
        actions.close(poll, _user(request))
        messages.success(request, _("Closed: from now on taps are not counted."))
    return redirect("newsroom-poll-results", post_id)


@require_POST
@staff("broadcasts.change_post")
def publish(request: HttpRequest, post_id: int) -> HttpResponse:
    """The results as a new draft post, which is approved and sent like any post."""
    poll = _poll(post_id)
    title = request.POST.get("title", "").strip()[:200]
    intro = request.POST.get("intro", "").strip()[:1000]
    if not title:
        messages.error(request, _("Give the results post a title."))
        return redirect("newsroom-poll-results", post_id)
    try:
        post = actions.publish_results(poll, _user(request), title=title, intro=intro)
    except (actions.PollError, posts.PostError, posts.NotAllowed) as exc:
        messages.error(request, localised(exc))
        return redirect("newsroom-poll-results", post_id)
    messages.success(request, _("The results are a draft post now: check it and submit it."))
    return redirect("newsroom-post", post.pk)


def edit_if_poll(request: HttpRequest, post_id: int) -> HttpResponse | None:
    """The post's edit address serves a poll's form when the post is a poll."""
    if not Poll.objects.filter(post__pk=post_id).exists():
        return None
    return compose(request, post_id)
