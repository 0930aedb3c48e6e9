"""Event history without the seat counters.

The counters are the booking engine's tally, not an edit: a booking used to write a full
Event snapshot (40 bookings, 40 rows). The counters leave the snapshots, and the rows
already written that changed nothing but them are removed (an update whose fields, the
counters aside, equal the event's previous snapshot).
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


# Every snapshotted field but the counters and pghistory's own columns.
_FIELDS = (
    "title, kind, description, speaker, starts_at, ends_at, capacity, waitlist_limit, audience, "
    "booking_opens_at, booking_closes_at, cancel_deadline, status, created_at, updated_at, "
    "organizer_id, space_id"
)
DELETE_COUNTER_ONLY_ROWS = f"""
DELETE FROM services_eventevent AS e
USING (
    SELECT pgh_id, pgh_label,
           md5(ROW({_FIELDS})::text) = lag(md5(ROW({_FIELDS})::text)) OVER (PARTITION BY pgh_obj_id ORDER BY pgh_id)
           AS unchanged
    FROM services_eventevent
) AS snapshot
WHERE e.pgh_id = snapshot.pgh_id AND snapshot.pgh_label = 'update' AND snapshot.unchanged
"""


class Migration(migrations.Migration):

    dependencies = [
        ('services', '0013_notifications_move_to_core'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='event',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='event',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='event',
            name='delete_delete',
        ),
        migrations.RunSQL(DELETE_COUNTER_ONLY_ROWS, migrations.RunSQL.noop),
        migrations.RemoveField(
            model_name='eventevent',
            name='confirmed_count',
        ),
        migrations.RemoveField(
            model_name='eventevent',
            name='waitlist_count',
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='event',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "services_eventevent" ("audience", "booking_closes_at", "booking_opens_at", "cancel_deadline", "capacity", "created_at", "description", "ends_at", "id", "kind", "organizer_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "space_id", "speaker", "starts_at", "status", "title", "updated_at", "waitlist_limit") VALUES (NEW."audience", NEW."booking_closes_at", NEW."booking_opens_at", NEW."cancel_deadline", NEW."capacity", NEW."created_at", NEW."description", NEW."ends_at", NEW."id", NEW."kind", NEW."organizer_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."space_id", NEW."speaker", NEW."starts_at", NEW."status", NEW."title", NEW."updated_at", NEW."waitlist_limit"); RETURN NULL;', hash='b824685c1cdbade8c052a90aad18eae44d7c1118', operation='INSERT', pgid='pgtrigger_insert_insert_a1438', table='services_event', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='event',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."audience" IS DISTINCT FROM (NEW."audience") OR OLD."booking_closes_at" IS DISTINCT FROM (NEW."booking_closes_at") OR OLD."booking_opens_at" IS DISTINCT FROM (NEW."booking_opens_at") OR OLD."cancel_deadline" IS DISTINCT FROM (NEW."cancel_deadline") OR OLD."capacity" IS DISTINCT FROM (NEW."capacity") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."description" IS DISTINCT FROM (NEW."description") OR OLD."ends_at" IS DISTINCT FROM (NEW."ends_at") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."kind" IS DISTINCT FROM (NEW."kind") OR OLD."organizer_id" IS DISTINCT FROM (NEW."organizer_id") OR OLD."space_id" IS DISTINCT FROM (NEW."space_id") OR OLD."speaker" IS DISTINCT FROM (NEW."speaker") OR OLD."starts_at" IS DISTINCT FROM (NEW."starts_at") OR OLD."status" IS DISTINCT FROM (NEW."status") OR OLD."title" IS DISTINCT FROM (NEW."title") OR OLD."updated_at" IS DISTINCT FROM (NEW."updated_at") OR OLD."waitlist_limit" IS DISTINCT FROM (NEW."waitlist_limit"))', func='INSERT INTO "services_eventevent" ("audience", "booking_closes_at", "booking_opens_at", "cancel_deadline", "capacity", "created_at", "description", "ends_at", "id", "kind", "organizer_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "space_id", "speaker", "starts_at", "status", "title", "updated_at", "waitlist_limit") VALUES (NEW."audience", NEW."booking_closes_at", NEW."booking_opens_at", NEW."cancel_deadline", NEW."capacity", NEW."created_at", NEW."description", NEW."ends_at", NEW."id", NEW."kind", NEW."organizer_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."space_id", NEW."speaker", NEW."starts_at", NEW."status", NEW."title", NEW."updated_at", NEW."waitlist_limit"); RETURN NULL;', hash='93dbf0ba6c6fd278682a7b957576452b25fe1377', operation='UPDATE', pgid='pgtrigger_update_update_9b841', table='services_event', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='event',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "services_eventevent" ("audience", "booking_closes_at", "booking_opens_at", "cancel_deadline", "capacity", "created_at", "description", "ends_at", "id", "kind", "organizer_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "space_id", "speaker", "starts_at", "status", "title", "updated_at", "waitlist_limit") VALUES (OLD."audience", OLD."booking_closes_at", OLD."booking_opens_at", OLD."cancel_deadline", OLD."capacity", OLD."created_at", OLD."description", OLD."ends_at", OLD."id", OLD."kind", OLD."organizer_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."space_id", OLD."speaker", OLD."starts_at", OLD."status", OLD."title", OLD."updated_at", OLD."waitlist_limit"); RETURN NULL;', hash='7b9d85ac5f368a42afc725bdb758d8ab6f65294b', operation='DELETE', pgid='pgtrigger_delete_delete_25bbc', table='services_event', when='AFTER')),
        ),
    ]
