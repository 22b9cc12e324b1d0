"""Included at /open311/v2/ (the installation's Open311 base URL)."""

from __future__ import annotations

from django.urls import path, re_path

from stadtbote.inbox.open311 import views

FMT = r"(?P<fmt>\w+)"

urlpatterns = [
    re_path(rf"^discovery\.{FMT}$", views.discovery, name="open311-discovery"),
    re_path(rf"^services\.{FMT}$", views.services, name="open311-services"),
    re_path(rf"^services/(?P<code>[^/]+?)\.{FMT}$", views.service_definition),
    re_path(rf"^requests\.{FMT}$", views.requests, name="open311-requests"),
    re_path(rf"^requests/(?P<reference>[^/]+?)\.{FMT}$", views.request_detail),
    path("media/<str:token>", views.photo, name="open311-media"),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
