# BookingTally: bookings per event and status, kept by triggers on services_booking.
#
# One transaction: the bookings table is locked against writes (SHARE) before the
# backfill, so no booking slips in between the backfill and the triggers; reads go on.

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('services', '0005_booking_created_idx'),
    ]

    operations = [
        migrations.CreateModel(
            name='BookingTally',
            fields=[
                ('event', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='tally', serialize=False, to='services.event', verbose_name='活动')),
                ('confirmed', models.IntegerField(default=0, verbose_name='已确认')),
                ('waitlisted', models.IntegerField(default=0, verbose_name='候补中')),
                ('cancelled', models.IntegerField(default=0, verbose_name='已取消')),
                ('attended', models.IntegerField(default=0, verbose_name='已签到')),
                ('no_show', models.IntegerField(default=0, verbose_name='未到场')),
            ],
            options={
                'verbose_name': '活动预约计数',
                'verbose_name_plural': '活动预约计数',
            },
        ),
        migrations.RunSQL(
            sql="""
                LOCK TABLE services_booking IN SHARE MODE;
                INSERT INTO services_bookingtally (event_id, confirmed, waitlisted, cancelled, attended, no_show)
                SELECT event_id,
                       count(*) FILTER (WHERE status = 'confirmed'),
                       count(*) FILTER (WHERE status = 'waitlisted'),
                       count(*) FILTER (WHERE status = 'cancelled'),
                       count(*) FILTER (WHERE status = 'attended'),
                       count(*) FILTER (WHERE status = 'no_show')
                FROM services_booking
                GROUP BY event_id;
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='booking',
            trigger=pgtrigger.compiler.Trigger(name='tally_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func="\n            INSERT INTO services_bookingtally (event_id, confirmed, waitlisted, cancelled, attended, no_show)\n            SELECT change.event_id, coalesce(sum(change.d) FILTER (WHERE change.status = 'confirmed'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'waitlisted'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'cancelled'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'attended'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'no_show'), 0)\n            FROM (SELECT event_id, status, 1 AS d FROM new_rows) AS change\n            GROUP BY change.event_id\n            HAVING coalesce(sum(change.d) FILTER (WHERE change.status = 'confirmed'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'waitlisted'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'cancelled'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'attended'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'no_show'), 0) <> 0\n            ORDER BY change.event_id\n            ON CONFLICT (event_id) DO UPDATE SET confirmed = services_bookingtally.confirmed + EXCLUDED.confirmed, waitlisted = services_bookingtally.waitlisted + EXCLUDED.waitlisted, cancelled = services_bookingtally.cancelled + EXCLUDED.cancelled, attended = services_bookingtally.attended + EXCLUDED.attended, no_show = services_bookingtally.no_show + EXCLUDED.no_show;\n            RETURN NULL;\n        ", hash='26494c59740515bf6acbdae9e52f710f6b266d58', level='STATEMENT', operation='INSERT', pgid='pgtrigger_tally_insert_b40c6', referencing='REFERENCING NEW TABLE AS new_rows ', table='services_booking', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='booking',
            trigger=pgtrigger.compiler.Trigger(name='tally_update', sql=pgtrigger.compiler.UpsertTriggerSql(func="\n            INSERT INTO services_bookingtally (event_id, confirmed, waitlisted, cancelled, attended, no_show)\n            SELECT change.event_id, coalesce(sum(change.d) FILTER (WHERE change.status = 'confirmed'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'waitlisted'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'cancelled'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'attended'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'no_show'), 0)\n            FROM (SELECT event_id, status, 1 AS d FROM new_rows UNION ALL SELECT event_id, status, -1 AS d FROM old_rows) AS change\n            GROUP BY change.event_id\n            HAVING coalesce(sum(change.d) FILTER (WHERE change.status = 'confirmed'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'waitlisted'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'cancelled'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'attended'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'no_show'), 0) <> 0\n            ORDER BY change.event_id\n            ON CONFLICT (event_id) DO UPDATE SET confirmed = services_bookingtally.confirmed + EXCLUDED.confirmed, waitlisted = services_bookingtally.waitlisted + EXCLUDED.waitlisted, cancelled = services_bookingtally.cancelled + EXCLUDED.cancelled, attended = services_bookingtally.attended + EXCLUDED.attended, no_show = services_bookingtally.no_show + EXCLUDED.no_show;\n            RETURN NULL;\n        ", hash='4b43301aad7d60aff2915ad3c92be678358a8154', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_tally_update_cfd64', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='services_booking', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='booking',
            trigger=pgtrigger.compiler.Trigger(name='tally_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="\n            INSERT INTO services_bookingtally (event_id, confirmed, waitlisted, cancelled, attended, no_show)\n            SELECT change.event_id, coalesce(sum(change.d) FILTER (WHERE change.status = 'confirmed'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'waitlisted'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'cancelled'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'attended'), 0), coalesce(sum(change.d) FILTER (WHERE change.status = 'no_show'), 0)\n            FROM (SELECT event_id, status, -1 AS d FROM old_rows) AS change\n            GROUP BY change.event_id\n            HAVING coalesce(sum(change.d) FILTER (WHERE change.status = 'confirmed'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'waitlisted'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'cancelled'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'attended'), 0) <> 0 OR coalesce(sum(change.d) FILTER (WHERE change.status = 'no_show'), 0) <> 0\n            ORDER BY change.event_id\n            ON CONFLICT (event_id) DO UPDATE SET confirmed = services_bookingtally.confirmed + EXCLUDED.confirmed, waitlisted = services_bookingtally.waitlisted + EXCLUDED.waitlisted, cancelled = services_bookingtally.cancelled + EXCLUDED.cancelled, attended = services_bookingtally.attended + EXCLUDED.attended, no_show = services_bookingtally.no_show + EXCLUDED.no_show;\n            RETURN NULL;\n        ", hash='dc9009bd14b074ce36510a1e57e4e95e3dd75286', level='STATEMENT', operation='DELETE', pgid='pgtrigger_tally_delete_61a00', referencing='REFERENCING OLD TABLE AS old_rows ', table='services_booking', when='AFTER')),
        ),
    ]
