"""The audit log, append-only in the database too: an UPDATE or DELETE fails, whoever tries."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "accounts_auditentry"
STATEMENTS = {
    "sqlite": (
        [
            f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON {TABLE}
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
            f"""CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON {TABLE}
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        ],
        [
            "DROP TRIGGER IF EXISTS audit_log_no_update",
            "DROP TRIGGER IF EXISTS audit_log_no_delete",
        ],
    ),
    "postgresql": (
        [
            """CREATE OR REPLACE FUNCTION audit_log_refuse() RETURNS trigger AS $$
               BEGIN RAISE EXCEPTION 'the audit log is append-only'; END;
               $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER audit_log_append_only
                BEFORE UPDATE OR DELETE ON {TABLE}
                FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse()""",
        ],
        [
            f"DROP TRIGGER IF EXISTS audit_log_append_only ON {TABLE}",
            "DROP FUNCTION IF EXISTS audit_log_refuse()",
        ],
    ),
}


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    for sql in STATEMENTS.get(schema_editor.connection.vendor, ([], []))[0]:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    for sql in STATEMENTS.get(schema_editor.connection.vendor, ([], []))[1]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("actor_name", models.CharField(blank=True, max_length=150)),
                ("action", models.CharField(db_index=True, max_length=60)),
                ("target_type", models.CharField(blank=True, max_length=40)),
                ("target_id", models.CharField(blank=True, max_length=40)),
                ("target_label", models.CharField(blank=True, max_length=200)),
                ("details", models.JSONField(blank=True, default=dict)),
                ("ip", models.GenericIPAddressField(blank=True, null=True)),
                ("via", models.CharField(blank=True, max_length=10)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "audit entry",
                "verbose_name_plural": "audit log",
                "ordering": ["-at", "-id"],
                "indexes": [
                    models.Index(fields=["target_type", "target_id"], name="audit_target_idx")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
