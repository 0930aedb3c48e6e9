import pytest

from members.models import PartyMember
from tests.members.factories import PartyOrganizationFactory
from tests.spreadsheet_support import ORGANIZATION, import_file, preview, sample

pytestmark = pytest.mark.django_db


def test_smoke(street_a, social_worker):
    PartyOrganizationFactory(street=street_a, name=ORGANIZATION)
    job = preview(
        user=social_worker,
        model="members.partymember",
        name="members-errors.xlsx",
        data=sample("members-errors.xlsx"),
    )
    print(job.status, job.message, job.report["rows"][:4])
    assert job.invalid_count == 3
    job = import_file(
        user=social_worker, model="members.partymember", name="m.xlsx", data=sample("members-valid.xlsx")
    )
    print(job.status, job.message, job.new_count)
    assert PartyMember.objects.count() == 10
    job = import_file(
        user=social_worker, model="members.partymember", name="m.xlsx", data=sample("members-valid.xlsx")
    )
    assert job.unchanged_count == 10, job.report
