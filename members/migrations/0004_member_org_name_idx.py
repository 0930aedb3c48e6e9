# Built concurrently (see docs/deploy.md, "Upgrading").

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0003_api_tokens"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="partymember",
            index=models.Index(
                fields=["organization", "name"], include=["joined_on"], name="member_org_name_idx"
            ),
        ),
    ]
