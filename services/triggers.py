"""The SQL the database runs for services: station streets, the space-occupancy mirror and the booking tally.

Both are pgtrigger triggers declared on the models (services/models.py) and installed by
migrations; they keep derived tables exact whatever writes the rows (the booking engine,
bulk updates, COPY).
"""

from __future__ import annotations

import pgtrigger
from django.contrib.postgres.fields import DateTimeRangeField
from django.db.models import Func


class TsTzRange(Func):
    function = "tstzrange"
    output_field = DateTimeRangeField()


def occupancy_triggers(owner_column: str, occupies: str) -> list[pgtrigger.Trigger]:
    """Triggers that mirror the rows of a model which occupy a space into SpaceOccupancy.

    ``owner_column`` is SpaceOccupancy's column pointing back at the row
    (``event_id`` or ``reservation_id``); ``occupies`` is an SQL condition on the
    row, written with ``{row}`` for the row alias, that says whether the row
    holds its space (a non-cancelled event, an approved reservation).

    Inserts and deletes are statement-level with transition tables, so a bulk
    insert of thousands of events costs one INSERT ... SELECT, not one trigger
    call per row. Updates are row-level and fire only when the space, the times
    or the status change, so the booking engine's counter updates on the event
    row never touch the occupancy table.
    """
    table = "services_spaceoccupancy"
    return [
        pgtrigger.Trigger(
            name="occupancy_insert",
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            operation=pgtrigger.Insert,
            referencing=pgtrigger.Referencing(new="new_rows"),
            func=f"""
                INSERT INTO {table} (space_id, starts_at, ends_at, {owner_column})
                SELECT new_rows.space_id, new_rows.starts_at, new_rows.ends_at, new_rows.id
                FROM new_rows WHERE {occupies.format(row="new_rows")};
                RETURN NULL;
            """,
        ),
        pgtrigger.Trigger(
            name="occupancy_update",
            level=pgtrigger.Row,
            when=pgtrigger.After,
            operation=pgtrigger.Update,
            condition=pgtrigger.AnyChange("space", "starts_at", "ends_at", "status"),
            func=f"""
                IF {occupies.format(row="NEW")} THEN
                    INSERT INTO {table} (space_id, starts_at, ends_at, {owner_column})
                    VALUES (NEW.space_id, NEW.starts_at, NEW.ends_at, NEW.id)
                    ON CONFLICT ({owner_column}) DO UPDATE
                    SET space_id = EXCLUDED.space_id,
                        starts_at = EXCLUDED.starts_at,
                        ends_at = EXCLUDED.ends_at;
                ELSE
                    DELETE FROM {table} WHERE {owner_column} = NEW.id;
                END IF;
                RETURN NULL;
            """,
        ),
        pgtrigger.Trigger(
            name="occupancy_delete",
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            operation=pgtrigger.Delete,
            referencing=pgtrigger.Referencing(old="old_rows"),
            func=f"""
                DELETE FROM {table} USING old_rows WHERE {table}.{owner_column} = old_rows.id;
                RETURN NULL;
            """,
        ),
    ]


BOOKING_STATUSES = ("confirmed", "waitlisted", "cancelled", "attended", "no_show")


def booking_tally_triggers() -> list[pgtrigger.Trigger]:
    """Statement-level triggers on Booking that keep BookingTally: bookings per event and status.

    Each INSERT, UPDATE or DELETE statement on bookings (the booking engine's, a bulk
    update such as marking no-shows, a COPY) adds its net change per event in the same
    transaction, so the tally is exact whenever the bookings are. The upsert takes the
    tally rows in event order (no deadlock between two bulk statements), and skips
    events whose counts did not change (an update of a check-in time writes nothing).
    """
    table = "services_bookingtally"
    columns = ", ".join(BOOKING_STATUSES)
    sums = [f"coalesce(sum(change.d) FILTER (WHERE change.status = '{s}'), 0)" for s in BOOKING_STATUSES]
    assignments = ", ".join(f"{s} = {table}.{s} + EXCLUDED.{s}" for s in BOOKING_STATUSES)

    def upsert(rows: str) -> str:
        return f"""
            INSERT INTO {table} (event_id, {columns})
            SELECT change.event_id, {", ".join(sums)}
            FROM ({rows}) AS change
            GROUP BY change.event_id
            HAVING {" OR ".join(f"{total} <> 0" for total in sums)}
            ORDER BY change.event_id
            ON CONFLICT (event_id) DO UPDATE SET {assignments};
            RETURN NULL;
        """

    added = "SELECT event_id, status, 1 AS d FROM new_rows"
    removed = "SELECT event_id, status, -1 AS d FROM old_rows"
    return [
        pgtrigger.Trigger(
            name="tally_insert",
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            operation=pgtrigger.Insert,
            referencing=pgtrigger.Referencing(new="new_rows"),
            func=upsert(added),
        ),
        pgtrigger.Trigger(
            name="tally_update",
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            operation=pgtrigger.Update,
            referencing=pgtrigger.Referencing(old="old_rows", new="new_rows"),
            func=upsert(f"{added} UNION ALL {removed}"),
        ),
        pgtrigger.Trigger(
            name="tally_delete",
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            operation=pgtrigger.Delete,
            referencing=pgtrigger.Referencing(old="old_rows"),
            func=upsert(removed),
        ),
    ]


def sequence_trigger(*, columns: tuple[str, ...], fields: tuple[str, ...]) -> pgtrigger.Trigger:
    """A row's ``sequence`` (the iCalendar SEQUENCE, RFC 5545 §3.8.7.4) raised by one on every change.

    ``fields`` (model field names) and ``columns`` (their SQL columns) are what a calendar
    shows: when one of them changes, ``sequence`` becomes the old value plus one, whatever
    wrote the row (a write function, the admin's ``save()``, a bulk update). A writer that
    sends a stale ``sequence`` (a ``save()`` of an instance read before the last change)
    cannot lower it: the old value is kept. An update of other columns only (the booking
    engine's seat counters) does not fire the trigger at all.
    """
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)
    return pgtrigger.Trigger(
        name="sequence_bump",
        level=pgtrigger.Row,
        when=pgtrigger.Before,
        operation=pgtrigger.Update,
        condition=pgtrigger.AnyChange(*fields, "sequence"),
        func=f"""
            IF {changed} THEN
                NEW.sequence := OLD.sequence + 1;
            ELSE
                NEW.sequence := OLD.sequence;
            END IF;
            RETURN NEW;
        """,
    )


# The owner's street, for a station row about to be written (NEW).
_OWNER_STREET = """
    COALESCE(
        (SELECT street_id FROM buildings_building WHERE id = NEW.building_id),
        (SELECT street_id FROM buildings_partner WHERE id = NEW.partner_id),
        NEW.street_id
    )
"""


def station_street_triggers() -> list[pgtrigger.Trigger]:
    """A station's ``street`` is its owner's (a building's or a partner's), whatever writes the row.

    Scoping reads every space, event and booking through the station's street; a building or
    partner moving to another street carries its stations along (the triggers on those
    tables are installed by the migration that adds this column, RunSQL there, since
    buildings must not know about stations).
    """
    return [
        pgtrigger.Trigger(
            name="station_street",
            level=pgtrigger.Row,
            when=pgtrigger.Before,
            operation=pgtrigger.Insert | pgtrigger.UpdateOf("building_id", "partner_id", "street_id"),
            func=f"NEW.street_id := {_OWNER_STREET}; RETURN NEW;",
        )
    ]


#: Installed by services' migration (owners moving to another street carry their stations along).
OWNER_STREET_PROPAGATION_SQL = """
CREATE OR REPLACE FUNCTION services_station_follow_owner_street() RETURNS trigger AS $$
BEGIN
    UPDATE services_servicestation SET street_id = NEW.street_id
    WHERE (TG_TABLE_NAME = 'buildings_building' AND building_id = NEW.id)
       OR (TG_TABLE_NAME = 'buildings_partner' AND partner_id = NEW.id);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER services_station_follow_building AFTER UPDATE OF street_id ON buildings_building
    FOR EACH ROW WHEN (OLD.street_id IS DISTINCT FROM NEW.street_id)
    EXECUTE FUNCTION services_station_follow_owner_street();
CREATE TRIGGER services_station_follow_partner AFTER UPDATE OF street_id ON buildings_partner
    FOR EACH ROW WHEN (OLD.street_id IS DISTINCT FROM NEW.street_id)
    EXECUTE FUNCTION services_station_follow_owner_street();
"""

OWNER_STREET_PROPAGATION_REVERSE_SQL = """
DROP TRIGGER IF EXISTS services_station_follow_building ON buildings_building;
DROP TRIGGER IF EXISTS services_station_follow_partner ON buildings_partner;
DROP FUNCTION IF EXISTS services_station_follow_owner_street();
"""
