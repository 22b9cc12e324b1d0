"""German dates as German offices write them: "02.12.2026, 14:05" and "2. Dezember 2026, 14:05".
Everything not set here (numbers: "1.234,56") comes from Django's own German formats."""

DATETIME_FORMAT = "j. F Y, H:i"
SHORT_DATETIME_FORMAT = "d.m.Y, H:i"
