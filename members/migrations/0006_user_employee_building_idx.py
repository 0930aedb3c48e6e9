# Built concurrently (see docs/deploy.md, "Upgrading"): people sign up while it builds.
# One index per migration, so that a build stopped by lock_timeout is simply run again.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0005_member_org_education_idx"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="user",
            index=models.Index(
                condition=models.Q(("is_staff", False), ("is_superuser", False)),
                fields=["building", "is_active", "date_joined"],
                name="user_employee_building_idx",
            ),
        ),
    ]
