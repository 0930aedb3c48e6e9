"""The REST API against its own OpenAPI schema (/api/v1/schema/), in-process.

* Schemathesis, through the WSGI application: for every operation it generates
  requests from the schema — valid ones and, separately, invalid ones — and checks
  that no answer is a 5xx and that every answer conforms to the schema (status code
  documented, content type, headers, body). It runs as district A's key with the
  most examples, and again, with fewer, as the superuser (everything visible, no
  narrowing) and as an employee (the public lists); operations with an ``{id}``
  are also run against a real record of district A, so that the successful answers
  with real data are validated too.
* Deterministic sweeps, generated from the schema, so that the classes of input
  random generation rarely meets are tried every time on every operation: every
  query parameter with a NUL character (a 400 naming it), extreme dates (0001-01-01,
  9999-12-31: valid, so 200; 10000-01-01: a 400), huge and malformed numbers, over-long
  strings; ids at the ends of the range in paths; NUL characters in request bodies.
* The schema: valid without warnings, every operation summarised and described,
  every answer (2xx and 400/401/403/404/409/429) with an example that matches its
  schema.
* The documentation pages (Swagger UI and ReDoc under /api/v1/docs/) work offline and
  link to each other.

(Schemathesis' own pytest integration does not run under pytest 9, so the
operations are driven here through its Python API with Hypothesis.)
"""

from __future__ import annotations

import copy
import functools
import json
import re

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from config.wsgi import application
from tests.api_support import build_world, client_for

pytestmark = [pytest.mark.django_db]

# Examples per operation and generation mode. District A's key gets the most: it has a
# territory to narrow to, writes, and the full set of filters. The superuser and the
# employee passes are shorter; the sweeps below cover the extreme values deterministically.
EXAMPLES = {
    "token_a": {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10},
    "superuser": {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3},
    "employee": {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3},
}
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
    "demands": lambda w: w.a.demand.pk,
    "visits": lambda w: w.a.visit.pk,
    "committee-meetings": lambda w: w.a.meeting.pk,
    "partners": lambda w: w.a.partner.pk,
    "enterprise-risk": lambda w: w.a.enterprise.pk,
    "agreements": lambda w: w.a.agreement.pk,
}
# What employees may read (the rest answers them 403 before any parameter is looked at).
EMPLOYEE_RESOURCES = {"stations", "spaces", "events", "bookings"}
NUL = "a\x00b"


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


@functools.cache
def openapi() -> dict:
    """The schema as /api/v1/schema/ serves it (postprocessing hooks included)."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def operations(method: str | None = None) -> list[tuple[str, str, dict]]:
    return [
        (path, verb, operation)
        for path, verbs in openapi()["paths"].items()
        for verb, operation in verbs.items()
        if method is None or verb == method
    ]


def resource_of(path: str) -> str:
    return path.split("/")[3]


# --- Schemathesis -------------------------------------------------------------------------------


def auth_headers(world, actor: str) -> dict:
    """District A's key, or a session cookie (read-only use: it carries no CSRF token)."""
    from django.conf import settings as django_settings
    from django.test import Client

    if actor == "token_a":
        return {"Authorization": f"Token {world.key_a}"}
    browser = Client()
    browser.force_login(getattr(world, actor))
    cookie = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    return {"Cookie": f"{django_settings.SESSION_COOKIE_NAME}={cookie}"}


def run_operation(
    operation, strategy, headers, examples, excluded, failures, succeeded, negative=False
) -> None:
    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case):
        response = case.call_and_validate(headers=headers, excluded_checks=excluded)
        if 200 <= response.status_code < 300:
            succeeded.add(f"{operation.method.upper()} {operation.path}")

    try:
        check()
    except Unsatisfiable:
        # Only where nothing can be made invalid: the negative cases of an operation whose
        # parameters take anything (stats/community: none but the format). Positive cases still run.
        if negative:
            return
        failures.append(f"{operation.method.upper()} {operation.path}: no case could be generated")
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
        failures.append(f"{operation.method.upper()} {operation.path}: {exc}")


@pytest.mark.slow
@pytest.mark.parametrize("actor", list(EXAMPLES))
def test_api_conforms_to_its_schema(keep_connection, no_throttling, actor):
    world = build_world()
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    headers = auth_headers(world, actor)
    # Not "positive_data_acceptance": a request can be valid by the schema and still be
    # refused with a documented 400 for a rule a schema cannot say (date_to before date_from,
    # an ordering field that does not exist). The probes without credentials run once, with
    # the key; the permission matrix (tests/test_api_permissions.py) covers anonymous callers.
    excluded = [positive_data_acceptance] if actor == "token_a" else [positive_data_acceptance, ignored_auth]
    failures: list[str] = []
    succeeded: set[str] = set()
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        resource = resource_of(operation.path)
        if actor == "employee" and resource not in EMPLOYEE_RESOURCES:
            continue
        if actor != "token_a" and operation.method != "get":
            continue  # sessions would need CSRF tokens; district A's key does the writes
        ran += 1
        for mode, examples in EXAMPLES[actor].items():
            strategy = operation.as_strategy(generation_mode=mode)
            negative = mode == GenerationMode.NEGATIVE
            run_operation(operation, strategy, headers, examples, excluded, failures, succeeded, negative)
        if "{id}" in operation.path and resource in REAL_IDS:
            real = operation.as_strategy(path_parameters={"id": REAL_IDS[resource](world)})
            examples = EXAMPLES[actor][GenerationMode.POSITIVE] // 2
            run_operation(operation, real, headers, examples, excluded, failures, succeeded)
    assert ran >= (8 if actor == "employee" else 20), "the operations were found in the schema"
    assert not failures, "\n\n".join(failures)
    if actor == "token_a":
        # The run met real data, not only refusals: every list, detail and statistic answered 2xx.
        gets = {f"GET {path}" for path, _verb, _op in operations("get")}
        assert gets <= succeeded, sorted(gets - succeeded)


# --- Deterministic sweeps: the inputs random generation rarely meets ---------------------------


def odd_values(parameter: dict) -> list[tuple[str, str]]:
    """(value, what it is) for one query parameter, by its type in the schema."""
    schema = parameter.get("schema", {})
    kind, fmt = schema.get("type"), schema.get("format")
    items = schema.get("items", {})
    # "²" passes str.isdigit() but not int(): it once reached a lookup by id.
    values = [(NUL, "nul"), ("²", "odd")]
    if fmt == "date":
        values += [
            ("0001-01-01", "valid"),
            ("9999-12-31", "valid"),
            ("10000-01-01", "odd"),
            ("2026-02-30", "odd"),
        ]
    elif kind == "integer":
        values += [("0", "odd"), (str(2**63), "odd"), (str(10**40), "odd")]
    elif kind == "array" and items.get("type") == "integer":
        values += [(",".join(["1"] * 101), "odd"), ("1,,2", "odd"), (str(10**40), "odd")]
    elif kind == "boolean":
        values += [("maybe", "odd"), ("", "valid")]
    elif kind == "string" and not schema.get("enum"):
        values += [("x" * 3000, "odd"), ("%", "odd")]
    return values


def query_cases() -> list[tuple[str, dict, str]]:
    """(path, params, what) for every GET operation: one odd value at a time, and extreme date ranges."""
    cases = []
    for path, _verb, operation in operations("get"):
        parameters = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        for parameter in parameters:
            for value, what in odd_values(parameter):
                cases.append((path, {parameter["name"]: value}, what))
        names = {p["name"] for p in parameters if p.get("schema", {}).get("format") == "date"}
        for start in sorted(name for name in names if name.endswith("_from")):
            end = start.removesuffix("_from") + "_to"
            if end in names:
                for low, high in [("0001-01-01", "0001-01-01"), ("9999-12-31", "9999-12-31")]:
                    cases.append((path, {start: low, end: high}, "valid"))
                cases.append((path, {start: "0001-01-01", end: "9999-12-31"}, "valid"))
    return cases


def concrete(path: str, world) -> str:
    resource = resource_of(path)
    return path.replace("{id}", str(REAL_IDS[resource](world))) if "{id}" in path else path


@pytest.mark.parametrize("actor", ["employee", "token_a", "superuser"])
def test_every_query_parameter_takes_odd_values_without_a_server_error(world, no_throttling, actor):
    """Never a 5xx; a NUL is a 400 naming the parameter; 0001-01-01 and 9999-12-31 are plain dates.

    (9999-12-31 as an end date once overflowed "the day after"; a NUL reached PostgreSQL
    through a lookup by name.) Generated from the schema: a new parameter is swept too.
    """
    client = client_for(world, actor)
    problems = []
    cases = query_cases()
    assert len(cases) > 400, "the sweep found the operations and their parameters"
    for path, params, what in cases:
        if actor == "employee" and resource_of(path) not in EMPLOYEE_RESOURCES:
            continue
        response = client.get(concrete(path, world), params)
        status = response.status_code
        name = next(iter(params))
        shown = {key: value[:40] for key, value in params.items()}
        if status >= 500:
            problems.append(f"{path} {shown!r}: {status}")
        elif what == "nul" and name != "format" and status != 400:
            problems.append(f"{path} {shown!r}: {status}, expected 400")
        elif what == "valid" and status != 200:
            problems.append(f"{path} {shown!r}: {status}, expected 200: {response.content[:200]!r}")
        elif status == 400 and not set(params) & set(response.json()):
            problems.append(f"{path} {shown!r}: 400 without a field error: {response.content[:200]!r}")
    assert not problems, "\n".join(problems)


def test_ids_at_the_ends_of_the_range_are_404(world, no_throttling):
    client = client_for(world, "superuser")
    problems = []
    for path, verb, _operation in operations():
        if "{id}" not in path:
            continue
        for value in ("0", str(2**63), str(10**40), "0" * 30 + "1"):
            url = path.replace("{id}", value)
            response = client.generic(verb.upper(), url, "{}", content_type="application/json")
            if response.status_code != 404 and not (value.endswith("1") and response.status_code < 500):
                problems.append(f"{verb.upper()} {url}: {response.status_code}")
    assert not problems, "\n".join(problems)


def test_nul_characters_in_request_bodies_are_field_errors(world, no_throttling):
    """Every string property of every request body, one at a time: a 400 naming it."""
    schemas = openapi()["components"]["schemas"]
    client = client_for(world, "token_a")
    problems = []
    for path, verb, operation in operations():
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        schema = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]]
        for name, prop in schema.get("properties", {}).items():
            if prop.get("type") != "string" or prop.get("format"):
                continue
            url = concrete(path, world)
            response = client.generic(
                verb.upper(), url, json.dumps({name: NUL}), content_type="application/json"
            )
            if response.status_code != 400 or name not in response.json():
                problems.append(
                    f"{verb.upper()} {path} {name}: {response.status_code} {response.content[:200]!r}"
                )
    assert not problems, "\n".join(problems)


def test_write_bodies_are_json_only(world, no_throttling):
    """A form-encoded PATCH with an empty credit code was answered 200 and changed nothing."""
    url = f"/api/v1/enterprises/{world.a.enterprise.pk}/"
    client = client_for(world, "token_a")
    for body, content_type in [
        ("credit_code=", "application/x-www-form-urlencoded"),
        (
            '--b\r\nContent-Disposition: form-data; name="credit_code"\r\n\r\n\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
        ),
    ]:
        response = client.generic("PATCH", url, body, content_type=content_type)
        assert response.status_code == 415, (content_type, response.content)
        assert response.json()["code"] == "unsupported_media_type"
    response = client.patch(url, {"credit_code": ""}, format="json")
    assert response.status_code == 400 and "credit_code" in response.json()
    assert "multipart/form-data" not in str(openapi()["paths"]["/api/v1/enterprises/{id}/"]["patch"])


@pytest.fixture
def world():
    return build_world()


# --- The schema ---------------------------------------------------------------------------------


def test_schema_is_valid_openapi_without_warnings(tmp_path):
    """Every view, filter and serializer is understood by drf-spectacular (no guessed types)."""
    import yaml
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text(encoding="utf-8"))
    for path, verbs in schema["paths"].items():
        for method, operation in verbs.items():
            assert operation.get("summary"), f"{method} {path} has a summary"
            for status in ("400", "401", "403", "404", "429"):
                assert status in operation["responses"], f"{method} {path} documents {status}"
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), f"{method} {path} ?{parameter['name']} is described"
    booking = schema["paths"]["/api/v1/events/{id}/bookings/"]["post"]["responses"]
    assert {"201", "409"} <= set(booking)
    assert "waitlist_full" in str(booking["409"])


ERROR_STATUSES = {"400", "401", "403", "404", "409", "429"}


def _json_schema(node):
    """OpenAPI 3.0 schema → JSON Schema: ``nullable`` as a null alternative; objects closed.

    Closed objects (no properties beyond those declared) catch an example that names a
    field the serializer does not have.
    """
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key == "properties":
            result[key] = {name: _json_schema(sub) for name, sub in value.items()}
        elif key in {"enum", "required", "example", "default"}:
            result[key] = value
        else:
            result[key] = _json_schema(value)
    if "properties" in result and "additionalProperties" not in result:
        result["additionalProperties"] = False
    if result.pop("nullable", False):
        return {"anyOf": [result, {"type": "null"}]}
    return result


def example_validator(schema: dict):
    import jsonschema

    components = {name: _json_schema(sub) for name, sub in openapi()["components"]["schemas"].items()}
    root = {"allOf": [_json_schema(schema)], "components": {"schemas": components}}
    return jsonschema.Draft202012Validator(root)


def test_every_answer_has_an_example_that_matches_its_schema():
    """Each operation's 2xx and error answers carry examples, and each example fits its schema."""
    missing, wrong = [], []
    for path, verb, operation in operations():
        answers = operation["responses"]
        assert any(code.startswith("2") for code in answers), f"{verb} {path} documents its success"
        for code, answer in answers.items():
            if not (code.startswith("2") or code in ERROR_STATUSES):
                continue
            content = answer.get("content", {}).get("application/json")
            if content is None:
                if code != "204":
                    missing.append(f"{verb.upper()} {path} {code}: no JSON content")
                continue
            examples = content.get("examples") or {}
            if not examples:
                missing.append(f"{verb.upper()} {path} {code}")
            validator = example_validator(content["schema"])
            for name, example in examples.items():
                for error in validator.iter_errors(example["value"]):
                    wrong.append(f"{verb.upper()} {path} {code} example {name!r}: {error.message[:200]}")
    assert not missing, "answers without an example:\n" + "\n".join(missing)
    assert not wrong, "examples that do not match their schema:\n" + "\n".join(wrong[:40])


def test_example_check_catches_a_wrong_example():
    """The check above can fail: a missing field, a wrong type, an unknown field are caught."""
    from core.api import examples as ex

    schema = {"$ref": "#/components/schemas/Building"}
    assert not list(example_validator(schema).iter_errors(ex.BUILDING))
    for broken in (
        {k: v for k, v in ex.BUILDING.items() if k != "name"},
        {**ex.BUILDING, "floors": "many"},
        {**ex.BUILDING, "colour": "red"},
    ):
        assert list(example_validator(schema).iter_errors(copy.deepcopy(broken)))


def test_every_filterset_refuses_nul_and_scopes_its_ids():
    """The API's filtersets derive from the shared base (NUL refused, related ids scoped)."""
    from config.api_urls import urlpatterns
    from core.filters import FilterSet

    found = set()
    for pattern in urlpatterns:
        view = getattr(pattern.callback, "cls", None)
        filterset = getattr(view, "filterset_class", None)
        if filterset is not None:
            found.add(filterset)
            assert issubclass(filterset, FilterSet), filterset
    assert len(found) >= 12


# --- Documentation pages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "other"),
    [
        ("/api/v1/docs/", "/api/v1/docs/redoc/"),
        ("/api/v1/docs/redoc/", "/api/v1/docs/"),
        ("/api/v1/redoc/", "/api/v1/docs/"),
    ],
)
def test_documentation_pages_work_offline_and_link_to_each_other(client, url, other):
    """Swagger UI and ReDoc come from drf-spectacular-sidecar's static files; no CDN, no web fonts."""
    from django.contrib.staticfiles import finders

    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"https?://", html) == []
    scripts = re.findall(r'src="/static/([^"]+)"', html)
    assert scripts and all(finders.find(path) for path in scripts)
    assert f'href="{other}"' in html
    assert 'href="/api/v1/schema/"' in html
