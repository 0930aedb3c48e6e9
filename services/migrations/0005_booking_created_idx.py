# Built concurrently: the bookings table is the largest, and a plain CREATE INDEX
# would block booking while it runs (see docs/deploy.md, "Upgrading").

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("services", "0004_outbox_fewer_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="booking",
            index=models.Index(fields=["created_at", "id"], name="booking_created_idx"),
        ),
    ]
