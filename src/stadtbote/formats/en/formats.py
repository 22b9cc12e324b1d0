"""English dates with a 24-hour clock, as the city's times are Europe/Berlin times:
"2 December 2026, 14:05" and "02/12/2026, 14:05"."""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y, H:i"
