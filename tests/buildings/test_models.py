"""The database refuses what the buildings models forbid, and full_clean says why in Chinese."""

from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from buildings.models import Building, District, Enterprise, Street
from tests.buildings.factories import (
    BuildingFactory,
    DistrictFactory,
    EnterpriseFactory,
    StreetFactory,
    make_credit_code,
)

pytestmark = pytest.mark.django_db


def assert_db_refuses(constraint: str, action) -> None:
    """``action`` hits the database and is refused by ``constraint``; the test goes on."""
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        action()
    assert constraint in str(info.value)


def clean_errors(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        instance.full_clean()
    return info.value.message_dict


# --- District / Street --------------------------------------------------------


def test_district_name_and_code_are_unique():
    DistrictFactory(name="静安区", code="310106")
    assert_db_refuses("name", lambda: District.objects.create(name="静安区", code="310199"))
    assert_db_refuses("code", lambda: District.objects.create(name="静安二区", code="310106"))
    errors = clean_errors(District(name="静安区", code="310106"))
    assert set(errors) == {"name", "code"}


def test_street_name_unique_within_district_only():
    jingan, pudong = DistrictFactory(code="310106"), DistrictFactory(code="310115")
    StreetFactory(district=jingan, name="南京西路街道")
    assert_db_refuses(
        "buildings_street_unique_name_in_district",
        lambda: Street.objects.create(district=jingan, name="南京西路街道"),
    )
    # next to the name (core/constraints.py), not above the whole form
    assert clean_errors(Street(district=jingan, name="南京西路街道")) == {"name": ["该区已有同名街道。"]}
    # the same name in another district is fine
    Street(district=pudong, name="南京西路街道").full_clean()
    Street.objects.create(district=pudong, name="南京西路街道")


def test_street_with_buildings_cannot_be_deleted():
    building = BuildingFactory()
    with pytest.raises(ProtectedError):
        building.street.delete()
    assert Street.objects.filter(pk=building.street_id).exists()


# --- Building -----------------------------------------------------------------


def test_building_name_unique_within_street():
    building = BuildingFactory(name="南京西路国际大厦")
    assert_db_refuses(
        "buildings_building_unique_name_in_street",
        lambda: BuildingFactory(street=building.street, name="南京西路国际大厦"),
    )
    dup = BuildingFactory.build(street=building.street, name="南京西路国际大厦")
    assert clean_errors(dup) == {"name": ["该街道已有同名楼宇。"]}
    BuildingFactory(name="南京西路国际大厦")  # another street


@pytest.mark.parametrize("floors", [0, 201])
def test_building_floors_range(floors):
    street = StreetFactory()
    assert_db_refuses(
        "buildings_building_floors_range", lambda: BuildingFactory(street=street, floors=floors)
    )
    assert (
        "楼层数应在1到200之间。"
        in clean_errors(BuildingFactory.build(street=street, floors=floors))[NON_FIELD_ERRORS]
    )


def test_building_floors_range_on_update():
    building = BuildingFactory(floors=30)
    assert_db_refuses(
        "buildings_building_floors_range", lambda: Building.objects.filter(pk=building.pk).update(floors=0)
    )
    building.refresh_from_db()
    assert building.floors == 30
    Building.objects.filter(pk=building.pk).update(floors=200)


@pytest.mark.parametrize("area", [Decimal("0"), Decimal("-1.5")])
def test_building_area_positive(area):
    building = BuildingFactory()
    assert_db_refuses(
        "buildings_building_area_positive",
        lambda: Building.objects.filter(pk=building.pk).update(floor_area_m2=area),
    )
    building.floor_area_m2 = area
    assert clean_errors(building)[NON_FIELD_ERRORS] == ["建筑面积必须大于0。"]


def test_valid_building_passes_full_clean():
    BuildingFactory.build(street=StreetFactory(), floors=1, floor_area_m2=Decimal("0.01")).full_clean()


# --- Enterprise ---------------------------------------------------------------


def test_enterprise_name_unique_within_building():
    ent = EnterpriseFactory(name="上海某某科技有限公司")
    assert_db_refuses(
        "buildings_enterprise_unique_name_in_building",
        lambda: EnterpriseFactory(building=ent.building, name="上海某某科技有限公司"),
    )
    dup = EnterpriseFactory.build(
        building=ent.building, name="上海某某科技有限公司", credit_code=make_credit_code(99)
    )
    assert clean_errors(dup) == {"name": ["该楼宇已有同名企业。"]}


def test_enterprise_credit_code_unique():
    ent = EnterpriseFactory(credit_code="91350100M000100Y43")
    assert_db_refuses(
        "credit_code", lambda: EnterpriseFactory(building=ent.building, credit_code="91350100M000100Y43")
    )
    dup = EnterpriseFactory.build(building=ent.building, credit_code="91350100M000100Y43")
    assert "credit_code" in clean_errors(dup)


def test_enterprise_party_members_within_employees():
    ent = EnterpriseFactory(employee_count=10, party_member_count=10)
    assert_db_refuses(
        "buildings_enterprise_members_within_employees",
        lambda: Enterprise.objects.filter(pk=ent.pk).update(party_member_count=11),
    )
    assert_db_refuses(
        "buildings_enterprise_members_within_employees",
        lambda: EnterpriseFactory(building=ent.building, employee_count=0, party_member_count=1),
    )
    ent.party_member_count = 11
    assert clean_errors(ent)[NON_FIELD_ERRORS] == ["党员数不能多于员工数。"]


@pytest.mark.parametrize(
    "bad_code",
    [
        "91350100m000100y43",  # lower case
        "91350100I000100Y43",  # I is not in the alphabet
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y4S",
    ],
)
def test_enterprise_credit_code_format_in_database(bad_code):
    building = BuildingFactory()
    assert_db_refuses(
        "buildings_enterprise_credit_code_format",
        lambda: Enterprise.objects.create(building=building, name="某公司", credit_code=bad_code, floor=3),
    )


def test_enterprise_credit_code_checksum_in_full_clean():
    ent = EnterpriseFactory.build(building=BuildingFactory(), credit_code="91350100M000100Y42")
    assert clean_errors(ent)["credit_code"] == ["统一社会信用代码校验位不正确，请核对后重新输入。"]


def test_enterprise_full_clean_normalises_credit_code():
    ent = EnterpriseFactory.build(building=BuildingFactory(), credit_code="91350100m000100y43")
    ent.full_clean()
    assert ent.credit_code == "91350100M000100Y43"
    ent.save()


def test_enterprise_floor_within_building():
    building = BuildingFactory(floors=20)
    ent = EnterpriseFactory.build(building=building, floor=21)
    assert clean_errors(ent)["floor"] == ["该楼宇只有20层。"]
    EnterpriseFactory.build(building=building, floor=20).full_clean()
    EnterpriseFactory.build(building=building, floor=-2).full_clean()  # basements are fine
