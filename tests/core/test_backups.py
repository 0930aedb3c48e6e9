"""Backups that restore: backup a seeded database, restore it into a new one, compare every table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core.backups import find_pg_tool, server_major_version
from tests.buildings.factories import EnterpriseFactory
from tests.committees.factories import CommitteeSeatFactory
from tests.members.factories import MemberTransferFactory, PartyMemberFactory, UserFactory
from tests.services.factories import BookingFactory, EventFactory, SpaceReservationFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _connect(dbname: str):
    params = connection.settings_dict
    conn = psycopg2.connect(
        dbname=dbname,
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
    )
    conn.autocommit = True
    return conn


def _database_url(dbname: str) -> str:
    params = connection.settings_dict
    auth = quote(params["USER"] or "", safe="")
    if params["PASSWORD"]:
        auth += ":" + quote(params["PASSWORD"], safe="")
    # A socket directory (the embedded server) goes into the URL percent-encoded.
    host = quote(params["HOST"] or "localhost", safe="")
    port = f":{params['PORT']}" if params["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{dbname}"


def _row_counts(dbname: str) -> dict[str, int]:
    conn = _connect(dbname)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            tables = [row[0] for row in cur.fetchall()]
            counts = {}
            for table in tables:
                cur.execute(f'SELECT count(*) FROM "{table}"')
                counts[table] = cur.fetchone()[0]
        return counts
    finally:
        conn.close()


def _manage(*args: str, dbname: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": _database_url(dbname), "DEBUG": "1"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def restore_db():
    name = f"{connection.settings_dict['NAME']}_restore"
    admin = _connect("postgres")
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    yield name
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def seed() -> None:
    """A little of everything, so that every app's tables (and the history tables) have rows."""
    for _ in range(3):
        EnterpriseFactory()
        MemberTransferFactory()
        CommitteeSeatFactory()
        SpaceReservationFactory()
    PartyMemberFactory.create_batch(5)
    event = EventFactory(capacity=5)
    for user in UserFactory.create_batch(4):
        BookingFactory(event=event, user=user)


def test_backup_restores_every_row_into_a_new_database(tmp_path: Path, restore_db: str):
    seed()
    source = connection.settings_dict["NAME"]
    call_command("backup", dir=tmp_path, keep=3)
    (dump,) = tmp_path.glob("*.dump")
    assert dump.name.startswith(f"{source}-")
    assert dump.stat().st_mode & 0o077 == 0  # personal data: owner only

    result = _manage("restore", str(dump), dbname=restore_db)
    assert result.returncode == 0, result.stderr

    before, after = _row_counts(source), _row_counts(restore_db)
    assert set(after) == set(before)
    assert after == before
    seeded = [t for t in ("buildings_enterprise", "members_partymember", "services_booking") if t in before]
    assert seeded and all(before[t] > 0 for t in seeded)
    # The history tables (django-pghistory) come back too.
    assert any(t.endswith("event") and before[t] > 0 for t in before)

    # The restored database is at the same migration state: nothing left to apply.
    check = _manage("migrate", "--check", dbname=restore_db)
    assert check.returncode == 0, check.stdout + check.stderr


def test_restore_refuses_a_database_that_is_not_empty(tmp_path: Path):
    EnterpriseFactory()
    call_command("backup", dir=tmp_path)
    (dump,) = tmp_path.glob("*.dump")
    before = _row_counts(connection.settings_dict["NAME"])
    with pytest.raises(CommandError, match="不是空的"):
        call_command("restore", str(dump))
    assert _row_counts(connection.settings_dict["NAME"]) == before


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path, restore_db: str):
    bogus = tmp_path / "portal-20250101T000000Z.dump"
    bogus.write_bytes(b"not a dump")
    result = _manage("restore", str(bogus), dbname=restore_db)
    assert result.returncode != 0
    assert "不是可用的 pg_dump 备份文件" in result.stderr
    assert _row_counts(restore_db) == {}


def test_backup_prunes_all_but_the_newest(tmp_path: Path):
    EnterpriseFactory()
    for _ in range(4):
        call_command("backup", dir=tmp_path, keep=2)
    names = sorted(p.name for p in tmp_path.glob("*.dump"))
    assert len(names) == 2
    # Unrelated files in the directory are left alone.
    (tmp_path / "notes.txt").write_text("keep me")
    call_command("backup", dir=tmp_path, keep=1)
    remaining = sorted(p.name for p in tmp_path.glob("*.dump"))
    assert len(remaining) == 1 and remaining[0] > names[-1]
    assert (tmp_path / "notes.txt").exists()
    assert not list(tmp_path.glob("*.partial"))


def test_pg_tools_match_the_server_major_version():
    major = server_major_version(connection)
    pg_dump = find_pg_tool("pg_dump", major)
    out = subprocess.run([pg_dump, "--version"], capture_output=True, text=True).stdout
    assert f") {major}." in out
    with pytest.raises(CommandError, match="postgresql-client-99"):
        find_pg_tool("pg_dump", 99)
