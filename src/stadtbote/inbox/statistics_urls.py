"""Mounted at /posteingang/statistik/ (stadtbote/urls.py)."""

from django.urls import path

from stadtbote.inbox import statistics_views

urlpatterns = [
    path("", statistics_views.page, name="inbox-statistics"),
    path("anliegen.csv", statistics_views.table_csv, name="inbox-statistics-csv"),
]
