"""A post as citizens will see it: the text that is sent (with its link and sharing footer),
the preview in a phone-like bubble (WhatsApp's formatting rendered as WhatsApp renders it),
and the copy for the city's WhatsApp Channel."""

from __future__ import annotations

import re
from html import escape
from urllib.parse import quote

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from stadtbote.broadcasts.models import Post

CAPTION_MAX = 1024  # WhatsApp's limit for an image caption

FOOTER = {
    "de": "Gern weiterleiten! Selbst abonnieren: {link}",
    "en": "Feel free to forward! Subscribe yourself: {link}",
}


def referral_code(post: Post) -> str:
    """What the sharing link puts after "Start": the dialogue credits the post with it."""
    return f"p{post.pk}"


def subscribe_link(post: Post) -> str | None:
    number = re.sub(r"\D", "", settings.WHATSAPP_DISPLAY_NUMBER)
    if not number:
        return None
    return f"https://wa.me/{number}?text={quote(f'Start {referral_code(post)}')}"


def message_text(post: Post) -> str:
    """The text that goes out: the post's text, its link unless the text already has it, and
    the sharing footer when the post carries one and the city's number is configured."""
    parts = [post.text.strip()]
    if post.link and post.link not in post.text:
        parts.append(post.link)
    link = subscribe_link(post) if post.share_footer else None
    if link:
        parts.append(FOOTER.get(post.language or "de", FOOTER["de"]).format(link=link))
    return "\n\n".join(parts)


def image_url(post: Post) -> str | None:
    """Meta fetches a post's image from the public site, only once the post is approved."""
    if not post.image:
        return None
    return f"{settings.PUBLIC_URL}/bilder/{post.pk}/"


def length_problem(post: Post) -> str | None:
    """Why the composed message would be refused by WhatsApp, or None."""
    text = message_text(post)
    if post.image and len(text) > CAPTION_MAX:
        return (
            f"With an image the text is its caption: at most {CAPTION_MAX:,} characters "
            f"including link and footer, this one has {len(text):,}."
        )
    if len(text) > 4096:
        return f"The message has {len(text):,} characters with link and footer; 4,096 allowed."
    return None


# WhatsApp's formatting: *bold*, _italic_, ~strike~, ```monospace```, `inline code`, lists
# ("- ", "* ", "1. ") and quotes ("> "). A marker counts only where WhatsApp takes it: next to
# a word boundary, not spanning lines. Inside code nothing else is formatted.
_CODE = re.compile(r"```(.+?)```|`([^`\n]+)`", re.S)
_STYLES = [
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), r"<em>\1</em>"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), r"<s>\1</s>"),
]
_URL = re.compile(r"(https?://[^\s<]+[^\s<.,;:!?)\]'\"])")


def _styled(text: str) -> str:
    html = escape(text, quote=False)
    for pattern, replacement in _STYLES:
        html = pattern.sub(replacement, html)
    return _URL.sub(r"<a href='\1' rel='noopener' target='_blank'>\1</a>", html)


def _inline(text: str) -> str:
    parts: list[str] = []
    position = 0
    for code in _CODE.finditer(text):
        parts.append(_styled(text[position : code.start()]))
        if code.group(1) is not None:
            parts.append(f"<code class='mono'>{escape(code.group(1), quote=False)}</code>")
        else:
            parts.append(f"<code>{escape(code.group(2), quote=False)}</code>")
        position = code.end()
    parts.append(_styled(text[position:]))
    return "".join(parts)


def whatsapp_html(text: str) -> SafeString:
    """The text rendered as WhatsApp shows it. Everything is escaped before markup is added."""
    blocks: list[str] = []
    for line in text.split("\n"):
        if line.startswith("> "):
            blocks.append(f"<blockquote>{_inline(line[2:])}</blockquote>")
        elif re.match(r"^[-*] ", line):
            blocks.append(f"<div class='li'>• {_inline(line[2:])}</div>")
        elif re.match(r"^\d+\. ", line):
            blocks.append(f"<div class='li'>{_inline(line)}</div>")
        elif not line.strip():
            blocks.append("<br>")
        else:
            blocks.append(f"<div>{_inline(line)}</div>")
    return mark_safe("".join(blocks))  # noqa: S308 -- every piece of text was escaped above


def channel_copy(post: Post) -> str:
    """For pasting into the city's WhatsApp Channel: the title in bold, the text with
    WhatsApp's own formatting kept, the link; no sharing footer (the Channel has its own)."""
    parts = [f"*{post.title.strip()}*", post.text.strip()]
    if post.link and post.link not in post.text:
        parts.append(post.link)
    return "\n\n".join(parts)
