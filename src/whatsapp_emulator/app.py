"""The ASGI application: Meta's Graph routes, the control API and the phone page."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from whatsapp_emulator import phone
from whatsapp_emulator.config import EmulatorConfig
from whatsapp_emulator.control import ControlApi
from whatsapp_emulator.emulator import Emulator
from whatsapp_emulator.graph_api import GraphApi


def create_app(config: EmulatorConfig) -> Starlette:
    """Build the emulator for one business phone number.

    The webhook worker runs inside the app's lifespan, so a server (or a test) must run the
    lifespan for webhooks to go out. ``app.state.emulator`` gives tests the emulator itself.
    """
    emulator = Emulator(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await emulator.start()
        try:
            yield
        finally:
            await emulator.stop()

    # The control routes come first: "/_emulator/x/messages" would also fit the Graph route.
    routes = [
        *ControlApi(emulator).routes(),
        *phone.routes(),
        *GraphApi(emulator).routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = emulator
    return app
