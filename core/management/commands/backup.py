"""``manage.py backup``: a timestamped pg_dump (custom format), checked, and old ones pruned.

    manage.py backup [--dir /var/backups/portal] [--keep 14]

Writes ``<dir>/<database>-<UTC timestamp>.dump`` (readable only by its owner: it
holds personal data), reads it back with ``pg_restore --list`` and only then deletes
all but the newest ``--keep`` backups of this database. Run it daily from a timer
(deploy/portal-backup.timer) and copy the directory off the machine.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from core.backups import check_archive, find_pg_tool, libpq_env, server_major_version


def default_backup_dir() -> Path:
    return Path(os.environ.get("BACKUP_DIR", settings.BASE_DIR / "var" / "backups"))


class Command(BaseCommand):
    help = "Back up the database with pg_dump (custom format) and prune old backups."

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, default=None, help="Backup directory (env BACKUP_DIR).")
        parser.add_argument(
            "--keep",
            type=int,
            default=int(os.environ.get("BACKUP_KEEP", "14")),
            help="How many backups of this database to keep (env BACKUP_KEEP, default 14).",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, dir: Path | None, keep: int, database: str, **options):
        if keep < 1:
            raise CommandError("--keep must be at least 1.")
        connection = connections[database]
        major = server_major_version(connection)
        pg_dump = find_pg_tool("pg_dump", major)
        pg_restore = find_pg_tool("pg_restore", major)

        backup_dir = (dir or default_backup_dir()).resolve()
        backup_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = connection.settings_dict["NAME"]
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = backup_dir / f"{name}-{stamp}.dump"
        partial = target.with_suffix(".dump.partial")

        old_umask = os.umask(0o077)
        try:
            result = subprocess.run(
                [pg_dump, "--format=custom", "--no-password", f"--file={partial}"],
                env=libpq_env(connection),
                capture_output=True,
                text=True,
            )
        finally:
            os.umask(old_umask)
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        entries = check_archive(pg_restore, partial)
        partial.rename(target)
        self.stdout.write(f"{target} ({target.stat().st_size} bytes, {entries} entries, pg_dump {major})")

        # Only complete backups of this database count; the timestamp sorts by name.
        backups = sorted(backup_dir.glob(f"{name}-*.dump"))
        for old in backups[:-keep]:
            old.unlink()
            self.stdout.write(f"pruned {old.name}")
