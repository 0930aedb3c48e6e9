"""``manage.py restore FILE``: load a ``manage.py backup`` archive into an empty database.

    createdb -h ... portal_restored
    DATABASE_URL=postgres://.../portal_restored manage.py restore /var/backups/portal/portal-….dump

It refuses a database that already has tables (a restore never merges into live
data), restores in one transaction (all or nothing) without the original owner and
grants.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

from core.backups import check_archive, database_is_empty, find_pg_tool, libpq_env, server_major_version


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file: Path, database: str, **options):
        if not file.is_file():
            raise CommandError(_("备份文件不存在：%(path)s") % {"path": file})
        connection = connections[database]
        major = server_major_version(connection)
        pg_restore = find_pg_tool("pg_restore", major)
        check_archive(pg_restore, file)
        name = connection.settings_dict["NAME"]
        if not database_is_empty(connection):
            raise CommandError(
                _("数据库 %(name)s 不是空的：恢复只能写入新建的空数据库（createdb），不会覆盖现有数据。")
                % {"name": name}
            )
        # pg_restore opens its own connection; ours must not hold locks or a transaction.
        connection.close()
        result = subprocess.run(
            [
                pg_restore,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
                f"--dbname={name}",
                str(file),
            ],
            env=libpq_env(connection),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise CommandError(f"pg_restore failed (nothing was restored): {result.stderr.strip()}")

        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            tables = cur.fetchone()[0]
        self.stdout.write(f"restored {file} into {name}: {tables} tables")
        self.stdout.write("next: manage.py migrate (applies migrations newer than the backup)")
