"""Riders and residents sign up with a portal account (members/accounts.py, the sign-up page).

An employee names a building; a delivery rider names a platform or station instead of a
building and employer; a resident neither. Whatever a rider or resident typed for a building
is not kept.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from members import accounts
from members.models import User
from tests.buildings.factories import BuildingFactory

pytestmark = pytest.mark.django_db

SIGNUP = reverse("signup")


def data(**overrides):
    base = {
        "username": "xiaoge",
        "real_name": "王小哥",
        "phone": "13912345678",
        "email": "xiaoge@example.com",
        "password1": "Quiet-River-2026",
        "password2": "Quiet-River-2026",
        "building": "",
        "building_text": "",
        "enterprise": "",
        "enterprise_text": "",
    }
    base.update(overrides)
    return base


def test_rider_signs_up_with_a_platform_and_no_building(client):
    response = client.post(SIGNUP, data(person_type="rider", platform="饿了么·长寿路站"))
    assert response.status_code == 302
    user = User.objects.get(username="xiaoge")
    assert (user.person_type, user.platform, user.building_id, user.enterprise_id) == (
        "rider",
        "饿了么·长寿路站",
        None,
        None,
    )


def test_rider_without_platform_gets_a_field_error(client):
    response = client.post(SIGNUP, data(person_type="rider"))
    assert response.status_code == 200
    assert "外卖骑手请填写所属平台或站点。" in response.context["form"].errors["platform"]
    assert not User.objects.filter(username="xiaoge").exists()


def test_resident_signs_up_without_building_and_a_typed_building_is_dropped(client):
    building = BuildingFactory()
    response = client.post(SIGNUP, data(person_type="resident", building=building.pk, platform="x"))
    assert response.status_code == 302
    user = User.objects.get(username="xiaoge")
    assert (user.person_type, user.building_id, user.platform) == ("resident", None, "")


def test_employee_still_needs_a_building(client):
    response = client.post(SIGNUP, data(person_type="employee"))
    assert response.status_code == 200
    assert "该字段是必填项。" in response.context["form"].errors["building"]


def test_signup_page_offers_the_person_types(client):
    body = client.get(SIGNUP).content.decode()
    for value in ("employee", "rider", "resident"):
        assert f'value="{value}"' in body


def test_register_user_refuses_a_rider_without_platform():
    with pytest.raises(ValidationError) as info:
        accounts.register_user(
            username="r1",
            email="r1@example.com",
            phone="13800001111",
            password="Quiet-River-2026",
            person_type="rider",
        )
    assert "platform" in info.value.message_dict
    assert not User.objects.filter(username="r1").exists()


def test_register_user_ignores_a_building_for_a_rider():
    user = accounts.register_user(
        username="r2",
        email="r2@example.com",
        phone="13800001112",
        password="Quiet-River-2026",
        building=BuildingFactory(),
        person_type="rider",
        platform="美团·曹杨站",
    )
    assert user.building_id is None and user.platform == "美团·曹杨站"
