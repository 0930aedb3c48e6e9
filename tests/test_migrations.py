"""Migrations: all of them apply to an empty database, the models have none pending, and
each data migration can be rolled back (docs/deploy.md, "Upgrading")."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunPython, RunSQL

from tests.core.test_backups import _database_url

pytestmark = pytest.mark.slow

PROJECT_APPS = {"notifications", "buildings", "members", "committees", "services"}


def _manage(*args: str, dbname: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.development"}
    if dbname:
        env["DATABASE_URL"] = _database_url(dbname)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def empty_db(django_db_blocker):
    with django_db_blocker.unblock():
        name = f"{connection.settings_dict['NAME']}_migrate"
        params = connection.settings_dict
        admin = psycopg2.connect(
            dbname="postgres",
            user=params["USER"] or None,
            password=params["PASSWORD"] or None,
            host=params["HOST"] or None,
            port=params["PORT"] or None,
        )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    yield name
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_all_migrations_apply_to_an_empty_database(empty_db):
    result = _manage("migrate", "--noinput", dbname=empty_db)
    assert result.returncode == 0, result.stdout + result.stderr

    plan = _manage("showmigrations", "--plan", dbname=empty_db)
    assert plan.returncode == 0, plan.stderr
    lines = [line for line in plan.stdout.splitlines() if line.strip()]
    assert lines and all(line.startswith("[X]") for line in lines), plan.stdout
    for app in PROJECT_APPS:
        assert any(line.split()[-1].startswith(f"{app}.") for line in lines), f"no migration of {app} applied"

    again = _manage("migrate", "--noinput", dbname=empty_db)
    assert "No migrations to apply" in again.stdout


def test_models_have_no_pending_migrations():
    result = _manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, "models changed without a migration:\n" + result.stdout + result.stderr


def test_data_migrations_can_be_rolled_back():
    """A deploy that has to go back one release reverses its migrations; RunPython and RunSQL
    without a reverse make that impossible (use migrations.RunPython.noop when nothing to undo)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    irreversible = [
        f"{app}.{name}: {type(op).__name__}"
        for (app, name), migration in loader.disk_migrations.items()
        if app in PROJECT_APPS
        for op in migration.operations
        if isinstance(op, RunPython | RunSQL) and not op.reversible
    ]
    assert irreversible == []


def _sql(dbname: str, statement: str, params: tuple = ()) -> list[tuple]:
    params_db = connection.settings_dict
    conn = psycopg2.connect(
        dbname=dbname,
        user=params_db["USER"] or None,
        password=params_db["PASSWORD"] or None,
        host=params_db["HOST"] or None,
        port=params_db["PORT"] or None,
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def _migrate(dbname: str, app: str, target: str) -> None:
    result = _manage("migrate", app, target, "--noinput", dbname=dbname)
    assert result.returncode == 0, result.stdout + result.stderr


_WORLD = """
INSERT INTO buildings_district (id, name, code) VALUES (1, '静安区', '310106');
INSERT INTO buildings_street (id, district_id, name, code) VALUES (1, 1, '南京西路街道', '');
INSERT INTO buildings_building (id, street_id, name, address, floors, floor_area_m2, is_key_building,
    property_company, employee_count, created_at, updated_at)
    VALUES (1, 1, '楼', '路1号', 10, 1000, false, '', 100, now(), now());
INSERT INTO services_servicestation (id, building_id, name, floor, area_m2, opening_hours, phone,
    description, is_active)
    VALUES (1, 1, '站', 6, 300, '', '', '', true);
INSERT INTO services_space (id, station_id, name, function, capacity)
    VALUES (1, 1, '活动室', 'activity_room', 40);
INSERT INTO members_user (id, password, is_superuser, username, first_name, last_name, email, is_staff,
    is_active, date_joined, phone, language, notify_by_email, notify_in_portal)
    VALUES (1, '', false, 'u1', '', '', 'u1@example.com', false, true, now(), '', 'zh-hans', true, true);
INSERT INTO services_event (id, space_id, title, kind, description, speaker, starts_at, ends_at, capacity,
    waitlist_limit, audience, booking_opens_at, booking_closes_at, cancel_deadline, status,
    confirmed_count, waitlist_count, created_at, updated_at)
    VALUES (1, 1, '心理咨询', 'counselling', '', '', now() + interval '3 days',
            now() + interval '3 days 1 hour', 1, 0, 'everyone', now() - interval '1 day',
            now() + interval '2 days', now() + interval '2 days', 'published', 0, 0, now(), now());
INSERT INTO services_booking (id, event_id, user_id, status, created_at, confirmed_at)
    VALUES (1, 1, 1, 'confirmed', now(), now());
"""


def test_outbox_rows_move_to_the_notifications_app_with_their_subject_and_topic(empty_db):
    """services 0013: each outbox row keeps its id and becomes about its booking (subject), grouped
    by its event (topic), confidential for counselling; the bell's rows follow."""
    _migrate(empty_db, "services", "0012")
    _migrate(empty_db, "notifications", "0001")
    _sql(empty_db, _WORLD)
    _sql(
        empty_db,
        """INSERT INTO services_notificationoutbox (id, recipient_id, kind, cause, street_id, booking_id,
               event_id, context, status, due_at, next_attempt_at, attempts, last_error, skip_reason,
               delivered_channels, sent_at, sent_by, created_at, updated_at)
           VALUES (7, 1, 'booking_confirmed', 'booking:1', 1, 1, 1, '{}', 'sent', now(), now(), 1, '', '',
                   '["portal"]', now(), 'w', now(), now())""",
    )
    _sql(
        empty_db,
        """INSERT INTO services_portalnotification (id, outbox_id, recipient_id, title, body, url, created_at)
           VALUES (3, 7, 1, '预约成功', '正文', '/', now())""",
    )
    _migrate(empty_db, "services", "0013")
    [row] = _sql(
        empty_db,
        """SELECT o.id, ct.app_label, ct.model, o.subject_id, o.topic, o.confidential, o.status, o.street_id
           FROM notifications_outbox o JOIN django_content_type ct ON ct.id = o.subject_type_id""",
    )
    assert row == (7, "services", "booking", 1, "event:1", True, "sent", 1)
    assert _sql(empty_db, "SELECT id, outbox_id FROM notifications_portalnotification") == [(3, 7)]
    # New rows continue after the copied ids.
    assert _sql(empty_db, "SELECT nextval(pg_get_serial_sequence('notifications_outbox', 'id'))") == [(8,)]
    assert not _sql(empty_db, "SELECT to_regclass('services_notificationoutbox')::text")[0][0]


def test_event_history_loses_the_rows_that_changed_only_seat_counters(empty_db):
    """services 0014: a booking's counter update left a full Event snapshot; those rows go, an
    edit's row stays."""
    _migrate(empty_db, "services", "0013")
    _sql(empty_db, _WORLD)
    _sql(empty_db, "UPDATE services_event SET capacity = 10, kind = 'party_class' WHERE id = 1")
    for count in (1, 2, 3):  # three bookings
        _sql(empty_db, "UPDATE services_event SET confirmed_count = %s WHERE id = 1", (count,))
    _sql(empty_db, "UPDATE services_event SET title = '心理咨询（改）' WHERE id = 1")  # an edit
    _sql(empty_db, "UPDATE services_event SET confirmed_count = 4 WHERE id = 1")
    labels = _sql(empty_db, "SELECT pgh_label, title FROM services_eventevent ORDER BY pgh_id")
    assert len(labels) == 7
    _migrate(empty_db, "services", "0014")
    assert _sql(empty_db, "SELECT pgh_label, title, capacity FROM services_eventevent ORDER BY pgh_id") == [
        ("insert", "心理咨询", 1),
        ("update", "心理咨询", 10),
        ("update", "心理咨询（改）", 10),
    ]
    _sql(empty_db, "UPDATE services_event SET confirmed_count = 5 WHERE id = 1")
    assert _sql(empty_db, "SELECT count(*) FROM services_eventevent") == [(3,)]  # and now none is written


def test_calendar_keys_already_given_out_keep_working(empty_db):
    """members 0009: a stored calendar-feed key becomes its SHA-256 digest, which the feed looks up."""
    import hashlib

    _migrate(empty_db, "members", "0008")
    key = "k" * 43
    _sql(
        empty_db,
        """INSERT INTO members_user (id, password, is_superuser, username, first_name, last_name, email,
               is_staff, is_active, date_joined, phone, language, notify_by_email, notify_in_portal,
               calendar_token)
           VALUES (1, '', false, 'u1', '', '', 'u1@example.com', false, true, now(), '', 'zh-hans', true,
                   true, %s),
                  (2, '', false, 'u2', '', '', 'u2@example.com', false, true, now(), '', 'zh-hans', true,
                   true, NULL)""",
        (key,),
    )
    _migrate(empty_db, "members", "0009")
    assert _sql(empty_db, "SELECT id, calendar_token_hash FROM members_user ORDER BY id") == [
        (1, hashlib.sha256(key.encode()).hexdigest()),
        (2, None),
    ]


def test_link_requests_so_far_are_decided_by_their_records_street(empty_db):
    """members 0011: a request (all matched a record until then) gets the record's street, its name
    and the masked ID number."""
    _migrate(empty_db, "members", "0010")
    _sql(
        empty_db,
        """INSERT INTO buildings_district (id, name, code) VALUES (1, '静安区', '310106');
           INSERT INTO buildings_street (id, district_id, name, code) VALUES (1, 1, '南京西路街道', '');
           INSERT INTO members_user (id, password, is_superuser, username, first_name, last_name, email,
               is_staff, is_active, date_joined, phone, language, notify_by_email, notify_in_portal)
               VALUES (1, '', false, 'u1', '', '', 'u1@example.com', false, true, now(), '', 'zh-hans',
                       true, true);
           INSERT INTO members_partyorganization (id, name, kind, street_id, founded_on, created_at, updated_at)
               VALUES (1, '支部', 'branch', 1, '2018-07-01', now(), now());
           INSERT INTO members_partymember (id, name, gender, birth_date, phone, id_number, education, joined_on,
               status, organization_id, is_mobile, created_at, updated_at)
               VALUES (1, '李红', 'F', '1990-05-17', '13800000001', '310106199005170012', 'bachelor',
                       '2015-07-01', 'full', 1, false, now(), now());
           INSERT INTO members_memberlinkrequest (id, user_id, member_id, status, created_at, decision_note)
               VALUES (1, 1, 1, 'pending', now(), '')""",
    )
    _migrate(empty_db, "members", "0011")
    assert _sql(empty_db, "SELECT street_id, name, id_number_hint FROM members_memberlinkrequest") == [
        (1, "李红", "310***********0012")
    ]
