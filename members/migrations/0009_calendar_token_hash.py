"""The calendar feed's key is kept as its SHA-256 digest only.

The keys already given out keep working: each is replaced by its digest, which is what
the feed now looks up (members/selectors.py, user_for_calendar_token).
"""

import hashlib

from django.db import migrations, models


def hash_existing_keys(apps, schema_editor):
    User = apps.get_model("members", "User")
    for pk, token in User.objects.filter(calendar_token__isnull=False).values_list("pk", "calendar_token"):
        digest = hashlib.sha256(token.encode()).hexdigest()
        User.objects.filter(pk=pk).update(calendar_token_hash=digest)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0008_user_date_joined_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="calendar_token_hash",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="私人日历订阅地址密钥的摘要；重置后旧地址立即失效。",
                max_length=64,
                null=True,
                unique=True,
                verbose_name="日历订阅密钥摘要",
            ),
        ),
        # A key cannot be recovered from its digest: there is nothing to undo into.
        migrations.RunPython(hash_existing_keys, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(
            model_name="user",
            name="calendar_token",
        ),
    ]
