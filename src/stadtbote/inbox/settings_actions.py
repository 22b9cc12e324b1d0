"""The inbox's lists as administrators keep them: departments, categories and canned replies.
Every change is written to the audit log (its details: names and codes, never a reply's text).

- A department may be deleted although concerns, conversations or categories name it: they
  become unassigned (the models' SET_NULL), and its canned replies are offered to every
  department instead of vanishing with it. The page says all of this before.
- A category is never deleted once a concern has it (the concern would lose what it is
  about); it is taken out of the chat instead (`active`). At most MAX_ACTIVE are offered,
  because the chat offers them as one WhatsApp list, which has at most ten rows.
- A category's service code is Open311's service_code: clients and the city's own system
  know concerns by it, so it is fixed once a concern has it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils.translation import gettext as _

from stadtbote.accounts import audit
from stadtbote.inbox.models import CannedReply, Category, Department
from stadtbote.subscribers import catalog

MAX_ACTIVE = 10  # rows of one WhatsApp list message


class SettingsError(ValueError):
    pass


Ordered = Department | Category


def _name(model: type[models.Model]) -> str:
    return model._meta.model_name or ""


@transaction.atomic
def add(by: AbstractBaseUser, model: type[Ordered], **values: Any) -> Ordered:
    """Adds a department or category at the end of the list; the model checks names and
    codes (unique, lengths)."""
    if model is Category and values.get("active", True):
        _room_for_one_more()
    last = model.objects.order_by("-position").values_list("position", flat=True).first()
    item = model(position=(last or 0) + 1, **values)
    item.full_clean()
    item.save()
    audit.record(by, f"settings.{_name(model)}_added", item, values=_plain(values))
    return item


@transaction.atomic
def change(by: AbstractBaseUser, item: Ordered, **values: Any) -> Ordered:
    if isinstance(item, Category):
        if values.get("active") and not item.active:
            _room_for_one_more()
        code = values.get("service_code", item.service_code)
        if code != item.service_code and code_is_fixed(item):
            raise SettingsError(
                _("The service code is fixed: concerns of this category already use it.")
            )
    before = {name: getattr(item, name) for name in values}
    for name, value in values.items():
        setattr(item, name, value)
    item.full_clean()
    item.save()
    changed = {k: _plain([before[k], v]) for k, v in values.items() if before[k] != v}
    if changed:
        audit.record(by, f"settings.{_name(type(item))}_changed", item, changed=changed)
    return item


def _room_for_one_more() -> None:
    # The rows locked first (PostgreSQL): two administrators activating a category each at
    # the same moment are served one after the other, and the second counts the first's.
    list(Category.objects.select_for_update().filter(active=True).values_list("pk"))
    if Category.objects.filter(active=True).count() >= MAX_ACTIVE:
        raise SettingsError(
            _(
                "At most %(n)d categories can be offered: the chat shows them as one WhatsApp "
                "list, which has at most %(n)d rows. Take another one out of the chat first."
            )
            % {"n": MAX_ACTIVE}
        )


def code_is_fixed(category: Category) -> bool:
    return category.pk is not None and category.concerns.exists()


def _plain(value: Any) -> Any:
    """Values as the audit log's JSON keeps them: a department by its name."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, models.Model):
        return str(value)
    return value


@transaction.atomic
def move(by: AbstractBaseUser, item: Ordered, step: int) -> None:
    """One place up (-1) or down (+1): the order of the chat's list and of the pages."""
    moved = catalog.swap_places(item, step)
    if moved is not None:
        audit.record(by, f"settings.{_name(type(item))}_moved", item, position=list(moved))


def department_ties(department: Department) -> dict[str, int]:
    """What names this department: what deleting it leaves without one."""
    return {
        "concerns": department.concerns.count(),
        "conversations": department.conversations.count(),
        "categories": department.categories.count(),
        "canned_replies": department.canned_replies.count(),
    }


@transaction.atomic
def delete_department(by: AbstractBaseUser, department: Department) -> dict[str, int]:
    ties = department_ties(department)
    # Kept for everyone rather than deleted with it (the model would cascade).
    department.canned_replies.update(department=None)
    audit.record(by, "settings.department_deleted", department, unassigned=ties)
    department.delete()
    return ties


def why_category_stays(category: Category) -> str | None:
    n = category.concerns.count()
    if n:
        return _(
            "%(n)d concerns have this category, so it stays; take it out of the chat instead."
        ) % {"n": n}
    return None


@transaction.atomic
def delete_category(by: AbstractBaseUser, category: Category) -> None:
    reason = why_category_stays(category)
    if reason is not None:
        raise SettingsError(reason)
    audit.record(by, "settings.category_deleted", category, service_code=category.service_code)
    category.delete()


@transaction.atomic
def save_reply(
    by: AbstractBaseUser,
    reply: CannedReply | None,
    *,
    title: str,
    text: str,
    department: Department | None,
) -> CannedReply:
    """Adds (reply None) or changes a canned reply. The audit log keeps its title and
    department, and only whether the text changed."""
    adding = reply is None
    reply = reply or CannedReply()
    before = (reply.title, reply.text, reply.department_id)
    reply.title, reply.text, reply.department = title, text, department
    reply.full_clean()
    reply.save()
    if adding:
        audit.record(by, "settings.cannedreply_added", reply, department=_plain(department) or "")
    elif before != (title, text, reply.department_id):
        audit.record(
            by,
            "settings.cannedreply_changed",
            reply,
            title=[before[0], title] if before[0] != title else None,
            text_changed=before[1] != text,
            department=_plain(department) or "",
        )
    return reply


@transaction.atomic
def delete_reply(by: AbstractBaseUser, reply: CannedReply) -> None:
    audit.record(by, "settings.cannedreply_deleted", reply)
    reply.delete()
