from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from stadtbote.broadcasts import actions, templates
from stadtbote.broadcasts.models import Post, Template


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "created_at", "sent_at", "funnel"]
    list_filter = ["status"]
    readonly_fields = ["status", "author", "created_at", "send_started_at", "sent_at", "funnel"]
    fields = ["title", "text", "template", "topics", "districts", *readonly_fields]
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
            except (templates.TemplateError, templates.TransportError) as exc:
                self.message_user(request, f"{template}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{template}: {template.get_status_display()}")

    @admin.action(description="Status von Meta abrufen")
    def sync(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        try:
            changed = templates.sync()
        except templates.TransportError as exc:
            self.message_user(request, f"Meta nicht erreichbar: {exc}", messages.ERROR)
        else:
            self.message_user(request, f"{changed} Vorlage(n) mit neuem Status.")
