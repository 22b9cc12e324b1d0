from django.urls import path

from stadtbote.inbox import views

urlpatterns = [
    path("", views.conversation_list, name="inbox"),
    path("<int:conversation_id>/", views.conversation_page, name="inbox-conversation"),
    path("<int:conversation_id>/antworten/", views.answer, name="inbox-answer"),
    path("<int:conversation_id>/notiz/", views.add_note, name="inbox-note"),
    path("<int:conversation_id>/status/", views.change_status, name="inbox-status"),
    path("<int:conversation_id>/zuweisen/", views.assign, name="inbox-assign"),
    path(
        "<int:conversation_id>/telefonnummer/",
        views.reveal_phone_number,
        name="inbox-phone-number",
    ),
    path("meldungen/", views.concern_list, name="inbox-concerns"),
    # key: the reference number (M-2026-00042) or the id
    path("meldungen/<str:key>/", views.concern_page, name="inbox-concern"),
    path("meldungen/<str:key>/status/", views.concern_status, name="inbox-concern-status"),
    path("meldungen/<str:key>/einordnen/", views.classify, name="inbox-concern-classify"),
    path("medien/<int:message_id>/", views.media, name="inbox-media"),
]
