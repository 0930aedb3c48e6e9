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
"""

import pytest

_real_names: dict[str, str] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    for alias, database in settings.DATABASES.items():
        real = _real_names.setdefault(alias, database["NAME"])
        database["NAME"] = real
        connections[alias].settings_dict["NAME"] = real


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
def _each_test_in_the_sites_language():
    """mutmut runs the tests in its own order (fastest first), not file by file: a request of
    one test in English leaves English active in the thread for the next, which expects the
    site's language. Each test here starts in the site's language, as in a run of its file."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
