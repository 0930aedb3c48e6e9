"""Odd ids in the query string of pages outside the API ("²" passes str.isdigit(), 10**20 overflows a bigint)."""

import pytest
from django.urls import reverse

from tests.members.factories import SocialWorkerFactory

pytestmark = pytest.mark.django_db

ODD = ["²", "①", "-1", "0", "1" * 20, "abc"]


@pytest.mark.parametrize("value", ODD)
def test_portal_pages_take_odd_ids(client, street_a, value):
    client.force_login(SocialWorkerFactory(streets=[street_a]))
    assert client.get(reverse("portal:station_list"), {"street": value}).status_code == 200
    assert client.get(reverse("portal:checkin"), {"event": value}).status_code == 200
    response = client.get(reverse("autocomplete_enterprises"), {"building": value})
    assert response.status_code == 400
    assert response.json() == {"error": "参数 building 必须是楼宇编号。"}


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize("parameter", ["street", "district"])
def test_admin_territory_filters_take_odd_ids(client, street_a, parameter, value):
    client.force_login(SocialWorkerFactory(streets=[street_a]))
    response = client.get(reverse("admin:buildings_building_changelist"), {parameter: value})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0  # no such street or district: nothing
