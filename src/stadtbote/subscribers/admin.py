from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from stadtbote.accounts import audit
from stadtbote.lib import crypto, phone
from stadtbote.lib.admin import ReadOnlyAdmin
from stadtbote.subscribers import actions
from stadtbote.subscribers.export import export
from stadtbote.subscribers.models import ConsentEvent, District, Subscriber, Topic

SUBSCRIBER_COLUMNS = (
    "id",
    "status",
    "language",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "paused_until",
    "marketing_stopped",
    "unreachable_code",
)


def _indexes_for(term: str) -> list[str] | None:
    """A search term that is a phone number becomes its keyed indexes: the only way to find
    a row, since numbers are stored encrypted."""
    try:
        return crypto.blind_indexes(phone.normalize(term))
    except phone.InvalidPhoneNumber:
        return None


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    # No phone number in lists: a row is found by typing the full number into the search.
    list_display = SUBSCRIBER_COLUMNS
    list_filter = ["status", "language", "marketing_stopped", "unreachable_code"]
    fields = (*SUBSCRIBER_COLUMNS, "topics", "districts")
    readonly_fields = SUBSCRIBER_COLUMNS
    search_fields = ["phone_index"]
    search_help_text = _("Phone number with country code, e.g. +49 170 1234567")
    actions = ["export_json", "erase"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Subscriber], search_term: str
    ) -> tuple[QuerySet[Subscriber], bool]:
        if not search_term:
            return queryset, False
        indexes = _indexes_for(search_term)
        return queryset.filter(phone_index__in=indexes or []), False

    # An export holds the phone number: only those who may see numbers may export.
    @admin.action(description=_("Export data (JSON, Art. 15/20 GDPR)"), permissions=["export"])
    def export_json(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> HttpResponse:
        data = [export(s) for s in queryset]
        for subscriber in queryset:
            audit.record(request.user, "subscriber.exported", subscriber, label="")
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
        )
        response["Content-Disposition"] = 'attachment; filename="subscriber-export.json"'
        return response

    @admin.action(description=_("Erase data (Art. 17 GDPR)"), permissions=["erase"])
    def erase(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        count = 0
        for subscriber in queryset:
            actions.erase(
                subscriber,
                wording="erased on request, by staff",
                channel="staff",
                by=request.user,  # type: ignore[arg-type]
            )
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d erased.", "%(count)d erased.", count) % {"count": count},
            messages.SUCCESS,
        )

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # erasure, not a plain delete, removes everything personal

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("subscribers.view_phone_number")

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("subscribers.delete_subscriber")


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "action", "channel", "notice_version", "subscriber_ref"]
    list_filter = ["action", "channel", "notice_version"]
    readonly_fields = [f.name for f in ConsentEvent._meta.fields]
    search_fields = ["subscriber_ref"]
    search_help_text = _("Phone number with country code, e.g. +49 170 1234567")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ConsentEvent], search_term: str
    ) -> tuple[QuerySet[ConsentEvent], bool]:
        if not search_term:
            return queryset, False
        return queryset.filter(subscriber_ref__in=_indexes_for(search_term) or []), False


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "opt_in_only", "position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    prepopulated_fields = {"slug": ["name"]}
