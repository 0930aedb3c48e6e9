"""The database refuses what the members models forbid, and full_clean says why in Chinese."""

import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from members.models import MemberLinkRequest, MemberTransfer, PartyMember, PartyOrganization, User
from members.validators import id_number_check_char
from tests.buildings.factories import BuildingFactory, EnterpriseFactory, StreetFactory
from tests.members.factories import (
    MemberTransferFactory,
    PartyMemberFactory,
    PartyOrganizationFactory,
    UserFactory,
    make_id_number,
)

pytestmark = pytest.mark.django_db


def assert_db_refuses(constraint: str, action) -> None:
    """``action`` hits the database and is refused by ``constraint``; the test goes on."""
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        action()
    assert constraint in str(info.value)


def clean_errors(instance, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        instance.full_clean(**kwargs)
    return info.value.message_dict


# --- PartyOrganization --------------------------------------------------------


def test_organization_name_unique_within_street():
    org = PartyOrganizationFactory(name="南京西路国际大厦联合党委")
    assert_db_refuses(
        "members_partyorganization_unique_name_in_street",
        lambda: PartyOrganizationFactory(street=org.street, name="南京西路国际大厦联合党委"),
    )
    dup = PartyOrganizationFactory.build(street=org.street, name="南京西路国际大厦联合党委")
    assert clean_errors(dup) == {"name": ["该街道已有同名党组织。"]}
    PartyOrganizationFactory(name="南京西路国际大厦联合党委")  # another street


def test_organization_term_ends_after_founding():
    org = PartyOrganizationFactory(founded_on=datetime.date(2018, 7, 1), term_ends_on=None)
    for bad in (datetime.date(2018, 7, 1), datetime.date(2017, 1, 1)):
        assert_db_refuses(
            "members_partyorganization_term_after_founding",
            lambda bad=bad: PartyOrganization.objects.filter(pk=org.pk).update(term_ends_on=bad),
        )
    org.term_ends_on = datetime.date(2018, 7, 1)
    assert clean_errors(org)[NON_FIELD_ERRORS] == ["换届日期必须晚于成立日期。"]
    org.term_ends_on = datetime.date(2018, 7, 2)
    org.full_clean()


def test_organization_cannot_be_its_own_parent():
    org = PartyOrganizationFactory()
    assert_db_refuses(
        "members_partyorganization_not_own_parent",
        lambda: PartyOrganization.objects.filter(pk=org.pk).update(parent=org),
    )
    org.parent = org
    assert clean_errors(org) == {"parent": ["上级党组织不能是本组织或其下级。"]}
    # the constraint itself says the same in its own words
    with pytest.raises(ValidationError) as info:
        org.validate_constraints()
    assert info.value.messages == ["党组织不能是自己的上级。"]


def test_organization_parent_cycle_through_children_is_refused_by_clean():
    top = PartyOrganizationFactory(kind=PartyOrganization.Kind.JOINT_COMMITTEE)
    middle = PartyOrganizationFactory(
        street=top.street, parent=top, kind=PartyOrganization.Kind.GENERAL_BRANCH
    )
    bottom = PartyOrganizationFactory(street=top.street, parent=middle)
    top.parent = bottom
    assert clean_errors(top)["parent"] == ["上级党组织不能是本组织或其下级。"]
    PartyOrganization.objects.get(pk=bottom.pk).full_clean()  # the saved chain is fine


def test_standalone_organization_enterprise_must_be_in_its_street():
    org = PartyOrganizationFactory()
    elsewhere = EnterpriseFactory()
    org.enterprise = elsewhere
    assert clean_errors(org)["enterprise"] == ["所属企业必须位于本党组织所属街道。"]
    org.enterprise = EnterpriseFactory(building=BuildingFactory(street=org.street))
    org.full_clean()
    assert org.is_standalone


# --- PartyMember --------------------------------------------------------------


def test_member_joined_after_birth():
    member = PartyMemberFactory(birth_date=datetime.date(1990, 5, 17))
    assert_db_refuses(
        "members_partymember_joined_after_birth",
        lambda: PartyMember.objects.filter(pk=member.pk).update(joined_on=datetime.date(1990, 5, 17)),
    )
    member.joined_on = datetime.date(1989, 1, 1)
    assert clean_errors(member) == {"joined_on": ["入党日期必须晚于出生日期。"]}
    with pytest.raises(ValidationError) as info:
        member.validate_constraints()
    assert info.value.messages == ["入党日期必须晚于出生日期。"]


@pytest.mark.parametrize(
    "bad_id",
    ["11010519491231002x", "1101051949123100", "11010519491231002Y", "１１010519491231002X"],
)
def test_member_id_number_format_in_database(bad_id):
    member = PartyMemberFactory(birth_date=datetime.date(1949, 12, 31))
    assert_db_refuses(
        "members_partymember_id_number_format",
        lambda: PartyMember.objects.filter(pk=member.pk).update(id_number=bad_id),
    )
    member.id_number = bad_id
    with pytest.raises(ValidationError) as info:
        member.validate_constraints()
    assert info.value.messages == ["身份证号格式不正确。"]
    if bad_id.upper() != bad_id:
        member.full_clean()  # full_clean upper-cases the x, and then the row is fine
        assert member.id_number == bad_id.upper()
    else:
        assert "id_number" in clean_errors(member)


def test_member_id_number_unique():
    member = PartyMemberFactory(id_number="11010519491231002X", birth_date=datetime.date(1949, 12, 31))
    assert_db_refuses(
        "id_number",
        lambda: PartyMemberFactory(
            organization=member.organization, id_number="11010519491231002X", birth_date=member.birth_date
        ),
    )
    dup = PartyMemberFactory.build(
        organization=member.organization,
        enterprise=None,
        id_number="11010519491231002X",
        birth_date=datetime.date(1949, 12, 31),
    )
    assert "id_number" in clean_errors(dup)


def test_member_id_number_checksum_in_full_clean():
    member = PartyMemberFactory.build(
        organization=PartyOrganizationFactory(),
        enterprise=None,
        id_number="110105194912310021",
        birth_date=datetime.date(1949, 12, 31),
    )
    assert clean_errors(member)["id_number"] == ["身份证号校验位不正确，请核对后重新输入。"]


def test_member_birth_date_must_match_id_number():
    member = PartyMemberFactory.build(
        organization=PartyOrganizationFactory(),
        enterprise=None,
        id_number=make_id_number(7, datetime.date(1990, 5, 17)),
        birth_date=datetime.date(1990, 5, 18),
    )
    assert clean_errors(member)["birth_date"] == ["出生日期与身份证号不一致。"]
    member.birth_date = datetime.date(1990, 5, 17)
    member.full_clean()


def test_member_full_clean_upper_cases_x():
    first17 = "31010419880808123"
    number = first17 + id_number_check_char(first17)
    member = PartyMemberFactory.build(
        organization=PartyOrganizationFactory(),
        enterprise=None,
        id_number=number.lower(),
        birth_date=datetime.date(1988, 8, 8),
    )
    member.full_clean()
    assert member.id_number == number


@pytest.mark.parametrize("bad_phone", ["12812345678", "1381234567", "+8613812345"])
def test_member_phone_format(bad_phone):
    member = PartyMemberFactory()
    assert_db_refuses(
        "members_partymember_phone_format",
        lambda: PartyMember.objects.filter(pk=member.pk).update(phone=bad_phone),
    )
    member.phone = bad_phone
    assert clean_errors(member) == {"phone": ["请输入11位中国大陆手机号码（以13–19开头）。"]}
    with pytest.raises(ValidationError) as info:
        member.validate_constraints()
    assert info.value.messages == ["手机号码格式不正确。"]


# --- MemberTransfer -----------------------------------------------------------


def test_transfer_organizations_differ():
    transfer = MemberTransferFactory()
    assert_db_refuses(
        "members_membertransfer_different_organizations",
        lambda: MemberTransfer.objects.filter(pk=transfer.pk).update(
            to_organization=transfer.from_organization
        ),
    )
    transfer.to_organization = transfer.from_organization
    assert "转出与转入党组织不能相同。" in clean_errors(transfer)[NON_FIELD_ERRORS]


@pytest.mark.parametrize(
    ("direction", "has_from", "has_to"),
    [
        ("in", True, False),
        ("out", False, True),
        ("internal", True, False),
        ("internal", False, True),
        ("internal", False, False),
    ],
)
def test_transfer_direction_needs_its_organizations(direction, has_from, has_to):
    member = PartyMemberFactory()
    other = PartyOrganizationFactory(street=member.organization.street)
    fields = {
        "member": member,
        "direction": direction,
        "from_organization": member.organization if has_from else None,
        "to_organization": other if has_to else None,
        "requested_on": datetime.date(2026, 11, 1),
    }
    assert_db_refuses(
        "members_membertransfer_direction_organizations", lambda: MemberTransfer.objects.create(**fields)
    )
    errors = clean_errors(MemberTransfer(**fields))
    assert errors[NON_FIELD_ERRORS] == [
        "转入须填写转入党组织，转出须填写转出党组织，系统内转接两者都须填写。"
    ]


def test_transfer_valid_directions_are_accepted():
    member = PartyMemberFactory()
    other = PartyOrganizationFactory(street=member.organization.street)
    MemberTransfer(
        member=member,
        direction="in",
        to_organization=other,
        external_organization="某省某党支部",
        requested_on=datetime.date(2026, 1, 1),
    ).full_clean()
    MemberTransfer(
        member=member,
        direction="out",
        from_organization=member.organization,
        external_organization="外省某党支部",
        requested_on=datetime.date(2026, 1, 1),
    ).full_clean()


def test_transfer_completed_on_iff_completed():
    transfer = MemberTransferFactory()
    assert_db_refuses(
        "members_membertransfer_completed_on_iff_completed",
        lambda: MemberTransfer.objects.filter(pk=transfer.pk).update(status="completed"),
    )
    assert_db_refuses(
        "members_membertransfer_completed_on_iff_completed",
        lambda: MemberTransfer.objects.filter(pk=transfer.pk).update(completed_on=datetime.date(2026, 11, 5)),
    )
    transfer.status = MemberTransfer.Status.CANCELLED
    transfer.completed_on = datetime.date(2026, 11, 5)
    assert clean_errors(transfer)[NON_FIELD_ERRORS] == ["只有已完成的转接才有完成日期。"]
    MemberTransfer.objects.filter(pk=transfer.pk).update(
        status="completed", completed_on=datetime.date(2026, 11, 5)
    )


def test_one_pending_transfer_per_member():
    transfer = MemberTransferFactory()
    second = {
        "member": transfer.member,
        "direction": "out",
        "from_organization": transfer.member.organization,
        "external_organization": "外省某党支部",
        "requested_on": datetime.date(2026, 11, 2),
    }
    assert_db_refuses(
        "members_membertransfer_one_pending_per_member", lambda: MemberTransfer.objects.create(**second)
    )
    assert clean_errors(MemberTransfer(**second))[NON_FIELD_ERRORS] == [
        "该党员已有一条办理中的组织关系转接。"
    ]
    # once the first is no longer pending, a new one may be requested
    MemberTransfer.objects.filter(pk=transfer.pk).update(status="cancelled")
    MemberTransfer(**second).full_clean()
    MemberTransfer.objects.create(**second)
    # and a cancelled one may coexist with another cancelled one
    MemberTransfer.objects.filter(member=transfer.member).update(status="cancelled")
    assert MemberTransfer.objects.filter(member=transfer.member, status="cancelled").count() == 2


# --- User ---------------------------------------------------------------------


def test_user_phone_may_be_shared_and_blank():
    """Issue 14: not unique (it logs nobody in; a unique phone made sign-up an oracle)."""
    UserFactory(phone="13900000001")
    User.objects.create(username="b", phone="13900000001")
    User(username="e", phone="13900000001").full_clean(exclude=["password"])
    User.objects.create(username="c", phone="")
    User.objects.create(username="d", phone="")
    assert User.objects.filter(phone="13900000001").count() == 2


def test_user_enterprise_must_be_in_building():
    user = UserFactory.build(building=BuildingFactory(), enterprise=EnterpriseFactory(), phone="13900000002")
    assert clean_errors(user)["enterprise"] == ["工作单位不在所选楼宇中。"]
    user.enterprise = EnterpriseFactory(building=user.building)
    user.full_clean()


# --- MemberLinkRequest --------------------------------------------------------


def test_one_pending_link_request_per_user():
    user = UserFactory()
    first = MemberLinkRequest.objects.create(user=user, member=PartyMemberFactory())
    other_member = PartyMemberFactory()
    assert_db_refuses(
        "members_memberlinkrequest_one_pending_per_user",
        lambda: MemberLinkRequest.objects.create(user=user, member=other_member),
    )
    errors = clean_errors(MemberLinkRequest(user=user, member=other_member))
    assert errors[NON_FIELD_ERRORS] == ["您已有一条待核实的申请。"]
    first.status = MemberLinkRequest.Status.REJECTED
    first.save()
    MemberLinkRequest.objects.create(user=user, member=other_member)


def test_street_used_by_organization_cannot_be_deleted():
    from django.db.models import ProtectedError

    org = PartyOrganizationFactory(street=StreetFactory())
    with pytest.raises(ProtectedError):
        org.street.delete()


# --- ApiToken -----------------------------------------------------------------


def _token(user, **kwargs):
    from django.utils import timezone

    from members.models import ApiToken

    values = {
        "user": user,
        "name": "静安区社工部数据对接",
        "prefix": "abcd1234",
        "key_hash": "a" * 64,
        "expires_at": timezone.now() + datetime.timedelta(days=90),
    }
    values.update(kwargs)
    return ApiToken.objects.create(**values)


def test_api_token_expires_after_creation():
    from members.models import ApiToken

    token = _token(UserFactory())
    assert_db_refuses(
        "members_apitoken_expires_after_creation",
        lambda: ApiToken.objects.filter(pk=token.pk).update(expires_at=token.created_at),
    )
    token.expires_at = token.created_at - datetime.timedelta(seconds=1)
    assert clean_errors(token)[NON_FIELD_ERRORS] == ["到期时间必须晚于签发时间。"]


@pytest.mark.parametrize("bad_hash", ["A" * 64, "a" * 63, "g" * 64, "a" * 32])
def test_api_token_key_hash_is_lowercase_sha256_hex(bad_hash):
    from members.models import ApiToken

    token = _token(UserFactory())
    assert_db_refuses(
        "members_apitoken_key_hash_is_sha256",
        lambda: ApiToken.objects.filter(pk=token.pk).update(key_hash=bad_hash),
    )
    token.key_hash = bad_hash
    with pytest.raises(ValidationError) as info:
        token.validate_constraints()
    assert info.value.messages == ["密钥摘要必须是 SHA-256 十六进制值。"]


def test_api_token_key_hash_unique():
    user = UserFactory()
    _token(user)
    assert_db_refuses("key_hash", lambda: _token(user, prefix="zzzz9999"))
