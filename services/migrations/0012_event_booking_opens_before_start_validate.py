# Validates services_event_booking_opens_before_start over the events already there.
#
# An event whose booking was set to open after its start (nothing refused it before) has its
# booking open at the start instead: booking_closes_at stays later than booking_opens_at, as
# services_event_booking_window requires. VALIDATE CONSTRAINT takes a SHARE UPDATE EXCLUSIVE
# lock: events are read and booked while it scans. Neither step has anything to undo.

from django.db import migrations

CONSTRAINT = "services_event_booking_opens_before_start"


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0011_event_booking_opens_before_start"),
    ]

    operations = [
        migrations.RunSQL(
            sql="UPDATE services_event SET booking_opens_at = starts_at WHERE booking_opens_at > starts_at",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            sql=f"ALTER TABLE services_event VALIDATE CONSTRAINT {CONSTRAINT}",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
