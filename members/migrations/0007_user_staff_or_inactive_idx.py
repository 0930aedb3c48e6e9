# Built concurrently (see docs/deploy.md, "Upgrading"): people sign up while it builds.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0006_user_employee_building_idx"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="user",
            index=models.Index(
                condition=models.Q(("is_staff", True), ("is_superuser", True), ("is_active", False), _connector="OR"),
                fields=["username"],
                name="user_staff_or_inactive_idx",
            ),
        ),
    ]
