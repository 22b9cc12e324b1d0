from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from stadtbote.channels.models import InboundWebhook

COLUMNS = ("id", "channel", "received_at", "state", "processed_at", "error")


@admin.register(InboundWebhook)
class InboundWebhookAdmin(admin.ModelAdmin):
    # The body holds phone numbers and message texts, so it is not shown here.
    list_display = COLUMNS
    list_filter = ["state", "channel"]
    fields = COLUMNS
    readonly_fields = COLUMNS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
