# Built concurrently (see docs/deploy.md, "Upgrading"): people sign up while it builds.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0007_user_staff_or_inactive_idx"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="user",
            index=models.Index(fields=["date_joined"], name="user_date_joined_idx"),
        ),
    ]
