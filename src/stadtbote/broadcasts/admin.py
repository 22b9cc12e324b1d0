from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from stadtbote.broadcasts import actions, channel_outlet, reports, templates
from stadtbote.broadcasts.models import ChannelPosting, Post, Price, Template
from stadtbote.channels.types import TransportError
from stadtbote.lib.localise import count, money
from stadtbote.lib.problems import localised


@admin.register(ChannelPosting)
class ChannelPostingAdmin(admin.ModelAdmin):
    """Posted by hand to the city's WhatsApp Channel (no API exists): when, and the counts the
    Channel shows, typed in by staff. Recorded through the post's action "posted to Channel"."""

    list_display = ["post", "posted_at", "posted_by", "followers", "reactions"]
    fields = ["post", "posted_at", "posted_by", "followers", "reactions", "counts_updated_at"]
    readonly_fields = ["post", "posted_at", "posted_by", "counts_updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: ChannelPosting, form: object, change: bool
    ) -> None:
        try:
            channel_outlet.record_counts(
                obj.post,
                request.user,  # type: ignore[arg-type]
                followers=obj.followers,
                reactions=obj.reactions,
            )
        except (actions.PostError, actions.NotAllowed) as exc:
            self.message_user(request, localised(exc), messages.ERROR)


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["country", "category", "amount", "currency"]
    list_filter = ["country", "category"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "urgent", "publish_at", "created_at", "sent_at", "funnel"]
    list_filter = ["status", "urgent"]
    readonly_fields = [
        "preview",
        "audience",
        "status",
        "author",
        "created_at",
        "submitted_at",
        "approved_by",
        "approved_at",
        "review_comment",
        "send_started_at",
        "sent_at",
        "funnel",
        "channel_copy",
    ]
    fields = [
        "title",
        "text",
        "image",
        "link",
        "share_footer",
        "template",
        "language",
        "topics",
        "districts",
        "urgent",
        "urgent_reason",
        "publish_at",
        "on_website",
        *readonly_fields,
    ]
    filter_horizontal = ["topics", "districts"]
    actions = ["submit", "approve", "pause", "resume", "cancel", "posted_to_channel"]

    @admin.display(description=gettext_lazy("Delivery"))
    def funnel(self, post: Post) -> str:
        if post.pk is None:
            return "–"
        f = reports.funnel(post)
        line = _(
            "%(total)s in all · %(waiting)s waiting · %(held)s held · %(sent)s sent · "
            "%(delivered)s delivered · %(read)s read · %(failed)s failed"
        ) % {
            "total": count(f["total"]),
            "waiting": count(f["queued"] + f["sending"]),
            "held": count(f["held"]),
            "sent": count(f["sent"]),
            "delivered": count(f["delivered"]),
            "read": count(f["read"]),
            "failed": count(f["failed"]),
        }
        if f["eta"] is not None:
            line += " · " + _("%(progress)s %%, done about %(eta)s") % {
                "progress": count(round(f["progress"] * 100)),
                "eta": date_format(localtime(f["eta"]), "SHORT_DATETIME_FORMAT"),
            }
        if f["failed_by_reason"]:
            reasons = ", ".join(f"{count(n)}× {why}" for why, n in f["failed_by_reason"].items())
            line += " · " + _("reasons: %(reasons)s") % {"reasons": reasons}
        return (
            line
            + " · "
            + _("cost %(cost)s · %(brought)s new subscriptions through forwarding")
            % {
                "cost": money(f["actual_cost"], f["currency"]),
                "brought": count(f["subscriptions_brought"]),
            }
        )

    @admin.display(description=gettext_lazy("Preview"))
    def preview(self, post: Post) -> str:
        if post.pk is None:
            return "–"
        shown = reports.preview(post)
        image = (
            format_html(
                "<img src='{}' style='max-width:100%;border-radius:6px'>", shown["image_url"]
            )
            if shown["image_url"]
            else ""
        )
        bubble = (
            "<div style='max-width:22rem;background:#d9fdd3;color:#111;border-radius:8px;"
            "padding:6px 8px;font:14px/1.35 system-ui,sans-serif;white-space:normal'>{}{}</div>"
        )
        free = format_html(bubble, image, mark_safe(shown["html"]))  # noqa: S308 -- escaped by rendering
        if shown["template_html"] is None:
            return free
        outside = format_html(bubble, "", mark_safe(shown["template_html"]))  # noqa: S308
        return format_html(
            "<p>{}</p>{}<p>{}</p>{}",
            _("Inside the 24-hour window:"),
            free,
            _("Outside it (template):"),
            outside,
        )

    @admin.display(description=gettext_lazy("Recipients and cost"))
    def audience(self, post: Post) -> str:
        if post.pk is None:
            return "–"
        a = reports.audience(post)
        line = _(
            "%(recipients)s recipients, %(free)s of them free in the 24-hour window and "
            "%(charged)s through the template: about %(cost)s"
        ) % {
            "recipients": count(a["recipients"]),
            "free": count(a["free"]),
            "charged": count(a["charged"]),
            "cost": money(a["estimated_cost"], a["currency"]),
        }
        warning = a["budget"]["warning"]
        return f"{line}. {warning}" if warning else line

    @admin.display(description=gettext_lazy("Text for the WhatsApp Channel"))
    def channel_copy(self, post: Post) -> str:
        if post.pk is None:
            return "–"
        return format_html(
            "<textarea readonly rows='6' cols='60'>{}</textarea>",
            reports.channel(post)["copy_text"],
        )

    def save_model(self, request: HttpRequest, obj: Post, form: object, change: bool) -> None:
        if not change:
            obj.author = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        # A post that went out is a record of what citizens received: it stays as sent.
        if obj is not None and obj.status not in (Post.Status.DRAFT,):
            return False
        return super().has_change_permission(request, obj)

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Post],
        act: Callable[[Post], object],
        done: str,
    ) -> None:
        for post in queryset:
            try:
                act(post)
            except (actions.PostError, actions.NotAllowed) as exc:
                self.message_user(request, f"“{post}”: {localised(exc)}", messages.WARNING)
            else:
                self.message_user(request, f"“{post}”: {done}")

    @admin.action(description=gettext_lazy("Submit for approval"))
    def submit(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._each(request, queryset, lambda p: actions.submit(p, request.user), _("submitted"))  # type: ignore[arg-type]

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("broadcasts.approve_post")

    @admin.action(
        description=gettext_lazy("Approve (send now or at the set time)"), permissions=["approve"]
    )
    def approve(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._each(
            request,
            queryset,
            lambda p: actions.approve(p, request.user, alone_reason=p.urgent_reason),  # type: ignore[arg-type]
            _("approved for sending"),
        )

    # Stopping, holding and resuming a post being sent is the approvers' decision, as in the API.
    @admin.action(description=gettext_lazy("Pause sending"), permissions=["approve"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._each(request, queryset, lambda p: actions.pause(p, request.user), _("paused"))  # type: ignore[arg-type]

    @admin.action(description=gettext_lazy("Resume sending"), permissions=["approve"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._each(
            request,
            queryset,
            lambda p: actions.resume(p, request.user),  # type: ignore[arg-type]
            _("resuming"),
        )

    @admin.action(description=gettext_lazy("Posted to the WhatsApp Channel"))
    def posted_to_channel(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._each(
            request,
            queryset,
            lambda p: channel_outlet.record_posted(p, request.user),  # type: ignore[arg-type]
            _("recorded as posted to the Channel"),
        )

    @admin.action(description=gettext_lazy("Cancel"), permissions=["approve"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._each(request, queryset, lambda p: actions.cancel(p, request.user), _("cancelled"))  # type: ignore[arg-type]


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "category", "status", "status_reason", "synced_at"]
    list_filter = ["status", "language", "category"]
    readonly_fields = ["status", "status_reason", "meta_id", "synced_at"]
    actions = ["submit", "sync"]

    def save_model(self, request: HttpRequest, obj: Template, form: object, change: bool) -> None:
        try:
            templates.check(obj)
        except templates.TemplateError as exc:
            self.message_user(request, localised(exc), messages.ERROR)
            return
        super().save_model(request, obj, form, change)

    @admin.action(description=gettext_lazy("Submit to Meta for review"))
    def submit(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        for template in queryset:
            try:
                templates.register(template)
            except (templates.TemplateError, TransportError) as exc:
                self.message_user(request, f"{template}: {localised(exc)}", messages.ERROR)
            else:
                self.message_user(request, f"{template}: {template.get_status_display()}")

    @admin.action(description=gettext_lazy("Fetch the status from Meta"))
    def sync(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        try:
            changed = templates.sync()
        except TransportError as exc:
            self.message_user(
                request, _("Meta cannot be reached: %(error)s") % {"error": exc}, messages.ERROR
            )
        else:
            self.message_user(
                request,
                ngettext(
                    "%(count)s template with a new status.",
                    "%(count)s templates with a new status.",
                    changed,
                )
                % {"count": count(changed)},
            )
