"""The ASGI application: Meta's Graph routes, the control API and the phone page."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from whatsapp_emulator import phone
from whatsapp_emulator.config import EmulatorConfig
from whatsapp_emulator.control import ControlApi
from whatsapp_emulator.control_admin import ControlAdmin
from whatsapp_emulator.control_templates import TemplateControlApi
from whatsapp_emulator.emulator import Emulator
from whatsapp_emulator.faults import FaultInjectingApp
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
        *ControlAdmin(emulator).routes(),
        *TemplateControlApi(emulator).routes(),
        *ControlApi(emulator).routes(),
        *phone.routes(),
        *GraphApi(emulator).routes(),
    ]
    # Fault injection (faults.py) wraps the app outside Starlette's middleware.
    app = FaultInjectingApp(routes=routes, lifespan=lifespan)
    app.faults = emulator.faults
    app.state.emulator = emulator
    return app
