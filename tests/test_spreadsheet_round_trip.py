"""Export → import changes nothing, for every model with a spreadsheet resource (swept from
``core.spreadsheets.registry``): the export's columns are the template's, each cell reads back
as the value it was written from, rows match their records by natural key, and nothing is
saved — no field, no ``updated_at``, no history row. A resource registered without a builder
here fails (partners, demands: add one line)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from pghistory.models import Events

from core.spreadsheets.registry import registered
from core.spreadsheets.writer import export_response
from tests.buildings.factories import BuildingFactory, EnterpriseFactory
from tests.committees.factories import CommitteeSeatFactory
from tests.members.factories import PartyMemberFactory, PartyOrganizationFactory
from tests.services.factories import EventFactory
from tests.spreadsheet_support import import_file, read_xlsx

pytestmark = pytest.mark.django_db


def _orgs(street):
    building = BuildingFactory(street=street)
    enterprise = EnterpriseFactory(building=building)
    parent = PartyOrganizationFactory(street=street)
    child = PartyOrganizationFactory(street=street, parent=parent, enterprise=enterprise)
    child.buildings.set([building, BuildingFactory(street=street)])
    return [parent, child]


def _members(street):
    organization = PartyOrganizationFactory(street=street)
    enterprise = EnterpriseFactory(building__street=street)
    return [
        PartyMemberFactory(organization=organization, enterprise=enterprise),
        PartyMemberFactory(organization=organization, enterprise=None, is_mobile=True),
    ]


def _seats(street):
    member = PartyMemberFactory(organization=PartyOrganizationFactory(street=street))
    seat = CommitteeSeatFactory(committee__building__street=street, member=member)
    return [seat, CommitteeSeatFactory(committee=seat.committee, role="floor_representative", floor=3)]


def _events(street):
    starts = (timezone.now() + datetime.timedelta(days=3)).replace(second=0, microsecond=0)
    first = EventFactory(space__station__building__street=street, starts_at=starts)
    organizer = PartyOrganizationFactory(street=street)
    return [
        first,
        EventFactory(space=first.space, starts_at=starts + datetime.timedelta(hours=3), organizer=organizer),
    ]


BUILDERS = {
    "buildings.building": lambda street: [BuildingFactory(street=street), BuildingFactory(street=street)],
    "buildings.enterprise": lambda street: [EnterpriseFactory(building__street=street) for _ in range(2)],
    "members.partyorganization": _orgs,
    "members.partymember": _members,
    "committees.committeeseat": _seats,
    "services.event": _events,
}


def test_every_resource_has_a_round_trip_case():
    assert sorted(registered()) == sorted(BUILDERS)


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
@pytest.mark.parametrize("label", sorted(registered()))
def test_export_then_import_changes_nothing(label, file_format, social_worker, street_a):
    social_worker.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    social_worker = type(social_worker).objects.get(pk=social_worker.pk)  # fresh permission cache
    resource_class = registered()[label]
    model = resource_class._meta.model
    records = BUILDERS[label](street_a)
    queryset = model.objects.filter(pk__in=[r.pk for r in records])
    response = export_response(
        resource_class(user=social_worker), queryset, file_format=file_format, basename="x"
    )
    data = b"".join(response.streaming_content) if response.streaming else response.content
    if file_format == "xlsx":
        assert read_xlsx(data)[0] == resource_class(user=social_worker).headers()
    stored = list(model.objects.filter(pk__in=queryset).order_by("pk").values())
    history, count = Events.objects.count(), model.objects.count()
    job = import_file(user=social_worker, model=label, name=f"export.{file_format}", data=data)
    assert (job.unchanged_count, job.new_count, job.changed_count, job.invalid_count) == (2, 0, 0, 0), (
        job.report
    )
    assert list(model.objects.filter(pk__in=queryset).order_by("pk").values()) == stored
    assert model.objects.count() == count
    assert Events.objects.count() == history
