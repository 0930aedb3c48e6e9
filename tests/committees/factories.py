"""Factories for building committees and their seats."""

import datetime

import factory

from committees.models import Agreement, AgreementCommitment, BuildingCommittee, CommitteeSeat
from tests.buildings.factories import BuildingFactory, PartnerFactory


class BuildingCommitteeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BuildingCommittee

    building = factory.SubFactory(BuildingFactory)
    founded_on = datetime.date(2020, 6, 1)
    term_starts_on = datetime.date(2024, 6, 1)
    term_ends_on = datetime.date(2027, 5, 31)


class CommitteeSeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommitteeSeat

    committee = factory.SubFactory(BuildingCommitteeFactory)
    role = CommitteeSeat.Role.MEMBER
    person_name = factory.Sequence(lambda n: f"委员{n}")
    phone = factory.Sequence(lambda n: f"137{n:08d}")
    affiliation = "测试物业"
    starts_on = datetime.date(2024, 6, 1)


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    partner = factory.SubFactory(PartnerFactory)
    title = factory.Sequence(lambda n: f"“1℃”共建协议{n}")
    starts_on = datetime.date(2026, 1, 1)
    ends_on = datetime.date(2027, 12, 31)
    status = Agreement.Status.ACTIVE

    @factory.post_generation
    def committees(self, create, extracted, **kwargs):
        if create and extracted:
            self.committees.set(extracted)


class AgreementCommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementCommitment

    agreement = factory.SubFactory(AgreementFactory)
    side = AgreementCommitment.Side.COMMUNITY
    text = "社区食堂向外卖骑手开放"
