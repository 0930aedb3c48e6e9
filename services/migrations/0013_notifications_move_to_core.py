"""The outbox and the bell move to the shared notifications app (core/notifications/).

The rows are copied, ids kept: what a row was about (its booking, party organization or
committee) becomes its generic subject, its event its topic (``event:<id>``), and a
counselling event's rows are marked confidential. Then the old tables are dropped.
"""

from django.db import migrations

COPY_OUTBOX = """
INSERT INTO notifications_outbox (
    id, recipient_id, kind, cause, street_id, subject_type_id, subject_id, topic, confidential,
    context, status, due_at, next_attempt_at, attempts, last_error, skip_reason,
    delivered_channels, sent_at, sent_by, created_at, updated_at
)
SELECT o.id, o.recipient_id, o.kind, o.cause, o.street_id,
       CASE WHEN o.booking_id IS NOT NULL THEN %(booking)s
            WHEN o.party_organization_id IS NOT NULL THEN %(organization)s
            WHEN o.committee_id IS NOT NULL THEN %(committee)s END,
       COALESCE(o.booking_id, o.party_organization_id, o.committee_id),
       CASE WHEN o.event_id IS NOT NULL THEN 'event:' || o.event_id ELSE '' END,
       COALESCE(e.kind = 'counselling', false),
       o.context, o.status, o.due_at, o.next_attempt_at, o.attempts, o.last_error, o.skip_reason,
       o.delivered_channels, o.sent_at, o.sent_by, o.created_at, o.updated_at
FROM services_notificationoutbox o LEFT JOIN services_event e ON e.id = o.event_id
ORDER BY o.id
"""

COPY_BELL = """
INSERT INTO notifications_portalnotification (id, outbox_id, recipient_id, title, body, url, created_at, read_at)
SELECT id, outbox_id, recipient_id, title, body, url, created_at, read_at
FROM services_portalnotification ORDER BY id
"""


def copy_rows(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM services_notificationoutbox)")
        if not cursor.fetchone()[0]:
            return
        ContentType = apps.get_model("contenttypes", "ContentType")
        ids = {
            key: ContentType.objects.get_or_create(app_label=app, model=model)[0].pk
            for key, app, model in (
                ("booking", "services", "booking"),
                ("organization", "members", "partyorganization"),
                ("committee", "committees", "buildingcommittee"),
            )
        }
        cursor.execute(COPY_OUTBOX, ids)
        cursor.execute(COPY_BELL)
        for table in ("notifications_outbox", "notifications_portalnotification"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
                f"FROM {table}"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0012_event_booking_opens_before_start_validate"),
        ("notifications", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        # Going back: the old tables come back empty (the rows stay in the new ones).
        migrations.RunPython(copy_rows, migrations.RunPython.noop),
        migrations.RemoveField(model_name="portalnotification", name="outbox"),
        migrations.RemoveField(model_name="portalnotification", name="recipient"),
        migrations.DeleteModel(name="NotificationOutbox"),
        migrations.DeleteModel(name="PortalNotification"),
    ]
