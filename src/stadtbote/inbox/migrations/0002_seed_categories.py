"""The categories, departments and office hours a city starts with (inbox/defaults.py)."""

from django.db import migrations

from stadtbote.inbox import defaults


def seed(apps, schema_editor):
    defaults.seed(*(apps.get_model("inbox", name) for name in defaults.MODELS))


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
