"""The phone page: one German, self-contained page with safe WhatsApp formatting."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from .support import emulator

pytestmark = pytest.mark.anyio


async def fetch_page(path: str = "/phone") -> tuple[str, str]:
    async with emulator() as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text, response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/", "/phone"])
async def test_it_serves_the_page_in_german(path: str) -> None:
    page, _ = await fetch_page(path)

    assert '<html lang="de">' in page
    assert "Senden" in page
    assert "491701234567" in page


async def test_it_loads_nothing_from_elsewhere() -> None:
    page, policy = await fetch_page()

    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page
    assert "<script src" not in page
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy


async def test_the_policy_allows_exactly_the_inline_script_and_style() -> None:
    page, policy = await fetch_page()

    assert page.count("<script>") == 1
    assert page.count("<style>") == 1
    assert "script-src 'sha256-" in policy
    assert "unsafe-inline" not in policy


async def test_message_text_reaches_the_page_only_through_the_formatter() -> None:
    page, _ = await fetch_page()

    uses = [line.strip() for line in page.splitlines() if "innerHTML" in line]
    assert uses == ["element.innerHTML = formatWhatsApp(text);"]


async def test_form_fields_have_labels() -> None:
    page, _ = await fetch_page()

    for field_id in re.findall(r'<(?:input|textarea)[^>]*\bid="([^"]+)"', page):
        assert f'<label for="{field_id}">' in page


async def test_the_formatter_escapes_html_and_renders_whatsapp_styles() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    page, _ = await fetch_page()
    script = re.search(r"<script>(.*?)</script>", page, re.DOTALL)
    assert script
    cases = {
        "<img src=x onerror=alert(1)>": "&lt;img src=x onerror=alert(1)&gt;",
        "*fett* und _kursiv_ und ~weg~": (
            "<strong>fett</strong> und <em>kursiv</em> und <s>weg</s>"
        ),
        "```*nicht fett*```": "<code>*nicht fett*</code>",
        "snake_case_name bleibt": "snake_case_name bleibt",
        "*<b>*": "<strong>&lt;b&gt;</strong>",
        "\"Zitat\" & 'so'": "&quot;Zitat&quot; &amp; &#39;so&#39;",
        "2 * 3 * 4": "2 * 3 * 4",
    }
    program = (
        script.group(1)
        + "\nprocess.stdout.write(JSON.stringify("
        + json.dumps(list(cases))
        + ".map(formatWhatsApp)));"
    )

    result = subprocess.run(
        [node, "-e", program], capture_output=True, text=True, timeout=30, check=True
    )

    assert dict(zip(cases, json.loads(result.stdout), strict=True)) == cases


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: str, second: str) -> float:
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# (text or control colour, background, minimum): 4.5 for text, 3 for borders and focus rings.
COLOUR_PAIRS = [
    ("--ink", "#ffffff", 4.5),
    ("--ink", "--mine", 4.5),
    ("--ink", "--chat", 4.5),
    ("--muted", "#ffffff", 4.5),
    ("--muted", "--mine", 4.5),
    ("--muted", "--chat", 4.5),
    ("--muted", "--page", 4.5),
    ("--accent", "#ffffff", 4.5),
    ("#ffffff", "--accent", 4.5),
    ("--accent", "--accent-soft", 4.5),
    ("--read", "--chat", 4.5),
    ("--problem", "#ffffff", 4.5),
    ("--border", "#ffffff", 3.0),
    ("--focus", "#ffffff", 3.0),
    ("--focus", "--chat", 3.0),
]


async def test_text_and_controls_have_enough_contrast() -> None:
    page, _ = await fetch_page()
    root = re.search(r":root \{(.*?)\}", page, re.DOTALL)
    assert root
    colours = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6});", root.group(1)))

    for foreground, background, minimum in COLOUR_PAIRS:
        ratio = _contrast(colours.get(foreground, foreground), colours.get(background, background))
        assert ratio >= minimum, f"{foreground} on {background}: {ratio:.2f} < {minimum}"


async def test_the_browser_icon_request_gets_an_empty_answer() -> None:
    async with emulator() as client:
        response = await client.get("/favicon.ico")

    assert response.status_code == 204
