from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from stadtbote.public import privacy_notice
from stadtbote.public.models import NoticeVersion, PageText


class PageTextForm(forms.ModelForm):
    class Meta:
        model = PageText
        fields = ["page", "title", "body", "version"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("page") == PageText.Page.PRIVACY and not self.errors:
            reason = privacy_notice.problem(
                title=data["title"], body=data["body"], version=data.get("version", "")
            )
            if reason is not None:
                self.add_error("version", reason)
        return data


@admin.register(PageText)
class PageTextAdmin(admin.ModelAdmin):
    form = PageTextForm
    list_display = ["page", "title", "version", "updated_at"]

    def save_model(self, request: HttpRequest, obj: PageText, form: Any, change: bool) -> None:
        if obj.page == PageText.Page.PRIVACY:
            # Through the one place that keeps every published version.
            published = privacy_notice.publish(
                request.user,  # type: ignore[arg-type]
                title=obj.title,
                body=obj.body,
                version=obj.version,
            )
            obj.pk = published.pk
            return
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: PageText | None = None) -> bool:
        # Deleting the notice would make the consents record the configured version instead.
        if obj is not None and obj.page == PageText.Page.PRIVACY:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(NoticeVersion)
class NoticeVersionAdmin(admin.ModelAdmin):
    """Read only: the history is written when the notice is published."""

    list_display = ["version", "title", "published_at", "published_by_name"]
    readonly_fields = ["version", "title", "body", "published_at", "published_by_name"]
    exclude = ["published_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
