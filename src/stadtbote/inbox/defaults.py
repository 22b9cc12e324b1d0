"""The categories a city starts with (the ones its defect reporter usually has), their
departments, and office hours Monday to Friday; all changeable in the settings. Written by
the migration `0002_seed_categories` with its historical models."""

from __future__ import annotations

from datetime import time
from typing import Any

DEPARTMENTS = ["Bürgerservice", "Tiefbauamt", "Grünflächenamt", "Ordnungsamt"]
CATEGORIES = [
    ("Straße/Gehweg", "strasse-gehweg", "Schlaglöcher, Schäden, Stolperfallen", "Tiefbauamt"),
    ("Beleuchtung", "beleuchtung", "Straßenlaterne defekt", "Tiefbauamt"),
    ("Müll", "muell", "Wilder Müll, volle Papierkörbe", "Ordnungsamt"),
    ("Grünflächen", "gruenflaechen", "Bäume, Parks, Spielplätze", "Grünflächenamt"),
    ("Verkehrszeichen", "verkehrszeichen", "Schilder, Ampeln, Markierungen", "Tiefbauamt"),
    ("Sonstiges", "sonstiges", "Alles andere", "Bürgerservice"),
]
MODELS = ("Department", "Category", "OfficeHours")  # seed()'s arguments, in order
HOURS = [(day, time(8), time(16)) for day in range(4)] + [(4, time(8), time(12))]


def seed(Department: Any, Category: Any, OfficeHours: Any) -> None:
    """Adds what is missing; changes nothing that exists."""
    departments = {}
    for position, name in enumerate(DEPARTMENTS):
        departments[name], _ = Department.objects.get_or_create(
            name=name, defaults={"position": position}
        )
    for position, (name, code, description, department) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            service_code=code,
            defaults={
                "name": name,
                "description": description,
                "department": departments[department],
                "position": position,
            },
        )
    if not OfficeHours.objects.exists():
        for weekday, opens, closes in HOURS:
            OfficeHours.objects.create(weekday=weekday, opens=opens, closes=closes)
