"""The price table an administrator keeps in the newsroom: Meta's rate per delivered template
message, by recipient country and category. Estimates and the budget read it (costs.py)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from stadtbote.accounts import audit
from stadtbote.broadcasts.models import Price


class PriceError(ValueError):
    pass


@transaction.atomic
def change_amounts(by: AbstractBaseUser, amounts: dict[int, Decimal]) -> int:
    """New amounts for existing rows (by id); records each change with old and new amount.
    Returns how many changed."""
    changed = 0
    for price in Price.objects.select_for_update().filter(pk__in=amounts):
        new = amounts[price.pk]
        if new == price.amount:
            continue
        old, price.amount = price.amount, new
        price.full_clean()
        price.save(update_fields=["amount"])
        audit.record(by, "settings.price_changed", price, amount=[str(old), str(new)])
        changed += 1
    return changed


@transaction.atomic
def add_country(by: AbstractBaseUser, country: str, amounts: dict[str, Decimal]) -> list[Price]:
    """A country's rates, one per category given."""
    country = country.upper()
    if Price.objects.filter(country=country).exists():
        raise PriceError(_("%(country)s is in the table already.") % {"country": country})
    currency = Price.objects.values_list("currency", flat=True).first() or "EUR"
    added = []
    for category, amount in amounts.items():
        price = Price(country=country, category=category, amount=amount, currency=currency)
        price.full_clean()
        price.save()
        added.append(price)
    audit.record(
        by,
        "settings.price_country_added",
        label=country,
        amounts={c: str(a) for c, a in amounts.items()},
    )
    return added
