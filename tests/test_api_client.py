"""The OpenAPI schema as other software reads it (issue 15, item 11).

* openapi-spec-validator validates the schema served at /api/v1/schema/ (OpenAPI 3.0);
* the stricter rules of OpenAPI 3.0.3 it does not check: ``nullable`` only beside a ``type``;
* what client generators make names of is ASCII (the title: the package name; ``title``s of
  parameters and properties: class names), path ids are integers, and no operation documents
  a CSV answer a generated client would parse as JSON;
* the schema download's file name is ASCII, the 429 is in one language;
* slow: openapi-python-client generates a client from the served schema, pip installs it into
  a fresh virtual environment, and that client books and cancels against a live server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse
from openapi_spec_validator import OpenAPIV30SpecValidator, validate
from rest_framework.test import APIClient

from members.tokens import issue_token
from tests.members.factories import StaffUserFactory, UserFactory
from tests.services.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def walk(node, path="#"):
    """Every (path, dict) in the document's schemas (examples are data, not schema: left out)."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}/{index}")


def test_the_served_schema_is_valid_openapi_3_0(schema):
    validate(schema, cls=OpenAPIV30SpecValidator)


def test_nullable_only_beside_a_type(schema):
    """OpenAPI 3.0.3: ``nullable`` takes effect only with ``type`` in the same schema object;
    ``allOf: [ref]`` + ``nullable`` was read as "never null" (or refused) by strict readers."""
    bare = [path for path, node in walk(schema) if node.get("nullable") and "type" not in node]
    assert bare == []
    organizer = schema["components"]["schemas"]["Event"]["properties"]["organizer"]
    assert organizer["oneOf"][0] == {"$ref": "#/components/schemas/Ref"}
    assert organizer["oneOf"][1] == {"type": "object", "nullable": True, "enum": [None]}
    assert organizer["readOnly"] is True and "主办党组织" in organizer["description"]


def test_names_a_client_generator_uses_are_ascii_and_the_chinese_stays_for_people(schema):
    assert schema["info"]["title"] == "Building Party Portal API"
    assert schema["info"]["description"].startswith("**楼宇党建 API**")
    assert all(name.isascii() for name in schema["components"]["schemas"])
    titles = [(path, node["title"]) for path, node in walk(schema) if isinstance(node.get("title"), str)]
    assert [t for t in titles if not t[1].isascii()] == []
    for path, verbs in schema["paths"].items():
        assert path.isascii()
        for verb, operation in verbs.items():
            assert operation["operationId"].isascii(), (verb, path)
            assert all(tag.isascii() for tag in operation.get("tags", []))
            for parameter in operation.get("parameters", []):
                assert parameter["name"].isascii()
    status = next(p for p in schema["paths"]["/api/v1/events/"]["get"]["parameters"] if p["name"] == "status")
    assert status["description"].startswith("状态")  # the label, for people


def test_ids_in_paths_are_integers(schema):
    ids = [
        parameter["schema"]
        for verbs in schema["paths"].values()
        for operation in verbs.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    ]
    assert len(ids) >= 15
    assert all(s == {"type": "integer", "minimum": 1} for s in ids), ids


def test_no_operation_documents_a_csv_answer_but_lists_still_export_csv(schema, client):
    for path, verbs in schema["paths"].items():
        for verb, operation in verbs.items():
            for status, response in operation["responses"].items():
                assert set(response.get("content", {})) <= {"application/json"}, (verb, path, status)
            assert "format" not in {p["name"] for p in operation.get("parameters", [])}, (verb, path)
    listing = schema["paths"]["/api/v1/events/"]["get"]
    assert "?format=csv" in listing["description"]
    client.force_login(StaffUserFactory(is_superuser=True))
    EventFactory()
    response = client.get(reverse("api:event-list"), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def test_the_schema_download_has_an_ascii_file_name(client):
    for params, name in [
        ({}, "Building Party Portal API.yaml"),
        ({"format": "json"}, "Building Party Portal API.json"),
    ]:
        response = client.get(reverse("api:schema"), params)
        disposition = response["Content-Disposition"]
        assert disposition.isascii() and "=?utf-8?" not in disposition
        assert disposition == f'inline; filename="{name}"'
    docs = client.get(reverse("api:docs"))
    assert "<title>楼宇党建 API</title>" in docs.content.decode()


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "请求过于频繁，请 {} 秒后再试。"), ("en", "Too many requests; try again in {} seconds.")],
)
def test_the_429_message_is_in_one_language(settings, language, expected):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "1/min", "api_user": "1000/min", "api_anon": "1000/min"},
    }
    _token, key = issue_token(user=StaffUserFactory(), name="限速")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE=language)
    assert client.get(reverse("api:event-list")).status_code == 200
    response = client.get(reverse("api:event-list"))
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert response.json() == {"code": "throttled", "detail": expected.format(wait)}
    cache.clear()


# --- a generated client, installed and used ------------------------------------------------------

CLIENT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from building_party_portal_api_client import AuthenticatedClient
    from building_party_portal_api_client.api.bookings import bookings_cancel_create, bookings_list
    from building_party_portal_api_client.api.events import (
        events_bookings_create, events_list, events_retrieve,
    )
    from building_party_portal_api_client.models import Booking, Event, PaginatedEventList

    base_url, key, event_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = AuthenticatedClient(base_url=base_url, token=key, prefix="Token", raise_on_unexpected_status=True)
    page = events_list.sync(client=client)
    assert isinstance(page, PaginatedEventList), page
    event = events_retrieve.sync(id=event_id, client=client)
    assert isinstance(event, Event), event
    booked = events_bookings_create.sync(id=event_id, client=client)
    assert isinstance(booked, Booking), booked
    cancelled = bookings_cancel_create.sync(id=booked.id, client=client)
    assert isinstance(cancelled, Booking), cancelled
    mine = bookings_list.sync(client=client)
    print(json.dumps({
        "events": [e.id for e in page.results],
        "organizer": None if event.organizer is None else event.organizer.name,
        "booked": [booked.id, str(booked.status)],
        "cancelled": [cancelled.id, str(cancelled.status)],
        "mine": [(b.id, str(b.status)) for b in mine.results],
    }))
    """
)


@pytest.mark.slow
def test_a_generated_client_installs_with_pip_and_books_and_cancels(live_server, transactional_db, tmp_path):
    bin_dir = Path(sys.executable).parent
    generator = bin_dir / "openapi-python-client"
    if not generator.exists():
        pytest.skip("openapi-python-client is not installed (the dev extra)")
    employee = UserFactory()
    _token, key = issue_token(user=employee, name="客户端")
    event = EventFactory(organizer=None, title="生成的客户端来预约")
    import urllib.request

    with urllib.request.urlopen(f"{live_server.url}/api/v1/schema/?format=json") as answer:
        (tmp_path / "schema.json").write_bytes(answer.read())
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [str(generator), "generate", "--path", "schema.json", "--meta", "setup"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    project = tmp_path / "building-party-portal-api-client"
    assert project.is_dir(), sorted(p.name for p in tmp_path.iterdir())
    # A fresh virtual environment; the client's own dependencies (httpx, attrs) come from ours,
    # so nothing is downloaded: pip installs the generated package itself.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "dev-venv.pth").write_text("\n".join(ours) + "\n")
    installed = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            str(project),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    run = subprocess.run(
        [str(python), "-c", CLIENT_SCRIPT, live_server.url, key, str(event.pk)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path / "venv",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert event.pk in result["events"] and result["organizer"] is None
    assert result["booked"][1] == "confirmed" and result["cancelled"] == [result["booked"][0], "cancelled"]
    assert result["mine"] == [[result["booked"][0], "cancelled"]]
