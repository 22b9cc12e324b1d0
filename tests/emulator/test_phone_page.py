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
            "<strong>fett</strong> und <em>kursiv</em> und <del>weg</del>"
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
