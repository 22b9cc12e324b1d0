from __future__ import annotations

from urllib.parse import quote

import segno
from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from stadtbote.broadcasts.models import Post
from stadtbote.public.models import PageText
from stadtbote.public.pages import page


def click_to_chat_url() -> str:
    """WhatsApp's click-to-chat link with "Start" already typed in."""
    return f"https://wa.me/{settings.WHATSAPP_DISPLAY_NUMBER}?text={quote('Start')}"


def _display(number: str) -> str:
    return f"+{number[:2]} {number[2:5]} {number[5:]}" if number else ""


def subscribe(request: HttpRequest) -> HttpResponse:
    link = click_to_chat_url()
    qr = segno.make(link, error="m")
    # segno writes a self-contained SVG (no script); it is our own output, safe to inline.
    svg = qr.svg_inline(scale=6, title=_("QR code: open a WhatsApp chat with the city"))
    return render(
        request,
        "public/subscribe.html",
        {
            "page": page(PageText.Page.SUBSCRIBE),
            "link": link,
            "qr_svg": mark_safe(svg),  # noqa: S308 -- generated here from our own link
            "number": _display(settings.WHATSAPP_DISPLAY_NUMBER),
            "configured": bool(settings.WHATSAPP_DISPLAY_NUMBER),
        },
    )


def privacy_notice(request: HttpRequest) -> HttpResponse:
    """The notice linked in the confirmation question; its version is what the ledger records."""
    return render(request, "public/privacy_notice.html", {"page": page(PageText.Page.PRIVACY)})


# Meta fetches a post's image from here when it sends the post; an image becomes public only
# with its post's approval.
_PUBLISHED = [Post.Status.SCHEDULED, Post.Status.SENDING, Post.Status.PAUSED, Post.Status.SENT]


def post_image(request: HttpRequest, post_id: int) -> FileResponse:
    post = Post.objects.filter(pk=post_id, status__in=_PUBLISHED).first()
    if post is None or not post.image:
        raise Http404("no such image")
    response = FileResponse(post.image.open("rb"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
