from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "created_at", "sent_at", "funnel"]
    list_filter = ["status"]
    readonly_fields = ["status", "author", "created_at", "send_started_at", "sent_at", "funnel"]
    fields = ["title", "text", "topics", "districts", *readonly_fields]
    filter_horizontal = ["topics", "districts"]
    actions = ["send"]

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
        if obj is not None and obj.status != Post.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description="Ausgewählte Beiträge jetzt senden", permissions=["change"])
    def send(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        for post in queryset:
            try:
                queued = actions.send_post(post)
            except actions.PostError as exc:
                self.message_user(request, f"{post}: {exc}", messages.WARNING)
            else:
                self.message_user(request, f"„{post}“ geht an {queued} Abonnent:innen.")
