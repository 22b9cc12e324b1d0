"""The inbox's settings pages, mounted beside the newsroom's at /redaktion/einstellungen/
(stadtbote/urls.py); German addresses like theirs."""

from django.urls import path

from stadtbote.inbox import settings_views as views

urlpatterns = [
    path("abteilungen/", views.departments, name="inbox-settings-departments"),
    path("abteilungen/<int:item_id>/", views.department, name="inbox-settings-department"),
    path(
        "abteilungen/<int:item_id>/<slug:name>/",
        views.department_step,
        name="inbox-settings-department-step",
    ),
    path("kategorien/", views.categories, name="inbox-settings-categories"),
    path("kategorien/<int:item_id>/", views.category, name="inbox-settings-category"),
    path(
        "kategorien/<int:item_id>/<slug:name>/",
        views.category_step,
        name="inbox-settings-category-step",
    ),
    path("textbausteine/", views.replies, name="inbox-settings-replies"),
    path("textbausteine/<int:item_id>/", views.reply, name="inbox-settings-reply"),
    path(
        "textbausteine/<int:item_id>/loeschen/",
        views.reply_delete,
        name="inbox-settings-reply-delete",
    ),
    path("sprechzeiten/", views.office_hours, name="inbox-settings-hours"),
    path(
        "sprechzeiten/tage/<int:item_id>/loeschen/",
        views.closed_day_delete,
        name="inbox-settings-closed-day-delete",
    ),
]
