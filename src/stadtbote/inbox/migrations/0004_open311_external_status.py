from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inbox", "0003_chat_report_first_message")]

    operations = [
        migrations.AddField(
            model_name="concern",
            name="external_status",
            field=models.CharField(blank=True, editable=False, max_length=10),
        ),
    ]
