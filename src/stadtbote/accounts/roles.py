"""Staff roles and what each may do: the permission matrix, in one place.

A role is a Django group of the same name whose permissions are exactly the ones listed here.
`sync_roles` runs after every `migrate`, so a change to this matrix reaches every installation
with its next update, and a permission added to a group by hand is taken away again: the
matrix in the code is what the data protection officer reviews, and it must be the truth.

A user may have several roles; their permissions add up. Superusers exist for the first
setup only (`createsuperuser`): they bypass every check, so day-to-day accounts get roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from django.apps import apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import (
    AbstractBaseUser,
    AbstractUser,
    AnonymousUser,
    Group,
    Permission,
)
from django.db import transaction


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    EDITOR = "editor"
    APPROVER = "approver"
    AGENT = "agent"
    DATA_PROTECTION_OFFICER = "data protection officer"
    VIEWER = "viewer"


# Reading what was sent and how it landed: every role may.
_READ_POSTS = {
    "broadcasts.view_post",
    "broadcasts.view_template",
    "broadcasts.view_channelposting",
    "subscribers.view_topic",
    "subscribers.view_district",
}
_WRITE_POSTS = {
    "broadcasts.add_post",
    "broadcasts.change_post",
    "broadcasts.add_channelposting",
    "broadcasts.change_channelposting",
}
# The installation's settings: what topics and districts exist, prices, templates, page texts,
# the sending rules (quiet hours, daily cap, budget), what the public archive shows and the
# privacy notice's history.
_SETTINGS = {
    f"{app}.{verb}_{model}"
    for app, model in [
        ("subscribers", "topic"),
        ("subscribers", "district"),
        ("broadcasts", "price"),
        ("broadcasts", "template"),
        ("broadcasts", "sendingrules"),
        ("public", "pagetext"),
        ("public", "archivesettings"),
        ("inbox", "department"),
        ("inbox", "category"),
        ("inbox", "cannedreply"),
        ("inbox", "officehours"),
        ("inbox", "closedday"),
    ]
    for verb in ("add", "change", "delete", "view")
} | {"public.view_noticeversion"}
_STAFF = {f"auth.{verb}_user" for verb in ("add", "change", "view")} | {
    "auth.view_group",
    "accounts.view_apitoken",
    "accounts.delete_apitoken",
}

# Reading and answering what citizens write, and working on their concerns.
_INBOX = {
    "dialogue.view_receivedmessage",
    "dialogue.view_reply",
    "dialogue.add_reply",
    "inbox.view_conversation",
    "inbox.change_conversation",
    "inbox.view_message",
    "inbox.add_message",
    "inbox.view_concern",
    "inbox.add_concern",
    "inbox.change_concern",
    "inbox.view_statistics",
    "inbox.view_cannedreply",
    "inbox.view_category",
    "inbox.view_department",
}

MATRIX: dict[Role, frozenset[str]] = {
    # City IT: runs the installation and manages staff; writes and approves nothing, and sees
    # no subscriber's number.
    Role.ADMINISTRATOR: frozenset(_READ_POSTS | _SETTINGS | _STAFF),
    # Press office: writes posts and the Channel copy; cannot release them.
    Role.EDITOR: frozenset(_READ_POSTS | _WRITE_POSTS | {"broadcasts.view_price"}),
    # Releases others' posts (four eyes) and may send an urgent warning alone.
    Role.APPROVER: frozenset(
        _READ_POSTS
        | _WRITE_POSTS
        | {"broadcasts.approve_post", "broadcasts.send_urgent_alone", "broadcasts.view_price"}
    ),
    # Citizen service: reads and answers what citizens write; sends no posts.
    Role.AGENT: frozenset(_READ_POSTS | _INBOX),
    # The only role that sees phone numbers, consent records and the audit log, and erases.
    Role.DATA_PROTECTION_OFFICER: frozenset(
        _READ_POSTS
        | {
            "subscribers.view_subscriber",
            "subscribers.view_phone_number",
            "subscribers.delete_subscriber",
            "subscribers.view_consentevent",
            "accounts.view_auditentry",
            # What each privacy-notice version said, to prove what a citizen was shown.
            "public.view_noticeversion",
        }
    ),
    # Reads; changes nothing.
    Role.VIEWER: frozenset(_READ_POSTS | {"inbox.view_statistics"}),
}

# Roles whose accounts must have a second factor before they can do anything.
SECOND_FACTOR_REQUIRED = frozenset({Role.ADMINISTRATOR, Role.APPROVER})


def _permissions(names: Iterable[str]) -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in names}
    found = [
        p
        for p in Permission.objects.select_related("content_type")
        if (p.content_type.app_label, p.codename) in wanted
    ]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:  # a typo in the matrix must not silently grant less than it says
        raise LookupError(f"unknown permissions in the role matrix: {sorted(missing)}")
    return found


@transaction.atomic
def sync_roles(using: str = "default", **_: object) -> None:
    """Makes every role's group hold exactly its permissions (post_migrate handler). Creates
    the permissions of every app first: the handler runs with this app's post_migrate, which
    may come before that of the apps whose permissions it grants."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    for role, names in MATRIX.items():
        group = Group.objects.get_or_create(name=role.value)[0]
        group.permissions.set(_permissions(names))


def roles_of(user: AbstractBaseUser | AnonymousUser) -> set[Role]:
    if not user.is_authenticated:
        return set()
    names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
    return {role for role in Role if role.value in names}


def assign(user: AbstractUser, *roles: Role) -> None:
    """Gives `user` exactly these roles; staff with a role may use the staff web app."""
    user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
    user.is_staff = bool(roles)
    user.save(update_fields=["is_staff"])


def needs_second_factor(user: AbstractBaseUser) -> bool:
    """Whether this account may not work without a second factor: its roles need one, or it
    is a superuser (who may do everything)."""
    if not settings.REQUIRE_SECOND_FACTOR:
        return False
    return bool(roles_of(user) & SECOND_FACTOR_REQUIRED) or bool(
        getattr(user, "is_superuser", False)
    )
