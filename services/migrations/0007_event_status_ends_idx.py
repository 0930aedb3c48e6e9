# Built concurrently (see docs/deploy.md, "Upgrading"): events are booked while it builds.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("services", "0006_booking_tally"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(
                fields=["status", "ends_at"], include=["starts_at"], name="event_status_ends_idx"
            ),
        ),
    ]
