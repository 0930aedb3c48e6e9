"""Every CSV the portal writes is formula-safe (core.csv), swept over every export there is.

Generated, so a new export is covered without a line here:

* every text field of every row of every model of the portal's apps holds a hostile value
  (``=``, ``+``, ``-``, ``@``, tab, CR, LF, their full-width and small forms, and blanks —
  a space, U+3000 — before the sign);
* every admin's CSV export action (the admin site's registry) and every API list with
  ``?format=csv`` (the ``api`` URL namespace, statistics included) is fetched as a
  superuser, and no cell of any of them could start a formula in a spreadsheet;
* nothing outside ``core/csv.py`` writes CSV or spreadsheets (the sources are read), so a
  new export cannot bypass the one writer.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import DatabaseError, models, transaction
from django.db.models import Value
from django.db.models.functions import Cast, Concat
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from core.csv import safe_cell
from core.notifications import outbox
from members.models import MemberTransfer
from services.notifications import Kind
from tests.api_support import build_world
from tests.core.factories import ImportJobFactory
from tests.members.factories import MemberLinkRequestFactory

pytestmark = pytest.mark.django_db

PORTAL_APPS = ("notifications", "buildings", "members", "committees", "services")
# What a spreadsheet runs: a sign (or its full-width / small form), a control character,
# or a sign behind blanks it trims on import.
HOSTILE = [
    '=HYPERLINK("http://x")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(1)",
    " =1+1",
    "\u3000=1+1",
    "﹦1+1",
]


def runs_as_formula(cell: str) -> bool:
    """An independent reading of what spreadsheets do (not core.csv's code)."""
    if not cell or cell.startswith("'") or re.fullmatch(r"[-+]?[0-9]+(\.[0-9]+)?", cell):
        return False
    if cell[0] in "\t\r\n":
        return True
    stripped = cell.lstrip()
    return bool(stripped) and unicodedata.normalize("NFKC", stripped[0]) in "=+-@"


def portal_models() -> list:
    return [m for m in apps.get_models() if m._meta.app_label in PORTAL_APPS and not m._meta.proxy]


def make_everything_hostile() -> list[str]:
    """Every free-text field of every row gets a hostile value (unique per row); returns the fields done."""
    done = []
    n = 0
    for model in portal_models():
        for field in model._meta.concrete_fields:
            if (
                not isinstance(field, models.CharField | models.TextField)
                or field.choices
                or field.primary_key
            ):
                continue
            prefix = HOSTILE[n % len(HOSTILE)]
            n += 1
            if field.max_length is not None and field.max_length < len(prefix) + 8:
                continue
            value = Concat(Value(prefix + "#"), Cast("pk", models.CharField()))
            try:
                with transaction.atomic():
                    model._base_manager.update(**{field.attname: value})
            except DatabaseError:
                continue  # a format the database enforces (phones, ID numbers, key digests): never text
            done.append(f"{model._meta.label}.{field.name}")
    return done


@pytest.fixture
def world():
    w = build_world()
    MemberLinkRequestFactory(user=w.employee, member=w.a.member)
    MemberTransfer.objects.create(
        member=w.a.member,
        direction=MemberTransfer.Direction.OUT,
        from_organization=w.a.organization,
        external_organization="外省某党支部",
        requested_on=timezone.localdate(),
    )
    outbox.write(
        [
            outbox.row(
                recipient_id=w.employee_booking.user_id,
                kind=Kind.BOOKING_CONFIRMED,
                cause=f"booking:{w.employee_booking.pk}",
                due_at=timezone.now(),
                subject=w.employee_booking,
                street_id=w.a.street.pk,
                topic=f"event:{w.employee_booking.event_id}",
            )
        ]
    )
    ImportJobFactory()  # the import log exports too
    # The committee's work: one row of each kind (demands and visits are in build_world()).
    from tests.committees.factories import (
        CommitteeMeetingFactory,
        DemandAttachmentFactory,
        DemandStepFactory,
        EnterpriseContactFactory,
        MeetingResolutionFactory,
    )

    EnterpriseContactFactory(enterprise=w.a.enterprise)
    DemandStepFactory(demand=w.a.demand)
    DemandAttachmentFactory(demand=w.a.demand)
    MeetingResolutionFactory(meeting=CommitteeMeetingFactory(committee=w.a.committee), demand=w.a.demand)
    # the building-and-community records (issue 17), one of each, in street a
    from tests.committees.factories import AgreementCommitmentFactory
    from tests.members.factories import HomeRegistrationFactory
    from tests.services.factories import HoursCorrectionFactory, PairingFactory

    HomeRegistrationFactory(member=w.a.member, partner=w.a.partner)
    PairingFactory(partner=w.a.partner)
    HoursCorrectionFactory(record__booking__event__space__station__partner=w.a.partner)
    AgreementCommitmentFactory(agreement=w.a.agreement)
    # the risk colour override (issue 16)
    from tests.committees.factories import EnterpriseRiskOverrideFactory

    EnterpriseRiskOverrideFactory(enterprise=w.a.enterprise)
    fields = make_everything_hostile()
    return w, fields


def read_cells(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def unsafe_cells(rows: list[list[str]]) -> list[str]:
    return [cell for row in rows for cell in row if runs_as_formula(cell)]


#: exports without free text (months, kinds, counts): nothing hostile can reach them
NUMBERS_ONLY = {"stats-activity", "stats-community"}


def api_csv_routes() -> list[str]:
    """URL names of every API list (router "-list" routes) and every other data view (statistics)."""
    [api] = [p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "api"]
    names = []
    for pattern in api.url_patterns:
        if not isinstance(pattern, URLPattern) or not pattern.name:
            continue
        view = getattr(pattern.callback, "cls", None)
        if view is None or view.__module__.startswith("drf_spectacular"):
            continue  # the schema and its documentation pages hold no data
        actions = getattr(pattern.callback, "actions", None)
        if actions is None or actions.get("get") == "list":
            names.append(pattern.name)
    return sorted(names)


def exporting_admins() -> list:
    return sorted(
        (
            (model, model_admin)
            for model, model_admin in admin.site._registry.items()
            if hasattr(model_admin, "export_csv")
        ),
        key=lambda item: item[0]._meta.label,
    )


def test_the_world_is_hostile_where_it_matters(world):
    _w, fields = world
    for expected in (
        "buildings.Building.name",
        "buildings.Enterprise.name",
        "members.PartyOrganization.name",
        "members.PartyMember.name",
        "members.User.username",
        "committees.CommitteeSeat.person_name",
        "services.Event.title",
        "services.Space.name",
        "notifications.Outbox.cause",
    ):
        assert expected in fields


def test_every_api_list_and_statistic_is_swept():
    names = api_csv_routes()
    assert {
        "building-list",
        "party-organization-list",
        "party-member-list",
        "event-list",
        "booking-list",
    } <= set(names)
    assert {"stats-coverage", "stats-activity"} <= set(names)


@pytest.mark.parametrize("name", api_csv_routes())
def test_api_csv_runs_no_formula(world, superuser, name):
    client = Client()
    client.force_login(superuser)
    response = client.get(reverse(f"api:{name}"), {"format": "csv"})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = read_cells(body.decode("utf-8"))
    assert len(rows) > 1
    assert unsafe_cells(rows) == []
    guarded = [cell for row in rows[1:] for cell in row if cell.startswith("'")]
    if name in NUMBERS_ONLY:
        assert guarded == []
    else:
        assert guarded, "the hostile text reached this export (else the sweep proves nothing)"


def test_admin_csv_exports_run_no_formula(world, superuser):
    client = Client()
    client.force_login(superuser)
    swept = []
    for model, _model_admin in exporting_admins():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.post(
            url, {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": ["0"]}
        )
        assert response.status_code == 200, (model, response.status_code)
        assert response["Content-Type"].startswith("text/csv"), model
        rows = read_cells(b"".join(response.streaming_content).decode("utf-8"))
        assert len(rows) > 1, f"{model._meta.label}: the export has rows"
        assert unsafe_cells(rows) == [], model._meta.label
        assert any(cell.startswith("'") for row in rows[1:] for cell in row), model._meta.label
        swept.append(model._meta.label)
    # Every portal admin exports (ScopedAdmin gives each one the action).
    assert {"members.PartyMember", "members.User", "services.Booking", "notifications.Outbox"} <= set(swept)
    assert len(swept) >= 17


@pytest.mark.parametrize("text", HOSTILE)
def test_the_guard_on_each_hostile_start(text):
    assert runs_as_formula(text)
    assert not runs_as_formula(safe_cell(text))


@pytest.mark.parametrize("text", ["-1", "+86", "3.14", "张三", "a=b", "", "'=x", "1e5", "13912345678"])
def test_plain_text_and_numbers_are_kept(text):
    assert safe_cell(text) == text


WRITES_SPREADSHEETS = re.compile(r"csv\.(writer|DictWriter)\(|text/csv|openpyxl|xlsxwriter|xlwt")
ONE_WRITER = {
    "core/csv.py",  # the writer
    "core/api/renderers.py",  # the renderer that hands rows to it
    "core/spreadsheets/writer.py",  # .xlsx: every cell through core.csv.cell_text and safe_cell
    "core/spreadsheets/files.py",  # reads uploaded files only
    "core/api/schema.py",  # takes text/csv out of the OpenAPI operations (writes nothing)
}
SOURCES = ("core", "buildings", "members", "committees", "services", "demo", "config", "scripts")


def test_nothing_else_writes_csv_or_spreadsheets():
    root = Path(settings.BASE_DIR)
    offenders = []
    for top in SOURCES:
        for path in (root / top).rglob("*.py"):
            relative = path.relative_to(root).as_posix()
            if "/migrations/" in relative or relative in ONE_WRITER:
                continue
            if WRITES_SPREADSHEETS.search(path.read_text(encoding="utf-8")):
                offenders.append(relative)
    assert offenders == []
