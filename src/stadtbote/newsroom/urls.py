from django.urls import path

from stadtbote.dashboards import views as dashboards
from stadtbote.newsroom import views

urlpatterns = [
    path("", views.home, name="newsroom"),
    path("neu/", views.compose, name="newsroom-compose"),
    path("vorschau/", views.live_preview, name="newsroom-preview"),
    path("kalender/", views.calendar, name="newsroom-calendar"),
    path("zahlen/", dashboards.dashboard, name="newsroom-figures"),
    path("einstellungen/", views.settings_page, name="newsroom-settings"),
    path("<int:post_id>/", views.post_page, name="newsroom-post"),
    path("<int:post_id>/bearbeiten/", views.compose, name="newsroom-edit"),
    path("<int:post_id>/<slug:name>/", views.step, name="newsroom-step"),
]
