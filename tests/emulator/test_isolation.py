"""The emulator stands in for Meta, so it must not depend on the app it serves."""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_the_emulator_loads_neither_django_nor_the_app() -> None:
    # Every module except __main__, which would start the server.
    program = (
        "import importlib, json, pkgutil, sys, whatsapp_emulator\n"
        "for module in pkgutil.walk_packages(whatsapp_emulator.__path__, 'whatsapp_emulator.'):\n"
        "    if module.name != 'whatsapp_emulator.__main__':\n"
        "        importlib.import_module(module.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    # -I keeps the environment (DJANGO_SETTINGS_MODULE, PYTHONPATH, ...) out of the check.
    result = subprocess.run(
        [sys.executable, "-I", "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    loaded = json.loads(result.stdout)
    assert {"whatsapp_emulator.app", "whatsapp_emulator.cli"} <= set(loaded)
    forbidden = [name for name in loaded if name.split(".")[0] in {"django", "stadtbote"}]
    assert forbidden == []
