"""The database refuses what the committee models forbid, and full_clean says why in Chinese."""

import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from committees.models import BuildingCommittee, CommitteeSeat
from tests.buildings.factories import BuildingFactory
from tests.committees.factories import BuildingCommitteeFactory, CommitteeSeatFactory

pytestmark = pytest.mark.django_db

D = datetime.date
CHIEF = CommitteeSeat.Role.BUILDING_CHIEF
FIRST_SECRETARY = CommitteeSeat.Role.FIRST_SECRETARY
ONE_AT_A_TIME = "同一时期每个楼委会只能有一名楼长和一名第一书记。"
EXCLUSION = "committees_committeeseat_one_current_single_role"


def assert_db_refuses(constraint: str, action) -> None:
    """``action`` hits the database and is refused by ``constraint``; the test goes on."""
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        action()
    assert constraint in str(info.value)


def clean_errors(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        instance.full_clean()
    return info.value.message_dict


# --- BuildingCommittee --------------------------------------------------------


def test_one_committee_per_building():
    committee = BuildingCommitteeFactory()
    assert_db_refuses("building", lambda: BuildingCommitteeFactory(building=committee.building))
    assert "building" in clean_errors(BuildingCommitteeFactory.build(building=committee.building))


@pytest.mark.parametrize("ends", [D(2024, 6, 1), D(2024, 5, 31)])
def test_committee_term_ends_after_start(ends):
    committee = BuildingCommitteeFactory(term_starts_on=D(2024, 6, 1))
    assert_db_refuses(
        "committees_buildingcommittee_term_ends_after_start",
        lambda: BuildingCommittee.objects.filter(pk=committee.pk).update(term_ends_on=ends),
    )
    committee.term_ends_on = ends
    assert "本届结束日期必须晚于开始日期。" in clean_errors(committee)[NON_FIELD_ERRORS]


def test_committee_term_not_before_founding():
    building = BuildingFactory()
    assert_db_refuses(
        "committees_buildingcommittee_term_after_founding",
        lambda: BuildingCommittee.objects.create(
            building=building,
            founded_on=D(2020, 6, 1),
            term_starts_on=D(2020, 5, 31),
            term_ends_on=D(2023, 5, 31),
        ),
    )
    committee = BuildingCommittee(
        building=building,
        founded_on=D(2020, 6, 1),
        term_starts_on=D(2020, 5, 31),
        term_ends_on=D(2023, 5, 31),
    )
    assert clean_errors(committee)[NON_FIELD_ERRORS] == ["本届开始日期不能早于成立日期。"]
    committee.term_starts_on = D(2020, 6, 1)  # the first term may start on the founding day
    committee.full_clean()
    committee.save()


# --- CommitteeSeat: simple checks ---------------------------------------------


@pytest.mark.parametrize("ends", [D(2024, 6, 1), D(2024, 1, 1)])
def test_seat_ends_after_start(ends):
    seat = CommitteeSeatFactory(starts_on=D(2024, 6, 1))
    assert_db_refuses(
        "committees_committeeseat_ends_after_start",
        lambda: CommitteeSeat.objects.filter(pk=seat.pk).update(ends_on=ends),
    )
    seat.ends_on = ends
    assert clean_errors(seat) == {"ends_on": ["任职结束日期必须晚于开始日期。"]}
    with pytest.raises(ValidationError) as info:
        seat.validate_constraints()
    assert info.value.messages == ["任职结束日期必须晚于开始日期。"]


def test_floor_representative_needs_a_floor():
    committee = BuildingCommitteeFactory()
    assert_db_refuses(
        "committees_committeeseat_floor_rep_has_floor",
        lambda: CommitteeSeatFactory(
            committee=committee, role=CommitteeSeat.Role.FLOOR_REPRESENTATIVE, floor=None
        ),
    )
    seat = CommitteeSeatFactory.build(
        committee=committee, role=CommitteeSeat.Role.FLOOR_REPRESENTATIVE, floor=None
    )
    assert clean_errors(seat) == {"floor": ["层长须填写负责楼层。"]}
    seat.floor = 12
    seat.full_clean()
    seat.save()
    # other roles need no floor
    CommitteeSeatFactory.build(committee=committee, role=CommitteeSeat.Role.DIRECTOR).full_clean()


def test_seat_floor_within_building():
    committee = BuildingCommitteeFactory(building=BuildingFactory(floors=30))
    seat = CommitteeSeatFactory.build(
        committee=committee, role=CommitteeSeat.Role.FLOOR_REPRESENTATIVE, floor=31
    )
    assert clean_errors(seat) == {"floor": ["该楼宇只有30层。"]}


def test_seat_phone_must_be_a_mobile():
    seat = CommitteeSeatFactory.build(committee=BuildingCommitteeFactory(), phone="021-6258123")
    assert clean_errors(seat)["phone"] == ["请输入11位中国大陆手机号码（以13–19开头）。"]
    seat.phone = ""  # a seat may have no phone
    seat.full_clean()


# --- CommitteeSeat: one building chief and one first secretary at a time -------


def test_two_overlapping_building_chiefs_are_refused():
    committee = BuildingCommitteeFactory()
    CommitteeSeatFactory(committee=committee, role=CHIEF, starts_on=D(2024, 6, 1), ends_on=D(2027, 5, 31))
    assert_db_refuses(
        EXCLUSION,
        lambda: CommitteeSeatFactory(
            committee=committee, role=CHIEF, starts_on=D(2025, 1, 1), ends_on=D(2025, 12, 31)
        ),
    )
    seat = CommitteeSeatFactory.build(
        committee=committee, role=CHIEF, starts_on=D(2025, 1, 1), ends_on=D(2025, 12, 31)
    )
    assert clean_errors(seat) == {"role": [ONE_AT_A_TIME]}


def test_open_ended_first_secretary_blocks_a_new_one():
    committee = BuildingCommitteeFactory()
    CommitteeSeatFactory(committee=committee, role=FIRST_SECRETARY, starts_on=D(2024, 6, 1), ends_on=None)
    # a new one, however far in the future, overlaps an open term
    assert_db_refuses(
        EXCLUSION,
        lambda: CommitteeSeatFactory(committee=committee, role=FIRST_SECRETARY, starts_on=D(2030, 1, 1)),
    )
    assert_db_refuses(
        EXCLUSION,
        lambda: CommitteeSeatFactory(
            committee=committee, role=FIRST_SECRETARY, starts_on=D(2020, 1, 1), ends_on=D(2024, 6, 2)
        ),
    )
    seat = CommitteeSeatFactory.build(committee=committee, role=FIRST_SECRETARY, starts_on=D(2030, 1, 1))
    assert clean_errors(seat) == {"role": [ONE_AT_A_TIME]}


def test_succession_without_overlap_is_allowed():
    committee = BuildingCommitteeFactory()
    old = CommitteeSeatFactory(
        committee=committee, role=FIRST_SECRETARY, starts_on=D(2021, 6, 1), ends_on=None
    )
    # ending the old term on the day the new one starts: the ranges are half-open, no overlap
    CommitteeSeat.objects.filter(pk=old.pk).update(ends_on=D(2024, 6, 1))
    new = CommitteeSeatFactory.build(committee=committee, role=FIRST_SECRETARY, starts_on=D(2024, 6, 1))
    new.full_clean()
    new.save()
    # and the old term cannot then be reopened
    assert_db_refuses(EXCLUSION, lambda: CommitteeSeat.objects.filter(pk=old.pk).update(ends_on=None))
    old.refresh_from_db()
    assert old.ends_on == D(2024, 6, 1)


def test_single_roles_are_independent_of_each_other_and_of_committees():
    committee = BuildingCommitteeFactory()
    CommitteeSeatFactory(committee=committee, role=CHIEF, starts_on=D(2024, 6, 1))
    CommitteeSeatFactory(committee=committee, role=FIRST_SECRETARY, starts_on=D(2024, 6, 1))
    CommitteeSeatFactory(role=CHIEF, starts_on=D(2024, 6, 1))  # another committee
    for _ in range(3):  # many members, owner representatives, ... at once are normal
        CommitteeSeatFactory(committee=committee, role=CommitteeSeat.Role.MEMBER, starts_on=D(2024, 6, 1))
        CommitteeSeatFactory(
            committee=committee, role=CommitteeSeat.Role.OWNER_REPRESENTATIVE, starts_on=D(2024, 6, 1)
        )
    assert committee.seats.count() == 8


def test_changing_role_into_an_occupied_single_role_is_refused():
    committee = BuildingCommitteeFactory()
    CommitteeSeatFactory(committee=committee, role=CHIEF, starts_on=D(2024, 6, 1))
    director = CommitteeSeatFactory(
        committee=committee, role=CommitteeSeat.Role.DIRECTOR, starts_on=D(2024, 6, 1)
    )
    assert_db_refuses(EXCLUSION, lambda: CommitteeSeat.objects.filter(pk=director.pk).update(role=CHIEF))
    director.role = CHIEF
    assert clean_errors(director) == {"role": [ONE_AT_A_TIME]}


def test_seats_are_deleted_with_their_committee():
    seat = CommitteeSeatFactory()
    seat.committee.delete()
    assert not CommitteeSeat.objects.filter(pk=seat.pk).exists()
