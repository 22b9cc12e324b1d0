"""The newsroom: where the press office writes, releases and follows posts. Thin views: every
change goes through broadcasts.actions (which checks who may do what and records it in the
audit log); what is shown comes from broadcasts.reports, as in the REST API."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from stadtbote.broadcasts import actions, channel_outlet, reactions, reports
from stadtbote.broadcasts.models import Post
from stadtbote.lib.localise import count, money
from stadtbote.lib.problems import localised
from stadtbote.newsroom.forms import PostForm
from stadtbote.polls import showing
from stadtbote.polls.models import Poll, poll_of

View = Callable[..., HttpResponse]

# The columns of the newsroom's front page, in the order work flows through them.
COLUMNS = [
    (gettext_lazy("Drafts"), [Post.Status.DRAFT]),
    (gettext_lazy("Waiting for approval"), [Post.Status.SUBMITTED]),
    (gettext_lazy("Scheduled"), [Post.Status.SCHEDULED]),
    (gettext_lazy("Being sent"), [Post.Status.SENDING, Post.Status.PAUSED]),
    (gettext_lazy("Sent"), [Post.Status.SENT]),
]
RECENTLY_SENT = 20


def staff(*permissions: str) -> Callable[[View], View]:
    """Logged in (with the second factor where it applies: see accounts.second_factor) and
    holding these permissions besides reading posts; 403 otherwise."""

    def decorate(view: View) -> View:
        wanted = ("broadcasts.view_post", *permissions)
        return login_required(permission_required(wanted, raise_exception=True)(view))

    return decorate


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@staff()
def home(request: HttpRequest) -> HttpResponse:
    columns = []
    for title, states in COLUMNS:
        posts = (
            Post.objects.filter(status__in=states)
            .select_related("author")
            .annotate(is_poll=Exists(Poll.objects.filter(post=OuterRef("pk"))))
        )
        order = "-sent_at" if states == [Post.Status.SENT] else "-created_at"
        shown = list(posts.order_by(order)[:RECENTLY_SENT])
        progress = {p.pk: reports.funnel(p) for p in shown if p.status in _SENDING}
        columns.append((title, [(p, progress.get(p.pk)) for p in shown]))
    return render(request, "newsroom/home.html", {"columns": columns})


_SENDING = (Post.Status.SENDING, Post.Status.PAUSED)


@staff("broadcasts.add_post")
def compose(request: HttpRequest, post_id: int | None = None) -> HttpResponse:
    """Writing a new post, or changing a draft."""
    if post_id is not None:
        # Imported here: the poll pages build on these views.
        from stadtbote.newsroom.poll_views import edit_if_poll

        as_poll = edit_if_poll(request, post_id)
        if as_poll is not None:
            return as_poll
    post = get_object_or_404(Post, pk=post_id) if post_id is not None else None
    if post is not None and post.status != Post.Status.DRAFT:
        messages.warning(request, _("Only a draft can be changed."))
        return redirect("newsroom-post", post.pk)
    initial = PostForm.initial_for(post) if post is not None else None
    form = PostForm(request.POST or None, initial=initial)
    view = None
    if request.method == "POST" and form.is_valid():
        fields = form.as_action_fields()
        try:
            if post is None:
                post = actions.create_post(_user(request), **fields)
            else:
                post = actions.update_post(post, _user(request), **fields)
        except (actions.PostError, actions.NotAllowed) as exc:
            form.add_error(None, localised(exc))
        else:
            messages.success(request, _("Saved."))
            return redirect("newsroom-post", post.pk)
    elif post is not None:
        view = reports.draft_view(_user(request), **_fields_of(post))
    return render(request, "newsroom/compose.html", {"form": form, "post": post, "view": view})


def _fields_of(post: Post) -> dict[str, Any]:
    return {
        "title": post.title,
        "text": post.text,
        "link": post.link,
        "topics": [t.slug for t in post.topics.all()],
        "districts": [d.slug for d in post.districts.all()],
        "language": post.language,
        "template": post.template.name if post.template else None,
        "urgent": post.urgent,
    }


@require_POST
@staff("broadcasts.add_post")
def live_preview(request: HttpRequest) -> JsonResponse:
    """The compose page asks while the editor types: the post as the phone will show it, who
    it reaches and what it costs. Nothing is saved."""
    form = PostForm(request.POST)
    if not form.is_valid():
        problems = [
            f"{form.fields[name].label}: {error}" if name in form.fields else str(error)
            for name, errors in form.errors.items()
            for error in errors
        ]
        return JsonResponse({"problem": " ".join(problems)}, status=200)
    fields = form.as_action_fields()
    fields.pop("publish_at")
    try:
        view = reports.draft_view(_user(request), **fields)
    except actions.PostError as exc:
        return JsonResponse({"problem": localised(exc)})
    audience = view["audience"]
    return JsonResponse(
        {
            "problem": None,
            "html": view["preview"]["html"],
            "template_html": view["preview"]["template_html"],
            "recipients": audience["recipients"],
            "free": audience["free"],
            "charged": audience["charged"],
            "cost": money(audience["estimated_cost"], audience["currency"]),
            "shown": {
                "recipients": count(audience["recipients"]),
                "free": count(audience["free"]),
                "charged": count(audience["charged"]),
            },
            "budget_warning": audience["budget"]["warning"],
        }
    )


@staff()
def post_page(request: HttpRequest, post_id: int) -> HttpResponse:
    post = get_object_or_404(
        Post.objects.select_related("author", "approved_by", "poll"), pk=post_id
    )
    started = post.status not in (Post.Status.DRAFT, Post.Status.SUBMITTED, Post.Status.SCHEDULED)
    user = _user(request)
    poll = poll_of(post)
    return render(
        request,
        "newsroom/post.html",
        {
            "post": post,
            "preview": reports.preview(post),
            "audience": None if started else reports.audience(post),
            "funnel": reports.funnel(post) if started else None,
            "reactions": reactions.counts(post) if started else None,
            "channel": reports.channel(post),
            "may_approve": user.has_perm("broadcasts.approve_post"),
            "may_edit": post.status == Post.Status.DRAFT
            and (post.author_id == user.pk or user.has_perm("broadcasts.change_post")),
            "own": post.author_id == user.pk,
            "refresh": post.status == Post.Status.SENDING,
            "poll": poll,
            "chat": showing.chat_preview(poll) if poll is not None else None,
            "results_of": Poll.objects.filter(results_post=post).select_related("post").first(),
        },
    )


# The steps a post page offers, each one action; the action decides whether it is allowed.
def _submit(post: Post, user: User, data: Any) -> str:
    actions.submit(post, user)
    return _("Submitted for approval.")


def _approve(post: Post, user: User, data: Any) -> str:
    done = actions.approve(post, user, alone_reason=data.get("reason", ""))
    if done.status == Post.Status.SCHEDULED:
        return _("Approved; it goes out at its time.")
    return _("Approved; it is being sent.")


def _reject(post: Post, user: User, data: Any) -> str:
    comment = data.get("comment", "").strip()
    if not comment:
        raise actions.PostError(_("Say what should change: the comment goes to the author."))
    actions.reject(post, user, comment=comment)
    return _("Sent back to the author with your comment.")


def _pause(post: Post, user: User, data: Any) -> str:
    _require_approver(user)
    actions.pause(post, by=user)
    return _("Paused.")


def _resume(post: Post, user: User, data: Any) -> str:
    _require_approver(user)
    actions.resume(post, by=user)
    return _("Sending again.")


def _cancel(post: Post, user: User, data: Any) -> str:
    _require_approver(user)
    withdrawn = actions.cancel(post, by=user)
    return _("Cancelled; %(n)d deliveries withdrawn.") % {"n": withdrawn}


def _channel(post: Post, user: User, data: Any) -> str:
    channel_outlet.record_posted(post, user)
    return _("Recorded as posted to the WhatsApp Channel.")


def _require_approver(user: User) -> None:
    if not user.has_perm("broadcasts.approve_post"):
        raise actions.NotAllowed(_("Your account may not do this."))


STEPS = {
    "submit": _submit,
    "approve": _approve,
    "reject": _reject,
    "pause": _pause,
    "resume": _resume,
    "cancel": _cancel,
    "channel": _channel,
}


@require_POST
@staff()
def step(request: HttpRequest, post_id: int, name: str) -> HttpResponse:
    act = STEPS.get(name)
    if act is None:
        raise Http404("no such step")
    post = get_object_or_404(Post, pk=post_id)
    try:
        messages.success(request, act(post, _user(request), request.POST))
    except (actions.PostError, actions.NotAllowed) as exc:
        messages.error(request, localised(exc))
    return redirect("newsroom-post", post.pk)


@staff()
def calendar(request: HttpRequest) -> HttpResponse:
    """Scheduled posts and what went out, by day, for four weeks from the start of this one
    (`?ab=YYYY-MM-DD` for others)."""
    today = timezone.localdate()
    try:
        start = date.fromisoformat(request.GET.get("ab", "")) if request.GET.get("ab") else today
    except ValueError:
        start = today
    start -= timedelta(days=start.weekday())
    days = [start + timedelta(days=n) for n in range(28)]
    begin = timezone.make_aware(datetime.combine(days[0], datetime.min.time()))
    end = begin + timedelta(days=28)
    by_day: dict[date, list[Post]] = defaultdict(list)
    scheduled = Post.objects.filter(
        status=Post.Status.SCHEDULED, publish_at__gte=begin, publish_at__lt=end
    )
    went_out = Post.objects.filter(send_started_at__gte=begin, send_started_at__lt=end)
    for post in scheduled:
        assert post.publish_at is not None
        by_day[timezone.localdate(post.publish_at)].append(post)
    for post in went_out:
        assert post.send_started_at is not None
        by_day[timezone.localdate(post.send_started_at)].append(post)
    weeks = [
        [(day, sorted(by_day.get(day, []), key=_when)) for day in days[i : i + 7]]
        for i in range(0, 28, 7)
    ]
    return render(
        request,
        "newsroom/calendar.html",
        {
            "weeks": weeks,
            "today": today,
            "earlier": days[0] - timedelta(days=28),
            "later": days[0] + timedelta(days=28),
        },
    )


def _when(post: Post) -> datetime:
    moment = post.send_started_at or post.publish_at
    assert moment is not None
    return moment
