# Booking may not open after the event has started. Added NOT VALID (see docs/deploy.md,
# "Upgrading"): checked for every write from now on without a scan of the events under an
# exclusive lock; the rows already there are repaired and validated in the next migration.

from django.db import migrations, models

CONSTRAINT = "services_event_booking_opens_before_start"


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0010_event_members_only_starts_idx"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(
                    model_name="event",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("booking_opens_at__lte", models.F("starts_at"))),
                        name=CONSTRAINT,
                        violation_error_message="开始报名时间不能晚于活动开始。",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f"ALTER TABLE services_event ADD CONSTRAINT {CONSTRAINT} "
                    "CHECK (booking_opens_at <= starts_at) NOT VALID",
                    reverse_sql=f"ALTER TABLE services_event DROP CONSTRAINT {CONSTRAINT}",
                ),
            ],
        ),
    ]
