"""The demand admin's "交办楼委会成员" action: an intermediate page offering the current seats of the
demands' building's committee, then assign_demand(handler_kind=seat) for each selected demand."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from committees import demands as d
from committees.models import CommitteeSeat, Demand
from tests.buildings.factories import EnterpriseFactory
from tests.committees.factories import BuildingCommitteeFactory, CommitteeSeatFactory, DemandCategoryFactory

pytestmark = pytest.mark.django_db
URL = "admin:committees_demand_changelist"


@pytest.fixture
def world(street_a, social_worker):
    enterprise = EnterpriseFactory(building__street=street_a)
    committee = BuildingCommitteeFactory(building=enterprise.building)
    seat = CommitteeSeatFactory(committee=committee, role=CommitteeSeat.Role.PROPERTY_MANAGER)
    ended = CommitteeSeatFactory(
        committee=committee,
        role=CommitteeSeat.Role.MEMBER,
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2021, 1, 1),
    )
    other_building = EnterpriseFactory(building__street=street_a)
    foreign_seat = CommitteeSeatFactory(
        committee=BuildingCommitteeFactory(building=other_building.building), role=CommitteeSeat.Role.MEMBER
    )
    category = DemandCategoryFactory()

    def accepted(ent):
        demand = d.submit_demand(
            user=social_worker, enterprise=ent, category=category, title="电梯故障", description="三号梯停运"
        )
        return d.accept_demand(user=social_worker, demand=demand)

    return {
        "seat": seat,
        "ended": ended,
        "foreign_seat": foreign_seat,
        "demands": [accepted(enterprise), accepted(enterprise)],
        "other": accepted(other_building),
    }


def _post(client, pks, **extra):
    data = {"action": "assign_to_seat", "index": "0", "_selected_action": [str(pk) for pk in pks], **extra}
    return client.post(reverse(URL), data, follow=True)


def test_intermediate_page_offers_only_current_seats_of_the_building(client, social_worker, world):
    client.force_login(social_worker)
    pks = [demand.pk for demand in world["demands"]]
    page = _post(client, pks)
    assert page.status_code == 200
    assert [t.name for t in page.templates][0] == "admin/action_note.html"
    seats = list(page.context["form"].fields["seat"].queryset)
    assert seats == [world["seat"]]
    assert Demand.objects.filter(pk__in=pks, state=Demand.State.ACCEPTED).count() == 2


def test_choosing_a_seat_assigns_every_selected_demand(client, social_worker, world):
    client.force_login(social_worker)
    pks = [demand.pk for demand in world["demands"]]
    response = _post(client, pks, confirm="yes", seat=str(world["seat"].pk), note="请本周内处理")
    assert "已交办 2 条诉求。" in response.content.decode()
    for demand in Demand.objects.filter(pk__in=pks):
        assert demand.state == Demand.State.ASSIGNED
        assert demand.handler_kind == Demand.HandlerKind.SEAT
        assert demand.handler_seat == world["seat"]
        assert "请本周内处理" in demand.steps.order_by("-at", "-id").first().note


@pytest.mark.parametrize("seat_key", ["ended", "foreign_seat"])
def test_a_seat_not_offered_is_refused_and_nothing_changes(client, social_worker, world, seat_key):
    client.force_login(social_worker)
    pks = [demand.pk for demand in world["demands"]]
    page = _post(client, pks, confirm="yes", seat=str(world[seat_key].pk))
    assert page.context["form"].errors["seat"]
    assert Demand.objects.filter(pk__in=pks, state=Demand.State.ACCEPTED).count() == 2


def test_demands_of_two_buildings_are_refused(client, social_worker, world):
    client.force_login(social_worker)
    pks = [world["demands"][0].pk, world["other"].pk]
    response = _post(client, pks, confirm="yes", seat=str(world["seat"].pk))
    assert "请只选择同一楼宇的诉求" in response.content.decode()
    assert Demand.objects.filter(pk__in=pks, state=Demand.State.ACCEPTED).count() == 2


def test_district_staff_cannot_run_it(client, district_staff, world):
    client.force_login(district_staff)
    pks = [demand.pk for demand in world["demands"]]
    _post(client, pks, confirm="yes", seat=str(world["seat"].pk))
    assert Demand.objects.filter(pk__in=pks, state=Demand.State.ACCEPTED).count() == 2
