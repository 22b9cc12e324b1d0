"""The huey consumer inside the web process, for the single-machine installation."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.utils.module_loading import autodiscover_modules
from huey.consumer import Consumer
from huey.contrib.djhuey import HUEY


class EmbeddedConsumer(Consumer):
    """Runs beside the web server in one process. The web server owns the process's signals
    (Ctrl-C, SIGTERM) and stops this consumer when it exits."""

    def _set_signal_handlers(self) -> None:
        pass


def start() -> EmbeddedConsumer:
    # As huey's run_huey does for `stadtbote worker`: every app's tasks are registered, the
    # periodic ones too (the sweep that releases stale claims and due posts), before the
    # consumer starts, not only those some request happened to import.
    autodiscover_modules("tasks")
    options = cast(dict[str, Any], settings.HUEY["consumer"])
    consumer = EmbeddedConsumer(HUEY, periodic=True, **options)
    consumer.start()
    return consumer
