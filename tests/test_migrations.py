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

from tests.test_backup import _database_url

pytestmark = pytest.mark.slow

PROJECT_APPS = {"buildings", "members", "committees", "services"}


def _manage(*args: str, dbname: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBUG": "1"}
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
