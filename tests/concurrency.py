"""Helpers for the tests where two transactions meet (``transaction=True``)."""

from __future__ import annotations

import contextlib
import threading

from django.db import connection, transaction


@contextlib.contextmanager
def held_elsewhere(model, pk, *, lock: str = "UPDATE", lock_timeout: str = "2s"):
    """While the block runs, another transaction (a thread with its own connection) holds row
    ``pk`` of ``model`` with ``SELECT ... FOR <lock>`` (``UPDATE``; ``KEY SHARE`` is what a row
    inserted elsewhere that refers to it holds); this connection waits at most ``lock_timeout``
    for any lock, so code that waited for that row fails instead of hanging."""
    assert lock in ("UPDATE", "NO KEY UPDATE", "SHARE", "KEY SHARE"), lock
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR {lock}", [pk])
                assert cursor.fetchone() is not None, f"no row {pk} in {table}"
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(30), "the other transaction did not take the row's lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{lock_timeout}'")
        yield
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
