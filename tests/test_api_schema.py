"""Schemathesis against /api/v1/schema/, in-process through the WSGI application.

For every operation it generates requests from the schema — valid ones and,
separately, invalid ones — and checks that no answer is a 5xx and that every
answer conforms to the schema (status code documented, content type, headers,
body). It runs as district A's key on a small world; operations with an
``{id}`` are also run against a real record of district A, so that the
successful answers with real data are validated too. The number of examples
per operation is bounded so that the whole run stays well under two minutes.

(Schemathesis' own pytest integration does not run under pytest 9, so the
operations are driven here through its Python API with Hypothesis.)
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application
from tests.api_support import build_world

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}
REAL_IDS = {
    "districts": lambda w: w.district_a.pk,
    "streets": lambda w: w.a.street.pk,
    "buildings": lambda w: w.a.building.pk,
    "enterprises": lambda w: w.a.enterprise.pk,
    "party-organizations": lambda w: w.a.organization.pk,
    "party-members": lambda w: w.a.member.pk,
    "committees": lambda w: w.a.committee.pk,
    "stations": lambda w: w.a.station.pk,
    "spaces": lambda w: w.a.space.pk,
    "events": lambda w: w.a.event.pk,
    "bookings": lambda w: w.employee_booking.pk,
    "space-reservations": lambda w: w.a.reservation.pk,
}


@pytest.fixture
def keep_connection():
    """The WSGI handler closes the connection after each request; the test transaction must survive.

    (Django's test client disconnects the same signal handlers.)
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def no_throttling(settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "api_token": "100000/min",
            "api_user": "100000/min",
            "api_anon": "100000/min",
        },
    }
    yield
    cache.clear()


def run_operation(operation, strategy, headers: dict, examples: int, failures: list, succeeded: set) -> None:
    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case):
        # Not "positive_data_acceptance": a request can be valid by the schema and still be
        # refused with a documented 400 for a rule a schema cannot say (date_to before date_from,
        # an ordering field that does not exist).
        response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
        if 200 <= response.status_code < 300:
            succeeded.add(f"{operation.method.upper()} {operation.path}")

    try:
        check()
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
        failures.append(f"{operation.method.upper()} {operation.path}: {exc}")


def test_api_conforms_to_its_schema(keep_connection, no_throttling):
    world = build_world()
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    headers = {"Authorization": f"Token {world.key_a}"}
    failures: list[str] = []
    succeeded: set[str] = set()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode, examples in EXAMPLES.items():
            run_operation(
                operation, operation.as_strategy(generation_mode=mode), headers, examples, failures, succeeded
            )
        resource = operation.path.split("/")[3]
        if "{id}" in operation.path and resource in REAL_IDS:
            real = operation.as_strategy(path_parameters={"id": REAL_IDS[resource](world)})
            run_operation(operation, real, headers, EXAMPLES[GenerationMode.POSITIVE], failures, succeeded)
    assert operations >= 30, "every endpoint is in the schema"
    assert not failures, "\n\n".join(failures)
    # The run met real data, not only refusals: every list, detail and statistic answered 2xx.
    gets = {f"GET {op.path}" for op in (r.ok() for r in schema.get_all_operations()) if op.method == "get"}
    assert gets <= succeeded, sorted(gets - succeeded)


def test_schema_is_valid_openapi_without_warnings(tmp_path):
    """Every view, filter and serializer is understood by drf-spectacular (no guessed types)."""
    import yaml
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text(encoding="utf-8"))
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has a summary"
            for status in ("400", "401", "403", "404", "429"):
                assert status in operation["responses"], f"{method} {path} documents {status}"
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), f"{method} {path} ?{parameter['name']} is described"
    booking = schema["paths"]["/api/v1/events/{id}/bookings/"]["post"]["responses"]
    assert {"201", "409"} <= set(booking)
    assert "waitlist_full" in str(booking["409"])


@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_documentation_pages_work_offline(client, url):
    """Swagger UI and ReDoc come from drf-spectacular-sidecar's static files; no CDN, no web fonts."""
    import re

    from django.contrib.staticfiles import finders

    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"https?://", html) == []
    scripts = re.findall(r'src="/static/([^"]+)"', html)
    assert scripts and all(finders.find(path) for path in scripts)
