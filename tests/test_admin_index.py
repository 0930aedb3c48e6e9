"""The admin index (templates/admin/index.html) links the data dashboard for those it has figures for."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.members.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def index_html(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def dashboard_link() -> str:
    return f'<a href="{reverse("admin_dashboard")}">党建数据看板</a>'


@pytest.mark.parametrize("who", ["social_worker", "district_staff", "superuser"])
def test_index_links_the_dashboard(who, request):
    html = index_html(request.getfixturevalue(who))
    assert dashboard_link() in html
    # The dashboard comes first in the main column, and the apps are still listed.
    main = html.split('id="content-main"', 1)[1]
    assert main.index(dashboard_link()) < main.index('class="app-services module')


def test_no_link_for_staff_without_a_territory_and_the_link_works(social_worker):
    assert dashboard_link() not in index_html(StaffUserFactory(username="no_territory"))
    client = Client()
    client.force_login(social_worker)
    assert client.get(reverse("admin_dashboard")).context["has_scope"] is True
