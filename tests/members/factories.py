"""Factories for members: users, party organizations, party members, transfers, link requests, API keys."""

import datetime

import factory
from django.utils import timezone

from members.models import (
    ApiToken,
    HomeRegistration,
    MemberLinkRequest,
    MemberTransfer,
    PartyMember,
    PartyOrganization,
    User,
)
from members.tokens import generate_key, hash_key
from members.validators import id_number_check_char
from tests.buildings.factories import EnterpriseFactory, PartnerFactory, StreetFactory

PASSWORD = "demo12345"


def make_id_number(n: int, birth: datetime.date = datetime.date(1990, 5, 17)) -> str:
    """A valid 18-digit resident ID number with a Shanghai area code, unique per ``n``."""
    first17 = f"3101{(n // 1000) % 100:02d}{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def streets(self, create, extracted, **kwargs):
        if create and extracted:
            self.streets.set(extracted)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class StaffUserFactory(UserFactory):
    """Staff with a territory (``streets=`` or ``district=``) but no group: no model permissions."""

    is_staff = True


class SocialWorkerFactory(StaffUserFactory):
    """A street social worker: ``streets=[...]`` and the 街道社工 group's permissions."""

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        from django.contrib.auth.models import Group

        from members.groups import SOCIAL_WORKER

        if create:
            self.groups.add(Group.objects.get(name=SOCIAL_WORKER))


class PartyOrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartyOrganization

    name = factory.Sequence(lambda n: f"测试联合党支部{n}")
    kind = PartyOrganization.Kind.BRANCH
    street = factory.SubFactory(StreetFactory)
    founded_on = datetime.date(2018, 7, 1)
    term_ends_on = datetime.date(2027, 7, 1)


class PartyMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartyMember

    name = factory.Sequence(lambda n: f"党员{n}")
    gender = PartyMember.Gender.FEMALE
    birth_date = datetime.date(1990, 5, 17)
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    id_number = factory.Sequence(lambda n: make_id_number(n))
    education = PartyMember.Education.BACHELOR
    joined_on = datetime.date(2015, 7, 1)
    status = PartyMember.Status.FULL
    organization = factory.SubFactory(PartyOrganizationFactory)
    enterprise = factory.SubFactory(
        EnterpriseFactory, building__street=factory.SelfAttribute("...organization.street")
    )
    is_mobile = False


class MemberTransferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberTransfer

    member = factory.SubFactory(PartyMemberFactory)
    direction = MemberTransfer.Direction.INTERNAL
    from_organization = factory.SelfAttribute("member.organization")
    to_organization = factory.SubFactory(
        PartyOrganizationFactory, street=factory.SelfAttribute("..member.organization.street")
    )
    requested_on = datetime.date(2026, 11, 1)


class MemberLinkRequestFactory(factory.django.DjangoModelFactory):
    """A request that matched ``member``: decided by the social workers of the member's street."""

    class Meta:
        model = MemberLinkRequest

    user = factory.SubFactory(UserFactory)
    member = factory.SubFactory(PartyMemberFactory)
    name = factory.SelfAttribute("member.name")
    id_number_hint = factory.LazyAttribute(
        lambda o: o.member.id_number[:3] + "*" * 11 + o.member.id_number[-4:]
    )
    street = factory.SelfAttribute("member.organization.street")


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """An API key row; the key itself is ``obj.key`` (only its hash is stored), valid for a year."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = "测试数据对接"
    key = factory.LazyFunction(generate_key)
    prefix = factory.LazyAttribute(lambda o: o.key[:8])
    key_hash = factory.LazyAttribute(lambda o: hash_key(o.key))
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=365))

    @classmethod
    def _create(cls, model_class, *args, key: str = "", **kwargs):
        token = super()._create(model_class, *args, **kwargs)
        token.key = key
        return token


class HomeRegistrationFactory(factory.django.DjangoModelFactory):
    """A raw row; registrations are written through members/registrations.py."""

    class Meta:
        model = HomeRegistration

    member = factory.SubFactory(PartyMemberFactory)
    partner = factory.SubFactory(PartnerFactory)
    registered_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=60))
