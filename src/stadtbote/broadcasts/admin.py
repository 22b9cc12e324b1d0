from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from stadtbote.broadcasts import actions, templates
from stadtbote.broadcasts.models import Post, Template
from stadtbote.channels.types import TransportError


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "urgent", "publish_at", "created_at", "sent_at", "funnel"]
    list_filter = ["status", "urgent"]
    readonly_fields = [
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
    ]
    fields = [
        "title",
        "text",
        "template",
        "topics",
        "districts",
        "urgent",
        "urgent_reason",
        "publish_at",
        *readonly_fields,
    ]
    filter_horizontal = ["topics", "districts"]
    actions = ["submit", "approve", "pause", "resume", "cancel"]

    @admin.display(description="Zustellung")
    def funnel(self, post: Post) -> str:
        if post.pk is None:
            return "–"
        c = actions.delivery_counts(post)
        return (
            f"{c['total']} gesamt · {c['queued'] + c['sending']} wartend · "
            f"{c['accepted'] + c['sent']} gesendet · {c['delivered']} zugestellt · "
            f"{c['read']} gelesen · {c['failed']} fehlgeschlagen"
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
                self.message_user(request, f"„{post}“: {exc}", messages.WARNING)
            else:
                self.message_user(request, f"„{post}“: {done}")

    @admin.action(description="Zur Freigabe einreichen")
    def submit(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._each(request, queryset, lambda p: actions.submit(p, request.user), "eingereicht")  # type: ignore[arg-type]

    @admin.action(description="Freigeben (senden oder zur Sendezeit)")
    def approve(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._each(
            request,
            queryset,
            lambda p: actions.approve(p, request.user, alone_reason=p.urgent_reason),  # type: ignore[arg-type]
            "freigegeben",
        )

    @admin.action(description="Senden anhalten")
    def pause(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._each(request, queryset, actions.pause, "angehalten")

    @admin.action(description="Senden fortsetzen")
    def resume(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._each(request, queryset, actions.resume, "wird fortgesetzt")

    @admin.action(description="Abbrechen")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._each(request, queryset, actions.cancel, "abgebrochen")


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
            self.message_user(request, str(exc), messages.ERROR)
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Bei Meta zur Prüfung einreichen")
    def submit(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        for template in queryset:
            try:
                templates.register(template)
            except (templates.TemplateError, TransportError) as exc:
                self.message_user(request, f"{template}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{template}: {template.get_status_display()}")

    @admin.action(description="Status von Meta abrufen")
    def sync(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        try:
            changed = templates.sync()
        except TransportError as exc:
            self.message_user(request, f"Meta nicht erreichbar: {exc}", messages.ERROR)
        else:
            self.message_user(request, f"{changed} Vorlage(n) mit neuem Status.")
