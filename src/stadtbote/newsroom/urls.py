from django.urls import path, register_converter

from stadtbote.dashboards import views as dashboards
from stadtbote.newsroom import poll_views, settings_views, views


class _Kind:
    """The German address of the topics and districts pages, and back."""

    regex = "themen|stadtteile"
    _names = {"themen": "topics", "stadtteile": "districts"}

    def to_python(self, value: str) -> str:
        return self._names[value]

    def to_url(self, value: str) -> str:
        return {v: k for k, v in self._names.items()}[value]


register_converter(_Kind, "kind")

urlpatterns = [
    path("", views.home, name="newsroom"),
    path("neu/", views.compose, name="newsroom-compose"),
    path("umfrage/neu/", poll_views.compose, name="newsroom-poll-compose"),
    path("vorschau/", views.live_preview, name="newsroom-preview"),
    path("kalender/", views.calendar, name="newsroom-calendar"),
    path("zahlen/", dashboards.dashboard, name="newsroom-figures"),
    path("einstellungen/", settings_views.overview, name="newsroom-settings"),
    path("einstellungen/versand/", settings_views.sending, name="newsroom-settings-sending"),
    path("einstellungen/preise/", settings_views.price_table, name="newsroom-settings-prices"),
    path(
        "einstellungen/vorlagen/",
        settings_views.template_list,
        name="newsroom-settings-templates",
    ),
    path(
        "einstellungen/vorlagen/<int:template_id>/",
        settings_views.template_page,
        name="newsroom-settings-template",
    ),
    path("einstellungen/datenschutz/", settings_views.privacy, name="newsroom-settings-privacy"),
    path("einstellungen/archiv/", settings_views.archive, name="newsroom-settings-archive"),
    # kind: "topics" or "districts", shown as themen/ and stadtteile/
    path(
        "einstellungen/<kind:kind>/",
        settings_views.choices,
        name="newsroom-settings-choices",
    ),
    path(
        "einstellungen/<kind:kind>/<int:item_id>/",
        settings_views.choice,
        name="newsroom-settings-choice",
    ),
    path(
        "einstellungen/<kind:kind>/<int:item_id>/<slug:name>/",
        settings_views.choice_step,
        name="newsroom-settings-choice-step",
    ),
    path("<int:post_id>/", views.post_page, name="newsroom-post"),
    # A poll's pages; before the post's steps, whose address has the same shape.
    path("<int:post_id>/umfrage/", poll_views.compose, name="newsroom-poll-edit"),
    path("<int:post_id>/ergebnisse/", poll_views.results_page, name="newsroom-poll-results"),
    path("<int:post_id>/ergebnisse/live/", poll_views.results_live, name="newsroom-poll-live"),
    path("<int:post_id>/ergebnisse.csv", poll_views.results_csv, name="newsroom-poll-csv"),
    path("<int:post_id>/ergebnisse/schliessen/", poll_views.close, name="newsroom-poll-close"),
    path(
        "<int:post_id>/ergebnisse/veroeffentlichen/",
        poll_views.publish,
        name="newsroom-poll-publish",
    ),
    path("<int:post_id>/bearbeiten/", views.compose, name="newsroom-edit"),
    path("<int:post_id>/<slug:name>/", views.step, name="newsroom-step"),
]
