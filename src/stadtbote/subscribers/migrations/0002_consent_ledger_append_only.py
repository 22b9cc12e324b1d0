"""The database itself refuses to change or delete consent-ledger rows, whoever asks.

TRUNCATE is left out on purpose: it needs the table owner's rights (an operator who could drop
the table anyway), and test databases are emptied with it between tests."""

from django.db import migrations

TABLE = "subscribers_consentevent"

SQLITE = [
    f"""CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END""",
    f"""CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS consent_ledger_no_update",
    "DROP TRIGGER IF EXISTS consent_ledger_no_delete",
]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION consent_ledger_refuse() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the consent ledger is append-only'; END;
       $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER consent_ledger_append_only
        BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION consent_ledger_refuse()""",
]
POSTGRES_REVERSE = [
    f"DROP TRIGGER IF EXISTS consent_ledger_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS consent_ledger_refuse()",
]


STATEMENTS = {
    "sqlite": (SQLITE, SQLITE_REVERSE),
    "postgresql": (POSTGRES, POSTGRES_REVERSE),
}


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    for sql in STATEMENTS.get(schema_editor.connection.vendor, ([], []))[0]:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    for sql in STATEMENTS.get(schema_editor.connection.vendor, ([], []))[1]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
