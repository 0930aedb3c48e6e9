"""The statements every notification runs (take, in-portal copy, outcome), written out once:
the ORM would rebuild them for each of thousands of rows."""

from __future__ import annotations

from django.db import connection

from .models import Outbox, PortalNotification

_STATEMENTS: dict[str, str] = {}


def sql(name: str) -> str:
    if not _STATEMENTS:
        q = connection.ops.quote_name
        outbox, portal = q(Outbox._meta.db_table), q(PortalNotification._meta.db_table)
        _STATEMENTS.update(
            take=(
                f"SELECT id, next_attempt_at, attempts, delivered_channels FROM {outbox} "
                "WHERE status = 'pending' AND next_attempt_at <= %s "
                "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
            ),
            portal_insert=(
                f"INSERT INTO {portal} (outbox_id, recipient_id, title, body, url, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (outbox_id) DO NOTHING"
            ),
            save_attempt=(
                f"UPDATE {outbox} SET status = %s, attempts = %s, last_error = %s, "
                "delivered_channels = %s::jsonb, next_attempt_at = %s, sent_at = %s, sent_by = %s, "
                "updated_at = %s WHERE id = %s"
            ),
        )
    return _STATEMENTS[name]
