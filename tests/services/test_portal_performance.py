"""The portal's event list at city scale: same events, a shorter index walk, a faster form.

bench/profile_endpoints.py measures the timings; these tests pin what the
changes must not alter.
"""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from services.filtersets import EventFilterSet, PlainSelect
from services.models import Event
from services.selectors import upcoming_event_list
from tests.buildings.factories import StreetFactory
from tests.services.factories import EventFactory

pytestmark = pytest.mark.django_db


def _event(starts: datetime.datetime, hours: float, **kwargs) -> Event:
    return EventFactory(
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=hours),
        booking_opens_at=starts - datetime.timedelta(days=30),
        booking_closes_at=starts + datetime.timedelta(minutes=30),
        cancel_deadline=starts - datetime.timedelta(days=1),
        **kwargs,
    )


def test_upcoming_list_is_every_published_event_not_ended_soonest_first():
    now = timezone.now().replace(microsecond=0)
    ended = [_event(now - datetime.timedelta(days=d), 2) for d in (30, 10, 2)]
    # Started long ago and still running: its start is the earliest of the list.
    running = _event(now - datetime.timedelta(days=3), 24 * 5)
    soon = _event(now + datetime.timedelta(hours=1), 2)
    later = _event(now + datetime.timedelta(days=3), 2)
    _event(now + datetime.timedelta(days=1), 2, status=Event.Status.DRAFT)
    _event(now + datetime.timedelta(days=2), 2, status=Event.Status.CANCELLED)
    listed = list(upcoming_event_list(now=now))
    assert listed == [running, soon, later]
    assert not set(listed) & set(ended)
    assert upcoming_event_list(now=now).count() == 3
    # Nothing upcoming: an empty list, not an error.
    assert list(upcoming_event_list(now=now + datetime.timedelta(days=30))) == []


def _attrs() -> dict:
    return {"id": "id_street", "class": "wide", "required": True, "disabled": False}


@pytest.mark.parametrize("value", [None, "", "2", "<b>"])
def test_plain_select_renders_exactly_like_djangos(value):
    choices = [("", "全部街道"), ("1", "静安区 · 南京西路街道"), ("2", 'A & B "<i>"'), ("<b>", "x")]
    grouped = [("", "—"), ("区", [("1", "一"), ("2", "二")])]
    for options in (choices, grouped):
        expected = forms.Select(choices=options).render("street", value, attrs=_attrs())
        assert PlainSelect(choices=options).render("street", value, attrs=_attrs()) == expected


def test_event_list_form_offers_every_street_with_the_fast_select(client):
    streets = StreetFactory.create_batch(3)
    filterset = EventFilterSet()
    assert isinstance(filterset.form.fields["street"].widget, PlainSelect)
    page = client.get(reverse("portal:event_list"), {"street": streets[1].pk}).content.decode()
    for street in streets:
        assert f'<option value="{street.pk}"' in page
    assert f'<option value="{streets[1].pk}" selected>{streets[1]}</option>' in page
    # the options are read as plain values (no Street or District instances), labelled as str(street)
    options = list(filterset.form.fields["street"].choices)
    assert options[0] == ("", "全部街道")
    assert (streets[0].pk, str(streets[0])) in options and len(options) == 4


def test_keyword_search_expressions_have_statistics():
    """The planner's estimate for ?q= needs statistics on what icontains compares (UPPER(...))."""
    from django.db import connection

    sql = str(Event.objects.filter(title__icontains="讲座").query)
    assert 'UPPER("services_event"."title"::text)' in sql
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_statisticsobjdef(oid) FROM pg_statistic_ext WHERE stxname = %s",
            ["services_event_text_stats"],
        )
        (definition,) = cursor.fetchone()
    assert "upper(title::text)" in definition and "upper(speaker::text)" in definition
