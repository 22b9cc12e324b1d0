from __future__ import annotations

from django.contrib import admin

from stadtbote.accounts.models import AuditEntry
from stadtbote.lib.admin import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit log for the data protection officer: filterable, searchable, never editable."""

    list_display = ["at", "actor_name", "action", "target_type", "target_id", "target_label", "ip"]
    list_filter = ["action", "via", "target_type", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_name", "action", "target_label", "target_id", "ip"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
