"""Factories for buildings: districts, streets, buildings, enterprises."""

import factory

from buildings.models import Building, District, Enterprise, Partner, Street
from buildings.validators import credit_code_check_char


def make_credit_code(n: int) -> str:
    """A valid unified social credit code: 91 (enterprise) + 310000 (Shanghai) + 9 digits + check."""
    first17 = f"91310000{n:09d}"
    return first17 + credit_code_check_char(first17)


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"测试区{n}")
    code = factory.Sequence(lambda n: f"31{n:04d}")


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Street

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"测试街道{n}")


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    street = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"测试大厦{n}")
    address = factory.Sequence(lambda n: f"南京西路{n}号")
    floors = 30
    floor_area_m2 = 50000
    is_key_building = False
    property_company = "测试物业"
    employee_count = 1000


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    building = factory.SubFactory(BuildingFactory)
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    credit_code = factory.Sequence(make_credit_code)
    floor = 10
    employee_count = 100
    party_member_count = 5
    industry = "信息技术"


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    street = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"测试居委会{n}")
    kind = Partner.Kind.NEIGHBOURHOOD_COMMITTEE
    address = factory.Sequence(lambda n: f"长寿路{n}弄")
    contact_name = "王阿姨"
    phone = "13800138000"
