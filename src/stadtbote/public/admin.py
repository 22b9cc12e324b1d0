from __future__ import annotations

from django.contrib import admin

from stadtbote.public.models import PageText


@admin.register(PageText)
class PageTextAdmin(admin.ModelAdmin):
    list_display = ["page", "title", "version", "updated_at"]
