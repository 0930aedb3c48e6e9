"""The admin's lists at city scale: no full COUNT(*) of a big table, no DISTINCT over every row.

Timings are measured by bench/profile_endpoints.py; these tests pin the query
shapes that make the lists fast, and that the figures shown are still right.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.adminkit import LargeTablePaginator, table_row_estimate
from services.models import Booking
from tests.admin_helpers import admin_url
from tests.buildings.factories import BuildingFactory
from tests.services.factories import BookingFactory, EventFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _analyze(model) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def _counts(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]


def test_whole_big_table_is_counted_by_the_planner(superuser, street_a, monkeypatch):
    event = EventFactory(space__station__building=BuildingFactory(street=street_a), capacity=50)
    BookingFactory.create_batch(12, event=event)
    _analyze(Booking)
    assert table_row_estimate(Booking) == 12
    monkeypatch.setattr(LargeTablePaginator, "ESTIMATE_FROM", 10)
    client = logged_in(superuser)
    url = admin_url("services_booking", "changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 12
    assert _counts(ctx) == []  # no COUNT(*) over the table


def test_filtered_and_small_lists_are_counted_exactly(superuser, social_worker, street_a, monkeypatch):
    event = EventFactory(space__station__building=BuildingFactory(street=street_a), capacity=50)
    BookingFactory.create_batch(12, event=event)
    _analyze(Booking)
    monkeypatch.setattr(LargeTablePaginator, "ESTIMATE_FROM", 10)
    # A status filter: exact, with its own COUNT.
    client = logged_in(superuser)
    Booking.objects.filter(pk__in=Booking.objects.order_by("pk")[:3].values("pk")).update(status="waitlisted")
    response = client.get(admin_url("services_booking", "changelist"), {"status__exact": "waitlisted"})
    assert response.context["cl"].result_count == 3
    # A social worker's list is scoped (a WHERE), so exact too.
    response = logged_in(social_worker).get(admin_url("services_booking", "changelist"))
    assert response.context["cl"].result_count == 12
    # Below the threshold the whole table is counted exactly.
    monkeypatch.setattr(LargeTablePaginator, "ESTIMATE_FROM", 100)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(admin_url("services_booking", "changelist"))
    assert response.context["cl"].result_count == 12
    assert len(_counts(ctx)) == 1


def test_booking_list_is_newest_first_with_a_date_filter_and_no_date_hierarchy(social_worker, street_a):
    event = EventFactory(space__station__building=BuildingFactory(street=street_a), capacity=50)
    bookings = BookingFactory.create_batch(3, event=event)
    client = logged_in(social_worker)
    url = admin_url("services_booking", "changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert [b.pk for b in response.context["cl"].result_list] == [b.pk for b in reversed(bookings)]
    sql = " ".join(q["sql"] for q in ctx.captured_queries).upper()
    assert "DISTINCT DATE_TRUNC" not in sql and "MIN(" not in sql  # no year links over every booking
    # The booking-time filter (this year, past 7 days, ...) is there and works.
    titles = [str(spec.title) for spec in response.context["cl"].filter_specs]
    assert "预约时间" in titles
    # As the filter's own links write them: aware, in Shanghai time.
    response = client.get(
        url, {"created_at__gte": "2000-01-01 00:00:00+08:00", "created_at__lt": "2000-01-02 00:00:00+08:00"}
    )
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_superuser_account_list_joins_building_and_enterprise(superuser, street_a):
    from tests.buildings.factories import EnterpriseFactory
    from tests.members.factories import UserFactory

    client = logged_in(superuser)
    url = admin_url("members_user", "changelist")

    def add_accounts(n):
        for _ in range(n):
            enterprise = EnterpriseFactory(building=BuildingFactory(street=street_a))
            UserFactory(building=enterprise.building, enterprise=enterprise)

    add_accounts(2)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    add_accounts(10)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 13  # the superuser too
    assert len(large.captured_queries) == len(small.captured_queries)
    sql = " ".join(q["sql"] for q in large.captured_queries).upper()
    assert "DISTINCT DATE_TRUNC" not in sql


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_row_checkbox_is_djangos_markup(language, social_worker, street_a):
    """ScopedAdmin writes the action checkbox without the template engine; Django's own would
    render the same HTML (name, value, class, translated and escaped label)."""
    from django.contrib import admin as django_admin
    from django.utils import translation

    from members.models import PartyMember
    from tests.members.factories import PartyMemberFactory

    member = PartyMemberFactory(name='<b>"王&伟"</b>')
    model_admin = django_admin.site._registry[PartyMember]
    with translation.override(language):
        ours = model_admin.action_checkbox(member)
        djangos = django_admin.ModelAdmin.action_checkbox(model_admin, member)
    assert ours == djangos
    assert 'name="_selected_action"' in ours and f'value="{member.pk}"' in ours
    assert "<b>" not in ours
    # ... and the list uses it: one checkbox per row, the JavaScript's class on each.
    PartyMemberFactory(organization__street=street_a)
    response = logged_in(social_worker).get(admin_url("members_partymember", "changelist"))
    rows = len(response.context["cl"].result_list)
    assert rows >= 1
    assert response.content.decode().count('class="action-select"') == rows
