from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from stadtbote.channels.models import InboundWebhook


@admin.register(InboundWebhook)
class InboundWebhookAdmin(admin.ModelAdmin):
    # The body holds phone numbers and message texts, so it is not shown here.
    list_display = ["id", "channel", "received_at", "state", "processed_at", "error"]
    list_filter = ["state", "channel"]
    fields = list_display
    readonly_fields = list_display

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
