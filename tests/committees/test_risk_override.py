"""The social worker's risk colour override (committees/risk.py): who may, the reason, the record,
the effective colour in the enterprise admin's list and in the API, in a fixed number of queries."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pghistory.models
import pytest
from django.urls import reverse

from committees import risk
from committees.models import EnterpriseRiskOverride
from tests.buildings.factories import EnterpriseFactory
from tests.committees.factories import DemandCategoryFactory, DemandFactory, EnterpriseRiskOverrideFactory
from tests.members.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 16, 10, 0, tzinfo=SH)


@pytest.fixture
def enterprise(street_a):
    return EnterpriseFactory(building__street=street_a, name="示例科技")


def test_override_records_who_when_why_and_wins_over_the_computed_colour(social_worker, enterprise):
    assert risk.effective_colours([enterprise.pk])[enterprise.pk] == "green"
    override = risk.override_colour(
        user=social_worker, enterprise=enterprise, colour="orange", reason="  企业拟迁出，已约谈。 ", now=NOW
    )
    override.refresh_from_db()
    assert (override.colour, override.reason, override.set_by, override.set_at) == (
        "orange",
        "企业拟迁出，已约谈。",
        social_worker,
        NOW,
    )
    assert risk.effective_colours([enterprise.pk])[enterprise.pk] == "orange"
    assert risk.enterprise_colours([enterprise.pk])[enterprise.pk] == "green"
    # A second override replaces the first; the history keeps both.
    risk.override_colour(user=social_worker, enterprise=enterprise.pk, colour="red", reason="欠薪", now=NOW)
    assert EnterpriseRiskOverride.objects.get(enterprise=enterprise).colour == "red"
    events = pghistory.models.Events.objects.tracks(EnterpriseRiskOverride.objects.get(pk=override.pk))
    assert sorted(e.pgh_label for e in events) == ["insert", "update"]
    assert [e.pgh_data["reason"] for e in events.order_by("pgh_created_at", "pgh_id")] == [
        "企业拟迁出，已约谈。",
        "欠薪",
    ]
    # Clearing goes back to the computed colour.
    assert risk.clear_override(user=social_worker, enterprise=enterprise) is True
    assert risk.effective_colours([enterprise.pk])[enterprise.pk] == "green"
    assert risk.clear_override(user=social_worker, enterprise=enterprise) is False


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_refused_without_a_reason(social_worker, enterprise, reason):
    with pytest.raises(risk.RiskOverrideError) as caught:
        risk.override_colour(user=social_worker, enterprise=enterprise, colour="red", reason=reason)
    assert caught.value.code == "reason_required"
    assert not EnterpriseRiskOverride.objects.exists()


def test_refused_colour_and_too_long_reason(social_worker, enterprise):
    with pytest.raises(risk.RiskOverrideError, match="风险色") as caught:
        risk.override_colour(user=social_worker, enterprise=enterprise, colour="purple", reason="x")
    assert caught.value.code == "bad_colour"
    with pytest.raises(risk.RiskOverrideError) as caught:
        risk.override_colour(user=social_worker, enterprise=enterprise, colour="red", reason="长" * 501)
    assert caught.value.code == "reason_too_long"
    assert not EnterpriseRiskOverride.objects.exists()


def test_only_staff_who_change_demands_in_the_territory(
    social_worker, district_staff, superuser, enterprise, street_b
):
    from django.contrib.auth.models import Group

    other = StaffUserFactory(username="other_worker", streets=[street_b])
    other.groups.add(Group.objects.get(name="街道社工"))
    for user in (district_staff, other):
        with pytest.raises(risk.RiskOverrideError) as caught:
            risk.override_colour(user=user, enterprise=enterprise, colour="red", reason="x")
        assert caught.value.code == "forbidden"
        with pytest.raises(risk.RiskOverrideError):
            risk.clear_override(user=user, enterprise=enterprise)
    assert not EnterpriseRiskOverride.objects.exists()
    risk.override_colour(user=superuser, enterprise=enterprise, colour="blue", reason="x")
    assert EnterpriseRiskOverride.objects.get().colour == "blue"


def test_the_database_refuses_an_empty_reason(enterprise):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        EnterpriseRiskOverrideFactory(enterprise=enterprise, reason="")


def _page(street, count):
    arrears = DemandCategoryFactory(name=f"欠薪{count}", is_risk_signal=True)
    enterprises = [EnterpriseFactory(building__street=street) for _ in range(count)]
    for e in enterprises[::2]:
        DemandFactory(enterprise=e, category=arrears, deadline=datetime.date(2030, 1, 1))
    for e in enterprises[1::3]:
        EnterpriseRiskOverrideFactory(enterprise=e, colour="red")
    return enterprises


def test_admin_enterprise_list_shows_the_effective_colour_in_fixed_queries(
    client, social_worker, street_a, django_assert_max_num_queries
):
    client.force_login(social_worker)
    url = reverse("admin:buildings_enterprise_changelist")
    _page(street_a, 3)
    client.get(url)  # warm caches (content types, sessions)
    with django_assert_max_num_queries(60) as few:
        client.get(url)
    enterprises = _page(street_a, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    html = response.content.decode()
    assert html.count('class="risk-colour risk-red"') == 5  # [1] of the first 3 + [1,4,7,10] of the 12
    assert html.count('class="risk-colour risk-orange"') == 2 + 4  # even indexes without an override
    assert html.count('class="risk-colour risk-green"') == 0 + 4  # 3, 5, 9, 11
    assert "风险色" in html
    assert len(enterprises) == 12


def test_api_enterprise_risk(client, social_worker, street_a, django_assert_max_num_queries):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(social_worker)
    url = reverse("api:enterprise-risk-list")
    _page(street_a, 3)
    api.get(url)
    with django_assert_max_num_queries(30) as few:
        api.get(url)
    _page(street_a, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get(url, {"page_size": 200})
    rows = response.json()["results"]
    assert len(rows) == 15
    overridden = [row for row in rows if row["override"]]
    assert len(overridden) == 5
    assert {row["colour"] for row in overridden} == {"red"}
    assert {row["colour_label"] for row in overridden} == {"红"}
    assert all(row["override"]["reason"] for row in overridden)
    computed = {row["computed_colour"] for row in rows}
    assert computed == {"orange", "green"}
    plain = [row for row in rows if not row["override"]]
    assert all(row["colour"] == row["computed_colour"] for row in plain)
    one = overridden[0]
    detail = api.get(reverse("api:enterprise-risk-detail", args=[one["id"]])).json()
    assert detail == one


def test_admin_add_change_and_delete_go_through_the_write_function(
    client, social_worker, district_staff, enterprise
):
    client.force_login(social_worker)
    add = reverse("admin:committees_enterpriseriskoverride_add")
    refused = client.post(add, {"enterprise": enterprise.pk, "colour": "red", "reason": "   "})
    assert refused.status_code == 200 and not EnterpriseRiskOverride.objects.exists()
    response = client.post(add, {"enterprise": enterprise.pk, "colour": "red", "reason": "欠薪三个月"})
    assert response.status_code == 302, response.content.decode()[:500]
    override = EnterpriseRiskOverride.objects.get()
    assert (override.colour, override.reason, override.set_by) == ("red", "欠薪三个月", social_worker)
    change = reverse("admin:committees_enterpriseriskoverride_change", args=[override.pk])
    assert client.post(change, {"colour": "yellow", "reason": "已补发"}).status_code == 302
    assert EnterpriseRiskOverride.objects.get().colour == "yellow"
    client.force_login(district_staff)
    assert client.post(change, {"colour": "red", "reason": "x"}).status_code == 403
    client.force_login(social_worker)
    delete = reverse("admin:committees_enterpriseriskoverride_delete", args=[override.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not EnterpriseRiskOverride.objects.exists()


def test_enterprise_page_shows_the_colour_why_and_the_override(client, social_worker, enterprise):
    """The enterprise's admin page: a read-only risk field with the colour, the counts behind it, the override."""
    today = datetime.date.today()
    arrears = DemandCategoryFactory(name="欠薪", is_risk_signal=True)
    DemandFactory(enterprise=enterprise, category=arrears, deadline=today + datetime.timedelta(days=3))
    DemandFactory(enterprise=enterprise, deadline=today - datetime.timedelta(days=2))
    client.force_login(social_worker)
    url = reverse("admin:buildings_enterprise_change", args=[enterprise.pk])
    page = client.get(url).content.decode()
    assert '<span class="risk-colour risk-orange">橙</span>' in page
    assert "未办结诉求 2 条，其中超期 1 条" in page
    assert "风险信号类诉求 1 条，其中超期 0 条" in page
    assert "人工调整" not in page

    risk.override_colour(user=social_worker, enterprise=enterprise, colour="red", reason="<b>拟迁出</b>")
    page = client.get(url).content.decode()
    assert "risk-colour risk-red" in page and "risk-colour risk-orange" not in page
    assert '<span class="risk-colour risk-red">红</span>' in page
    assert "人工调整（计算结果为橙）：&lt;b&gt;拟迁出&lt;/b&gt;" in page  # the reason, escaped
    assert "未办结诉求 2 条，其中超期 1 条" in page  # the why stays beside the override


def test_enterprise_add_page_has_no_risk_field(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:buildings_enterprise_add"))
    assert page.status_code == 200
    assert "未办结诉求" not in page.content.decode() and 'name="name"' in page.content.decode()
