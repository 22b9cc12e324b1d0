from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from stadtbote.accounts.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log for the data protection officer: filterable, searchable, never editable."""

    list_display = ["at", "actor_name", "action", "target_type", "target_id", "target_label", "ip"]
    list_filter = ["action", "via", "target_type", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_name", "action", "target_label", "target_id", "ip"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
