# Built concurrently (see docs/deploy.md, "Upgrading").

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("services", "0007_event_status_ends_idx"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(fields=["starts_at", "id"], name="event_starts_idx"),
        ),
    ]
