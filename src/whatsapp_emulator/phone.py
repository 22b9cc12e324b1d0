"""The simulated citizen's phone: one self-contained page at ``/`` and ``/phone``."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route


def routes() -> list[BaseRoute]:
    return [
        Route("/", phone_page, methods=["GET"]),
        Route("/phone", phone_page, methods=["GET"]),
        # Browsers ask for it; an empty answer keeps a 404 out of the console.
        Route("/favicon.ico", no_icon, methods=["GET"]),
    ]


async def phone_page(request: Request) -> Response:
    page, policy = _page()
    return HTMLResponse(page, headers={"Content-Security-Policy": policy})


async def no_icon(request: Request) -> Response:
    return Response(status_code=204)


@functools.cache
def _page() -> tuple[str, str]:
    """The page and a Content-Security-Policy that allows exactly its inline style and script.

    Chat text comes from the app under test; the policy keeps a formatting bug from turning
    into script execution and proves the page loads no code or style from elsewhere. Pictures
    come from the emulator's media store; a business may also send an image by link, so images
    (and only images) may come from any http(s) address, as they would reach a real phone.
    """
    page = resources.files("whatsapp_emulator").joinpath("static/phone.html").read_text("utf-8")
    style = _inline_hash(page, "style")
    script = _inline_hash(page, "script")
    policy = (
        f"default-src 'none'; style-src '{style}'; script-src '{script}'; "
        "connect-src 'self'; img-src 'self' http: https:; media-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return page, policy


def _inline_hash(page: str, tag: str) -> str:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
    if match is None:
        raise RuntimeError(f"phone.html has no inline <{tag}>")
    digest = hashlib.sha256(match.group(1).encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
