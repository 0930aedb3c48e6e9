"""The admin dashboard's demand figures and a social worker's open demands, overdue first."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.buildings.factories import EnterpriseFactory, StreetFactory
from tests.committees.factories import DemandFactory

pytestmark = pytest.mark.django_db


def test_social_worker_sees_the_streets_open_demands_overdue_first(social_worker, street_a):
    today = timezone.localdate()
    enterprise = EnterpriseFactory(building__street=street_a)
    due_later = DemandFactory(
        enterprise=enterprise, title="下周到期", deadline=today + datetime.timedelta(days=5)
    )
    overdue = DemandFactory(
        enterprise=enterprise, title="早已超期", deadline=today - datetime.timedelta(days=3)
    )
    DemandFactory(
        enterprise=EnterpriseFactory(building__street=StreetFactory()),
        title="别的街道",
        deadline=today - datetime.timedelta(days=9),
    )
    client = Client()
    client.force_login(social_worker)
    response = client.get(reverse("admin_dashboard"))
    assert response.status_code == 200
    assert [d.pk for d in response.context["my_open_demands"]] == [overdue.pk, due_later.pk]
    figures = response.context["demands"]["total"]
    assert (figures["received"], figures["overdue_now"]) == (2, 1)
    page = response.content.decode()
    assert "早已超期" in page and "别的街道" not in page


def test_the_demand_figures_per_street_are_charted_and_an_empty_hours_chart_is_left_out(
    social_worker, street_a
):
    today = timezone.localdate()
    enterprise = EnterpriseFactory(building__street=street_a)
    DemandFactory(enterprise=enterprise, deadline=today - datetime.timedelta(days=3))
    DemandFactory(enterprise=enterprise, deadline=today + datetime.timedelta(days=3))
    client = Client()
    client.force_login(social_worker)
    response = client.get(reverse("admin_dashboard"))
    chart = response.context["chart_data"]["demands"]
    rows = response.context["demands"]["streets"]
    assert chart == {
        "labels": [row["name"] for row in rows],
        "received": [row["received"] for row in rows],
        "resolved": [row["resolved"] for row in rows],
        "overdue": [row["overdue_now"] for row in rows],
    }
    assert (chart["received"], chart["overdue"]) == ([2], [1])
    page = response.content.decode()
    assert 'id="demands-chart"' in page
    # No volunteer hours in the period: the table says so, no empty chart area above it.
    assert 'id="hours-chart"' not in page
