"""Admin pages render for each role, mask personal data, show change history, and stay fast."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteMixin, RelatedFieldWidgetWrapper
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.adminkit import ScopedAdmin
from tests.admin_helpers import (
    SCOPED_RECORDS,
    admin_url,
    changelist_pks,
    export_csv,
    form_post_data,
    grant,
    make_territory,
)
from tests.buildings.factories import BuildingFactory, EnterpriseFactory
from tests.members.factories import PartyMemberFactory, PartyOrganizationFactory
from tests.services.factories import BookingFactory, EventFactory

pytestmark = pytest.mark.django_db

SCOPED_ADMINS = sorted(
    (f"{model._meta.app_label}_{model._meta.model_name}", model_admin)
    for model, model_admin in admin.site._registry.items()
    if isinstance(model_admin, ScopedAdmin)
)


@pytest.fixture
def world(street_a, street_a2, street_b):
    return {
        "a": make_territory(street_a, "甲"),
        "a2": make_territory(street_a2, "乙"),
        "b": make_territory(street_b, "丙"),
    }


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_domain_model_has_a_scoped_admin():
    from django.apps import apps

    registered = {
        model for model, model_admin in admin.site._registry.items() if isinstance(model_admin, ScopedAdmin)
    }
    from pghistory.models import Event as HistoryEvent

    internal = {"SpaceOccupancy", "PortalNotification", "ApiToken", "BookingTally"}
    for app_label in ("buildings", "members", "committees", "services"):
        for model in apps.get_app_config(app_label).get_models():
            if model.__name__ in internal or model._meta.auto_created or issubclass(model, HistoryEvent):
                continue
            assert model in registered, f"{model._meta.label} has no ScopedAdmin"


@pytest.mark.parametrize(("prefix", "model_admin"), SCOPED_ADMINS)
def test_admins_have_search_select_related_and_autocomplete(rf, superuser, prefix, model_admin):
    assert model_admin.search_fields, prefix
    # (no foreign keys to join: districts, demand categories)
    assert model_admin.list_select_related or prefix in ("buildings_district", "committees_demandcategory"), (
        prefix
    )
    request = rf.get("/admin/")
    request.user = superuser
    # Every editable foreign key is an autocomplete (there will be 70,000 members).
    for name, field in model_admin.get_form(request).base_fields.items():
        queryset = getattr(field, "queryset", None)
        if queryset is None or queryset.model not in admin.site._registry or name == "user_permissions":
            continue
        widget = field.widget
        while isinstance(widget, RelatedFieldWidgetWrapper):
            widget = widget.widget
        assert isinstance(widget, AutocompleteMixin), f"{prefix}.{name} should use autocomplete"


@pytest.mark.parametrize("role", ["social_worker", "district_staff", "superuser"])
def test_every_list_renders_with_filters_search_and_dates(request, world, role):
    client = logged_in(request.getfixturevalue(role))
    for prefix, model_admin in SCOPED_ADMINS:
        url = admin_url(prefix, "changelist")
        response = client.get(url)
        if not model_admin.has_view_permission(response.wsgi_request):
            assert response.status_code == 403, (role, prefix)
            continue
        assert response.status_code == 200, (role, prefix)
        assert client.get(url, {"q": "甲"}).status_code == 200, (role, prefix)
        if model_admin.date_hierarchy:
            assert client.get(url, {f"{model_admin.date_hierarchy}__year": "2026"}).status_code == 200, prefix
        if role != "superuser":
            continue  # the superuser is offered every choice: walk them once
        # Every filter choice the page offers works (no 500, no "?e=1" redirect).
        for spec in response.context["cl"].filter_specs:
            for choice in spec.choices(response.context["cl"]):
                target = url + choice["query_string"]
                assert client.get(target).status_code == 200, (role, prefix, target)


@pytest.mark.parametrize(("attr", "prefix"), SCOPED_RECORDS)
def test_change_and_add_pages_render_for_superuser(world, superuser, attr, prefix):
    client = logged_in(superuser)
    assert client.get(admin_url(prefix, "change", getattr(world["b"], attr).pk)).status_code == 200
    # rows written only by the write side: no add page
    if prefix not in (
        "services_booking",
        "members_memberlinkrequest",
        "committees_demandstep",
        "committees_demandattachment",
    ):
        assert client.get(admin_url(prefix, "add")).status_code == 200


def test_bad_filter_values_are_not_errors(world, social_worker):
    client = logged_in(social_worker)
    for params in ({"street": "abc"}, {"district": "1 OR 1=1"}):
        assert client.get(admin_url("members_partymember", "changelist"), params).status_code == 200
    assert client.get(admin_url("members_partyorganization", "changelist"), {"term": "x"}).status_code == 200


def test_admin_speaks_chinese(world, social_worker):
    client = logged_in(social_worker)
    index = client.get(reverse("admin:index")).content.decode()
    assert "楼宇党建管理后台" in index
    page = client.get(admin_url("members_partymember", "changelist"))
    choices = dict(page.context["action_form"].fields["action"].choices)
    assert choices["export_csv"] == "导出所选党员（CSV，可再导入）"
    assert choices["export_xlsx"] == "导出所选党员（Excel，可再导入）"
    page = client.get(admin_url("services_event", "changelist"))
    choices = dict(page.context["action_form"].fields["action"].choices)
    assert "取消所选活动（同时取消全部预约）" in choices.values()


# --- personal data --------------------------------------------------------------------------


def test_lists_and_exports_mask_phones_and_id_numbers(world, superuser, social_worker):
    member = world["a"].member
    for user in (social_worker, superuser):  # lists are masked even for superusers
        client = logged_in(user)
        html = client.get(admin_url("members_partymember", "changelist")).content.decode()
        assert member.phone not in html and member.id_number not in html
        assert f"{member.phone[:3]}****{member.phone[-4:]}" in html
        assert f"{member.id_number[:3]}" in html and member.id_number[-4:] in html
    # Exports are the import template's columns (issue 18): masked without members.view_personal_data,
    # complete with it (what the change page shows them), so that export → edit → import round-trips.
    text = export_csv(logged_in(social_worker), "members_partymember")
    assert member.phone not in text and member.id_number not in text
    assert f"{member.phone[:3]}****{member.phone[-4:]}" in text
    text = export_csv(logged_in(superuser), "members_partymember")
    assert member.phone in text and member.id_number in text
    seat = world["a"].seat
    html = logged_in(social_worker).get(admin_url("committees_committeeseat", "changelist")).content.decode()
    assert seat.phone not in html


def test_change_page_hides_personal_data_without_permission(world, social_worker):
    member = world["a"].member
    client = logged_in(social_worker)
    html = client.get(admin_url("members_partymember", "change", member.pk)).content.decode()
    assert member.phone not in html
    assert member.id_number not in html
    assert f"{member.phone[:3]}****{member.phone[-4:]}" in html  # as a hint
    grant(social_worker, "members.view_personal_data")
    html = (
        logged_in(social_worker).get(admin_url("members_partymember", "change", member.pk)).content.decode()
    )
    assert member.phone in html and member.id_number in html


def test_hidden_personal_data_is_kept_or_replaced_never_blanked(world, social_worker):
    member = world["a"].member
    client = logged_in(social_worker)
    url = admin_url("members_partymember", "change", member.pk)
    data = form_post_data(client.get(url))
    assert data["phone"] == "" and data["id_number"] == ""
    data["name"] = "甲党员（更正）"
    assert client.post(url, data).status_code == 302
    member.refresh_from_db()
    assert member.name == "甲党员（更正）"
    assert member.phone.startswith("138") and len(member.phone) == 11
    original_id = member.id_number
    assert original_id
    data["phone"] = "13700001111"
    assert client.post(url, data).status_code == 302
    member.refresh_from_db()
    assert member.phone == "13700001111" and member.id_number == original_id
    data["phone"] = "12345"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.phone == "13700001111"


def test_csv_export_is_excel_friendly_and_safe(world, superuser):
    EnterpriseFactory(building=world["a"].building, name='=HYPERLINK("http://x")')
    client = logged_in(superuser)
    text = export_csv(client, "buildings_enterprise")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["统一社会信用代码", "企业名称", "街道", "所在楼宇"]  # the import template's
    names = [row[1] for row in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in names
    assert "甲科技有限公司" in names
    floors = {row[4] for row in rows[1:]}
    assert "10" in floors  # numbers stay numbers


# --- history --------------------------------------------------------------------------------


def test_history_shows_who_when_and_before_after(world, social_worker):
    member = world["a"].member
    client = logged_in(social_worker)
    url = admin_url("members_partymember", "change", member.pk)
    data = form_post_data(client.get(url))
    data["name"] = "甲党员新名"
    data["phone"] = "13911112222"
    assert client.post(url, data).status_code == 302
    page = client.get(admin_url("members_partymember", "history", member.pk))
    entries = page.context["entries"]
    latest = entries[0]
    assert latest["user"] == social_worker
    assert latest["via"] == "管理后台"
    assert latest["action"] == "修改"
    changes = {c["field"]: (c["before"], c["after"]) for c in latest["changes"]}
    assert changes["姓名"] == ("甲党员", "甲党员新名")
    assert changes["手机号码"][1] == "139****2222"  # masked without the permission
    html = page.content.decode()
    assert "13911112222" not in html
    assert "shegong_test" in html
    assert entries[-1]["action"] == "新增"


def test_history_unmasked_for_superuser_and_names_foreign_keys(world, superuser):
    member = world["a"].member
    client = logged_in(superuser)
    url = admin_url("members_partymember", "change", member.pk)
    data = form_post_data(client.get(url))
    data["phone"] = "13911113333"
    data["organization"] = world["a"].transfer.to_organization.pk
    assert client.post(url, data).status_code == 302
    changes = {
        c["field"]: (c["before"], c["after"])
        for c in client.get(admin_url("members_partymember", "history", member.pk)).context["entries"][0][
            "changes"
        ]
    }
    assert changes["手机号码"][1] == "13911113333"
    assert changes["所在党组织"] == ("甲联合党支部", "甲第二党支部")


@pytest.mark.parametrize(
    ("attr", "prefix"),
    [
        ("committee", "committees_buildingcommittee"),
        ("event", "services_event"),
        ("booking", "services_booking"),
        ("transfer", "members_membertransfer"),
    ],
)
def test_tracked_records_have_a_history_page(world, social_worker, attr, prefix):
    page = logged_in(social_worker).get(admin_url(prefix, "history", getattr(world["a"], attr).pk))
    assert page.status_code == 200
    assert page.context["entries"][0]["action"] == "新增"


def test_untracked_records_keep_the_admin_log(world, superuser):
    page = logged_in(superuser).get(admin_url("buildings_building", "history", world["a"].building.pk))
    assert page.status_code == 200
    assert "action_list" in page.context


# --- query counts -------------------------------------------------------------------------


def _list_queries(client, prefix) -> int:
    client.get(admin_url(prefix, "changelist"))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(admin_url(prefix, "changelist"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("prefix", ["members_partymember", "services_booking", "members_user"])
def test_list_query_count_does_not_grow_with_rows(
    social_worker, street_a, prefix, django_assert_max_num_queries
):
    client = logged_in(social_worker)
    organization = PartyOrganizationFactory(street=street_a)
    building = BuildingFactory(street=street_a)
    event = EventFactory(space__station__building=building, capacity=100)

    def add_rows(n):
        PartyMemberFactory.create_batch(n, organization=organization)
        for booking in BookingFactory.create_batch(n, event=event):
            booking.user.building = building
            booking.user.save(update_fields=["building"])

    add_rows(5)
    assert len(changelist_pks(client, prefix)) >= 5
    small = _list_queries(client, prefix)
    add_rows(45)
    assert len(changelist_pks(client, prefix)) >= 50
    with django_assert_max_num_queries(small):
        client.get(admin_url(prefix, "changelist"))
    assert _list_queries(client, prefix) == small
    assert small <= 12


def test_event_change_page_query_count_does_not_grow_with_bookings(social_worker, street_a):
    client = logged_in(social_worker)
    event = EventFactory(space__station__building=BuildingFactory(street=street_a), capacity=100)
    BookingFactory.create_batch(5, event=event)
    url = admin_url("services_event", "change", event.pk)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    BookingFactory.create_batch(45, event=event)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_committee_history_includes_its_seats(world, social_worker):
    committee, seat = world["a"].committee, world["a"].seat
    client = logged_in(social_worker)
    url = admin_url("committees_buildingcommittee", "change", committee.pk)
    data = form_post_data(client.get(url))
    data["seats-0-person_name"] = "甲新楼长"
    data["seats-0-phone"] = "13600001234"
    assert data["seats-0-id"] == str(seat.pk)
    assert client.post(url, data).status_code == 302
    seat.refresh_from_db()
    assert (seat.person_name, seat.phone) == ("甲新楼长", "13600001234")
    page = client.get(admin_url("committees_buildingcommittee", "history", committee.pk))
    entries = page.context["entries"]
    assert all(e["changes"] for e in entries)  # no empty "saved" entries
    latest = next(e for e in entries if e["action"] == "修改")
    assert latest["record"] == "楼委会成员：楼长 甲新楼长"
    changes = {c["field"]: (c["before"], c["after"]) for c in latest["changes"]}
    assert changes["姓名"] == ("甲楼长", "甲新楼长")
    assert changes["联系电话"][1] == "136****1234"
    assert "13600001234" not in page.content.decode()
    assert any(e["record"] == "" and e["action"] == "新增" for e in page.context["entries"])
