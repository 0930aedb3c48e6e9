# Built concurrently (see docs/deploy.md, "Upgrading"): members are edited while it builds.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0004_member_org_name_idx"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="partymember",
            index=models.Index(fields=["organization", "education", "gender"], name="member_org_education_idx"),
        ),
    ]
