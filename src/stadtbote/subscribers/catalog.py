"""What citizens can choose from: topics and districts, as an administrator keeps them in the
newsroom. A topic or district that a post or a subscriber uses is not deleted: the post's
audience and the citizen's choice would silently change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from stadtbote.accounts import audit
from stadtbote.subscribers.models import District, Topic

Choice = Topic | District


class CatalogError(ValueError):
    pass


def _kind(model: type[Choice]) -> str:
    return "topic" if model is Topic else "district"


@transaction.atomic
def add(by: AbstractBaseUser, model: type[Choice], **values: Any) -> Choice:
    """Adds at the end of the list; the model validates names and slugs (unique)."""
    last = model.objects.order_by("-position").values_list("position", flat=True).first()
    item = model(position=(last or 0) + 1, **values)
    item.full_clean()
    item.save()
    audit.record(by, f"settings.{_kind(model)}_added", item, values=values)
    return item


@transaction.atomic
def change(by: AbstractBaseUser, item: Choice, **values: Any) -> Choice:
    before = {name: getattr(item, name) for name in values}
    for name, value in values.items():
        setattr(item, name, value)
    item.full_clean()
    item.save()
    changed = {k: [before[k], v] for k, v in values.items() if before[k] != v}
    if changed:
        audit.record(by, f"settings.{_kind(type(item))}_changed", item, changed=changed)
    return item


def why_not_deleted(item: Choice) -> str | None:
    # Reverse relations, declared on Post and Subscriber.
    posts = getattr(item, "posts").count()  # noqa: B009
    subscribers = getattr(item, "subscribers").count()  # noqa: B009
    if posts or subscribers:
        return _(
            "“%(name)s” is still used by %(posts)d posts and %(subscribers)d subscribers; "
            "rename it instead."
        ) % {"name": item.name, "posts": posts, "subscribers": subscribers}
    return None


@transaction.atomic
def delete(by: AbstractBaseUser, item: Choice) -> None:
    reason = why_not_deleted(item)
    if reason is not None:
        raise CatalogError(reason)
    audit.record(by, f"settings.{_kind(type(item))}_deleted", item, slug=item.slug)
    item.delete()


@transaction.atomic
def move(by: AbstractBaseUser, item: Choice, step: int) -> None:
    """Moves one place up (-1) or down (+1) in the order citizens see in the chat."""
    moved = swap_places(item, step)
    if moved is not None:
        audit.record(by, f"settings.{_kind(type(item))}_moved", item, position=list(moved))


def swap_places(item: Any, step: int) -> tuple[int, int] | None:
    """Swaps `item` with its neighbour one place up (-1) or down (+1) in its model's order
    (`position`, then `name`), numbering them 1, 2, 3 … anew; the old and new places, or None
    at either end. Call inside a transaction: the rows are locked."""
    model = type(item)
    items = list(model.objects.select_for_update().order_by("position", "name"))
    index = next(i for i, other in enumerate(items) if other.pk == item.pk)
    target = index + step
    if not 0 <= target < len(items):
        return None
    items[index], items[target] = items[target], items[index]
    for position, other in enumerate(items, start=1):
        if other.position != position:
            model.objects.filter(pk=other.pk).update(position=position)
    return index + 1, target + 1
