"""The `stadtbote` command: Django's management commands, plus `run`, `worker`, `emulator`.

`run`, `worker` and `demo` are management commands too (stadtbote/worker/management); this
entry point only sets the settings module and hands over, so `stadtbote migrate` and friends
work exactly as with manage.py. `emulator` does not need Django at all.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["emulator"]:
        import stadtbote.config  # noqa: F401 -- reads .env, so both sides share one environment
        from whatsapp_emulator.cli import main as emulator_main

        return emulator_main(args[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stadtbote.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["stadtbote", *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
