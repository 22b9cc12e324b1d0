"""Trigram indexes for the inbox's search, on PostgreSQL only.

The search (inbox/queries.py) looks for a word anywhere in messages, descriptions and
reference numbers with `icontains`, which PostgreSQL runs as `UPPER(col) LIKE UPPER('%word%')`:
without an index that reads every message (docs/benchmarks.md, "The inbox"). A GIN index with
pg_trgm's operator class over exactly that expression answers it from the index. pg_trgm is a
trusted extension (PostgreSQL 13+): the database's owner may create it.

Not in the models' Meta: SQLite has no such index, and SQLite rebuilds a table with the
indexes its model declares. SQLite is left as it is.
"""

from django.db import migrations

INDEXES = {
    "message_text_trgm": ("inbox_message", "text"),
    "concern_description_trgm": ("inbox_concern", "description"),
    "concern_reference_trgm": ("inbox_concern", "reference"),
}


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    # The extension stays: something else may use it, and it costs nothing unused.


class Migration(migrations.Migration):
    dependencies = [("inbox", "0002_seed_categories")]

    operations = [migrations.RunPython(forwards, backwards)]
