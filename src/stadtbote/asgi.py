"""The ASGI application: Meta's webhook POSTs take a lean path, everything else is Django.

Django's request machinery (middleware, a thread per synchronous view, a database connection
per request) costs far more than verifying and storing a webhook; under uvicorn it served about
250 requests/s on two cores. `POST /webhooks/whatsapp` is therefore answered by a bare ASGI
app (channels.whatsapp.views.receive_post) that stores through the group commit; the handshake
(GET), other methods and every other path go to Django unchanged.
"""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stadtbote.settings")
django_application = get_asgi_application()

# Imported after Django is set up: the webhook path uses the models.
from stadtbote.channels.whatsapp import views as whatsapp_views  # noqa: E402


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if (
        scope["type"] == "http"
        and scope["method"] == "POST"
        and scope["path"] == whatsapp_views.PATH
    ):
        await whatsapp_views.receive_post(scope, receive, send)
    else:
        await django_application(scope, receive, send)
