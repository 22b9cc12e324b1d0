from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # The emulator is built on asyncio (uvicorn, httpx, aiohttp); trio is not a target.
    return "asyncio"
