"""The public archive's settings: whether a post's page shows its reaction counts. Off until
an administrator turns it on in the newsroom; every change is in the audit log.

Read once per archive request (a primary-key lookup in a one-row table), not cached in the
process: a change must reach the archive's ETag at once, or proxies would keep the old page."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from stadtbote.accounts import audit
from stadtbote.public.models import ArchiveSettings


def current() -> ArchiveSettings:
    """The stored settings, or the defaults (not saved) when none were stored yet."""
    return ArchiveSettings.objects.filter(pk=1).first() or ArchiveSettings(pk=1)


def shows_reactions() -> bool:
    return current().show_reactions


@transaction.atomic
def change(by: AbstractBaseUser, *, show_reactions: bool) -> ArchiveSettings:
    """Stores the setting and records old and new value. Saving what is in force already
    changes and records nothing."""
    row = ArchiveSettings.objects.select_for_update().filter(pk=1).first() or ArchiveSettings(pk=1)
    old = row.show_reactions
    if old == show_reactions:
        return row
    row.show_reactions = show_reactions
    row.save()
    audit.record(
        by, "settings.archive_changed", row, changed={"show_reactions": [old, show_reactions]}
    )
    return row
