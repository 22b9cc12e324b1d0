from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView

from stadtbote.api.views import api
from stadtbote.channels.whatsapp.views import webhook
from stadtbote.public.archive_pages import (
    archive_list,
    cacheable,
    feed_version,
    post_page,
    widget,
)
from stadtbote.public.feeds import LatestPosts, LatestPostsAtom
from stadtbote.public.views import post_image, privacy_notice, subscribe


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    # One login for the whole staff area: the admin's own form knows no second factor.
    path("admin/login/", RedirectView.as_view(pattern_name="staff-login", query_string=True)),
    path("admin/", admin.site.urls),
    path("staff/", include("stadtbote.accounts.urls")),
    # The staff's language switch (set_language): remembered in a cookie, read on staff pages.
    path("i18n/", include("django.conf.urls.i18n")),
    # The inbox's settings pages sit beside the newsroom's, in the same settings area.
    path("redaktion/einstellungen/", include("stadtbote.inbox.settings_urls")),
    path("redaktion/", include("stadtbote.newsroom.urls")),
    # Before the inbox, whose patterns would otherwise take "statistik" for a conversation.
    path("posteingang/statistik/", include("stadtbote.inbox.statistics_urls")),
    path("posteingang/", include("stadtbote.inbox.urls")),
    path("api/v1/", api.urls),
    # Open311 GeoReport v2, for the city's defect-reporting and other systems.
    path("open311/v2/", include("stadtbote.inbox.open311.urls")),
    path("webhooks/whatsapp", webhook, name="whatsapp-webhook"),
    path("health", health),
    path("datenschutz/", privacy_notice, name="privacy-notice"),
    path("anmelden/", subscribe, name="subscribe"),
    path("bilder/<int:post_id>/", post_image, name="post-image"),
    # The public archive: everything that was sent, with its feeds and a widget to embed.
    path("archiv/", archive_list, name="archive"),
    path("archiv/thema/<slug:topic>/", archive_list, name="archive-topic"),
    path("archiv/<int:post_id>/", post_page, name="archive-post-short"),
    path("archiv/<int:post_id>-<slug:slug>/", post_page, name="archive-post"),
    path("archiv/rss/", cacheable(feed_version)(LatestPosts()), name="feed-rss"),
    path("archiv/atom/", cacheable(feed_version)(LatestPostsAtom()), name="feed-atom"),
    path(
        "archiv/thema/<slug:topic>/rss/",
        cacheable(feed_version)(LatestPosts()),
        name="feed-rss-topic",
    ),
    path(
        "archiv/thema/<slug:topic>/atom/",
        cacheable(feed_version)(LatestPostsAtom()),
        name="feed-atom-topic",
    ),
    path("widget/", widget, name="widget"),
]
