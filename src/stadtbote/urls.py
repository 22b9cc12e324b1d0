from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView

from stadtbote.api.views import api
from stadtbote.channels.whatsapp.views import webhook
from stadtbote.public.views import post_image, privacy_notice, subscribe


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    # One login for the whole staff area: the admin's own form knows no second factor.
    path("admin/login/", RedirectView.as_view(pattern_name="staff-login", query_string=True)),
    path("admin/", admin.site.urls),
    path("staff/", include("stadtbote.accounts.urls")),
    path("api/v1/", api.urls),
    path("webhooks/whatsapp", webhook, name="whatsapp-webhook"),
    path("health", health),
    path("datenschutz/", privacy_notice, name="privacy-notice"),
    path("anmelden/", subscribe, name="subscribe"),
    path("bilder/<int:post_id>/", post_image, name="post-image"),
]
