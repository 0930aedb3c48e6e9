"""Factories for building committees and their seats."""

import datetime

import factory

from committees.models import BuildingCommittee, CommitteeSeat
from tests.buildings.factories import BuildingFactory


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
