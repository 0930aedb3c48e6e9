"""pytest plugin for mutation runs only (``-p tests.mutmut_plugin`` in ``[tool.mutmut]``).

mutmut 3 runs pytest several times in one process (collecting which tests call what, the
clean run, a forced failure) and then once per mutant in a fork of that process, all with
``--reuse-db``. Two things go wrong with pytest-django there, and this plugin fixes both:

* A session with ``--reuse-db`` leaves ``DATABASES["NAME"]`` set to the test database's name,
  so the next session in the same process would make and use ``test_test_<name>``, the next
  ``test_test_test_<name>``. Each session here starts from the real name, and ends with its
  connections closed, so that no fork inherits an open one.
* A mutant whose run is stopped in the middle of a test with real transactions (a timeout,
  Ctrl-C) leaves that test's rows committed in the kept database, and every later mutant
  would then fail on them and count as killed. Each session starts on an empty database.
* mutmut runs the tests in its own order, not file by file: a language left active by one
  test (a request in English) would reach the next. Each test starts in the site's language.
* With ``--max-children 2`` or more, two mutants run at once, and the tests with real
  transactions of one would flush the tables the other is using (a mutant "killed" for no
  reason of its own). Each mutant's run takes a free slot (a file lock held until its process
  ends) and its own copy of the test database, ``test_<name>_w<slot>``, made once from
  ``test_<name>`` as a template. The stats and the clean run keep ``test_<name>``.
* A query prepared once per process (core/prepared.py) would have its builder recorded against
  the first test that ran it only. Each test builds them again.
"""

import fcntl
import os
import tempfile
from pathlib import Path

import pytest

_real_names: dict[str, str] = {}
_held_slots: list[int] = []
_SLOTS = 16


def _lock(path: Path, *, wait: bool) -> int | None:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _worker_database(database: dict) -> str:
    """The database name this process's tests use: its own slot's in a mutant's run."""
    real = database["NAME"]
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return real
    locks = Path(tempfile.gettempdir())
    for slot in range(_SLOTS):
        fd = _lock(locks / f"mutmut-{real}-slot-{slot}.lock", wait=False)
        if fd is not None:
            _held_slots.append(fd)  # released when this forked process exits
            break
    else:
        raise RuntimeError(f"more than {_SLOTS} mutants at once: raise _SLOTS in tests/mutmut_plugin.py")
    name = f"{real}_w{slot}"
    import psycopg2
    from psycopg2 import sql

    # One copy at a time: PostgreSQL refuses a template that another copy is reading.
    creating = _lock(locks / f"mutmut-{real}-create.lock", wait=True)
    try:
        conn = psycopg2.connect(
            dbname="postgres",
            user=database.get("USER") or None,
            password=database.get("PASSWORD") or None,
            host=database.get("HOST") or None,
            port=database.get("PORT") or None,
        )
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"test_{name}"])
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(f"test_{name}"), sql.Identifier(f"test_{real}")
                    )
                )
        conn.close()
    finally:
        os.close(creating)
    return name


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    for alias, database in settings.DATABASES.items():
        database["NAME"] = _real_names.setdefault(alias, database["NAME"])
        name = _worker_database(database)
        database["NAME"] = name
        connections[alias].settings_dict["NAME"] = name


def pytest_sessionfinish(session):
    from django.db import connections

    connections.close_all()


@pytest.fixture(scope="session", autouse=True)
def _start_on_an_empty_database(django_db_setup, django_db_blocker):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from buildings.models import District

    with django_db_blocker.unblock():
        if get_user_model().objects.exists() or District.objects.exists():
            call_command("flush", interactive=False, verbosity=0)  # post_migrate puts the groups back
    yield


@pytest.fixture(autouse=True)
def _each_test_builds_the_prepared_queries():
    """A prepared query (core/prepared.py) is built once per process: mutmut would see only the
    first test call its builder (``_booking_snapshot_queryset``) and try its mutants against that
    test alone. Each test here builds them again."""
    from core.prepared import PreparedQuery

    PreparedQuery.forget_all()


@pytest.fixture(autouse=True)
def _each_test_in_the_sites_language():
    """mutmut runs the tests in its own order (fastest first), not file by file: a request of
    one test in English leaves English active in the thread for the next, which expects the
    site's language. Each test here starts in the site's language, as in a run of its file."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
