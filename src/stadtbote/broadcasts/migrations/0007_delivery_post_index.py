import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Deliveries lose their separate index on the post: two other indexes begin with it."""

    dependencies = [("broadcasts", "0006_engine")]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="post",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="broadcasts.post",
            ),
        ),
    ]
