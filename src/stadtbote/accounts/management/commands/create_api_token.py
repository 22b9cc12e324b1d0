from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from stadtbote.accounts.tokens import create_token


class Command(BaseCommand):
    help = "Create a REST API token for a staff user and print it (it is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--read-only", action="store_true", help="a token that may only read (GET)"
        )

    def handle(self, *args: Any, username: str, read_only: bool, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user named {username!r}.") from None
        self.stdout.write(create_token(user, read_only=read_only))
