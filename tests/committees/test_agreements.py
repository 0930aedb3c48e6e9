"""Co-building agreements (committees.Agreement) and their end reminder (committees/notifications.py).

An active agreement ending within 30 days reminds each social worker of the partner's street
once, however often the scan runs; drafts and ended agreements remind nobody; the DB refuses
an agreement that ends before it starts.
"""

import datetime

import pytest
from django.db import IntegrityError, transaction

from committees.models import Agreement
from committees.notifications import AGREEMENT_ENDING, enqueue_agreement_reminders
from core.notifications import registry
from core.notifications.models import Outbox
from core.scoping import scope_queryset
from tests.buildings.factories import PartnerFactory, StreetFactory
from tests.committees.factories import AgreementCommitmentFactory, AgreementFactory, BuildingCommitteeFactory
from tests.members.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 12, 7)


def agreement_ending_in(days, **kwargs):
    return AgreementFactory(
        starts_on=TODAY - datetime.timedelta(days=300),
        ends_on=TODAY + datetime.timedelta(days=days),
        **kwargs,
    )


def test_reminder_once_per_social_worker_of_the_partner_street():
    agreement = agreement_ending_in(20)
    street = agreement.partner.street
    workers = [StaffUserFactory(streets=[street]), StaffUserFactory(streets=[street])]
    StaffUserFactory(streets=[StreetFactory()])  # another street's worker
    with transaction.atomic():
        assert enqueue_agreement_reminders(today=TODAY) == 2
    with transaction.atomic():
        assert enqueue_agreement_reminders(today=TODAY + datetime.timedelta(days=1)) == 0
    rows = Outbox.objects.filter(kind=AGREEMENT_ENDING)
    assert sorted(rows.values_list("recipient_id", flat=True)) == sorted(w.pk for w in workers)
    assert {r.subject for r in rows} == {agreement}


@pytest.mark.parametrize(
    ("days", "status"),
    [
        (45, Agreement.Status.ACTIVE),
        (20, Agreement.Status.DRAFT),
        (20, Agreement.Status.ENDED),
        (-1, Agreement.Status.ACTIVE),
    ],
)
def test_no_reminder_outside_the_window_or_when_not_active(days, status):
    agreement = agreement_ending_in(days, status=status)
    StaffUserFactory(streets=[agreement.partner.street])
    with transaction.atomic():
        assert enqueue_agreement_reminders(today=TODAY) == 0


def test_kind_and_scan_are_registered():
    assert AGREEMENT_ENDING in dict(registry.kind_choices())


def test_database_refuses_an_agreement_ending_before_it_starts():
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementFactory(starts_on=TODAY, ends_on=TODAY - datetime.timedelta(days=1))


def test_agreement_links_a_partner_with_committees_and_commitments():
    committees = [BuildingCommitteeFactory(), BuildingCommitteeFactory()]
    agreement = AgreementFactory(committees=committees)
    AgreementCommitmentFactory(agreement=agreement, side="community", text="开放社区食堂")
    AgreementCommitmentFactory(agreement=agreement, side="building", text="骑手结对陪伴老人")
    assert set(agreement.committees.all()) == set(committees)
    assert sorted(agreement.commitments.values_list("side", flat=True)) == ["building", "community"]


def test_partner_staff_see_their_own_agreements_only():
    mine, other = AgreementFactory(), AgreementFactory()
    staff = StaffUserFactory(partner=mine.partner)
    assert list(scope_queryset(Agreement.objects.all(), staff)) == [mine]
    worker = StaffUserFactory(streets=[other.partner.street])
    assert list(scope_queryset(Agreement.objects.all(), worker)) == [other]
    assert PartnerFactory  # factories import check
