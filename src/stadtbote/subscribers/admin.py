from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from stadtbote.subscribers.models import ConsentEvent, Subscriber, Topic

SUBSCRIBER_COLUMNS = ("id", "status", "language", "created_at", "confirmed_at", "unsubscribed_at")


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    # No phone number here: staff see subscribers by number only where their role allows it
    # (the data protection officer's views, a later part of the staff app).
    list_display = SUBSCRIBER_COLUMNS
    list_filter = ["status", "language"]
    fields = SUBSCRIBER_COLUMNS
    readonly_fields = SUBSCRIBER_COLUMNS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "action", "channel", "notice_version", "subscriber_ref"]
    list_filter = ["action", "channel", "notice_version"]
    readonly_fields = [f.name for f in ConsentEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "opt_in_only", "position"]
    prepopulated_fields = {"slug": ["name"]}
