# Built concurrently (see docs/deploy.md, "Upgrading"): events are booked while it builds.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("services", "0009_event_text_statistics"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(
                condition=models.Q(("audience", "party_members")),
                fields=["starts_at", "id"],
                name="event_members_only_starts_idx",
            ),
        ),
    ]
