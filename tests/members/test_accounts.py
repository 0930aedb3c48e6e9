"""Accounts (members/accounts.py and the accounts pages): sign-up, login, passwords, profile, link requests."""

import re
import time

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from members import accounts
from members.models import MemberLinkRequest, User
from members.selectors import calendar_token_digest
from tests.buildings.factories import BuildingFactory, EnterpriseFactory
from tests.members.factories import PASSWORD, PartyMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = reverse("signup")


@pytest.fixture
def building():
    return BuildingFactory(name="静安嘉里中心", address="南京西路1515号")


@pytest.fixture
def enterprise(building):
    return EnterpriseFactory(building=building, name="上海示例科技有限公司")


def signup_data(bldg, enterprise=None, **overrides):
    data = {
        "real_name": "王小明",
        "username": "xiaoming",
        "phone": "13912345678",
        "email": "xiaoming@example.com",
        "password1": "Quiet-River-2026",
        "password2": "Quiet-River-2026",
        "building": bldg.pk,
        "building_text": "",
        "enterprise": enterprise.pk if enterprise else "",
        "enterprise_text": "",
    }
    data.update(overrides)
    return data


# --- the write side ------------------------------------------------------------------------------


def test_register_user_creates_an_employee(building, enterprise):
    user = accounts.register_user(
        username="lihua",
        email="lihua@example.com",
        phone="13800001111",
        password="Quiet-River-2026",
        building=building,
        enterprise=enterprise,
    )
    user.refresh_from_db()
    assert user.check_password("Quiet-River-2026")
    assert (user.building, user.enterprise, user.is_staff, user.is_superuser) == (
        building,
        enterprise,
        False,
        False,
    )


def test_register_user_refuses_an_employer_in_another_building_and_weak_passwords(building):
    elsewhere = EnterpriseFactory()
    with pytest.raises(ValidationError) as info:
        accounts.register_user(
            username="a", email="a@example.com", phone="13800001111", password="Quiet-River-2026",
            building=building, enterprise=elsewhere,
        )  # fmt: skip
    assert "工作单位不在所选楼宇中。" in str(info.value)
    with pytest.raises(ValidationError):
        accounts.register_user(
            username="b", email="b@example.com", phone="13800001112", password="12345678", building=building
        )
    assert not User.objects.exists()


# --- sign-up page --------------------------------------------------------------------------------


def test_signup_logs_in_and_says_welcome(client, building, enterprise):
    response = client.post(SIGNUP, signup_data(building, enterprise), follow=True)
    user = User.objects.get(username="xiaoming")
    assert (user.building, user.enterprise, user.phone) == (building, enterprise, "13912345678")
    assert response.context["user"] == user
    assert "注册成功，欢迎您！" in response.content.decode()


def test_signup_without_javascript_resolves_typed_names(client, building, enterprise):
    data = signup_data(
        building,
        building="",
        building_text="静安嘉里中心（南京西路1515号）",
        enterprise="",
        enterprise_text="上海示例科技有限公司",
    )
    client.post(SIGNUP, data)
    user = User.objects.get(username="xiaoming")
    assert (user.building, user.enterprise) == (building, enterprise)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phone": "12345"}, "phone", "请输入11位中国大陆手机号码（以13–19开头）。"),
        ({"building": "", "building_text": "不存在的大厦"}, "building", "未找到“不存在的大厦”"),
        ({"building": "", "building_text": ""}, "building", "该字段是必填项。"),
        ({"building": "999999"}, "building", "请从提示列表中选择。"),
        ({"password2": "different"}, "password2", "输入的两个密码不一致。"),
        ({"email": "not-an-email"}, "email", "请输入合法的邮件地址。"),
    ],
)
def test_signup_errors_are_field_messages(client, building, overrides, field, message):
    response = client.post(SIGNUP, signup_data(building, **overrides))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors
    assert not User.objects.filter(username="xiaoming").exists()


def test_signup_refuses_taken_email_and_foreign_employer(client, building):
    UserFactory(phone="13912345678", email="XiaoMing@example.com")
    response = client.post(SIGNUP, signup_data(building, EnterpriseFactory()))
    errors = response.context["form"].errors
    assert "phone" not in errors  # issue 14: the answer does not say whose phone is on file
    assert "该邮箱已注册。如忘记密码，请使用“找回密码”。" in errors["email"]
    assert errors["enterprise"]  # an enterprise of another building is not in the narrowed list


def test_signup_answers_the_same_whether_or_not_the_phone_is_registered(client, building):
    """Issue 14: "该手机号码已注册" told anyone whose number is on file. A phone logs nobody in and
    resets nothing, so two accounts may give the same number; the answer is the same."""
    answers = []
    for n, taken in enumerate((False, True)):
        if taken:
            UserFactory(phone="13912345678")
        data = signup_data(building, username=f"xiaoming{n}", email=f"x{n}@example.com")
        response = Client().post(SIGNUP, data, follow=True)
        answers.append(
            (response.status_code, response.redirect_chain, [str(m) for m in response.context["messages"]])
        )
        assert User.objects.get(username=f"xiaoming{n}").phone == "13912345678"
    assert answers[0] == answers[1]


def test_signup_page_renders_accessible_autocomplete(client, building):
    html = client.get(SIGNUP).content.decode()
    assert 'role="combobox"' in html
    assert '<label for="id_building"' in html and 'id="id_building"' in html
    assert f'data-autocomplete-url="{reverse("autocomplete_buildings")}"' in html


# --- autocomplete --------------------------------------------------------------------------------


def test_building_autocomplete(client, building):
    BuildingFactory(name="恒隆广场", address="南京西路1266号")
    for i in range(20):
        BuildingFactory(name=f"南京西路大楼{i}")
    data = client.get(reverse("autocomplete_buildings"), {"q": "嘉里"}).json()
    assert data["results"] == [
        {"id": building.pk, "label": "静安嘉里中心（南京西路1515号）", "detail": building.street.name}
    ]
    by_address = client.get(reverse("autocomplete_buildings"), {"q": "1266"}).json()["results"]
    assert [r["label"] for r in by_address] == ["恒隆广场（南京西路1266号）"]
    assert len(client.get(reverse("autocomplete_buildings"), {"q": "南京西路"}).json()["results"]) == 15
    assert client.get(reverse("autocomplete_buildings")).json() == {"results": []}


def test_enterprise_autocomplete_is_per_building(client, building, enterprise):
    EnterpriseFactory(name="上海示例贸易有限公司")  # another building
    url = reverse("autocomplete_enterprises")
    results = client.get(url, {"building": building.pk, "q": "示例"}).json()["results"]
    assert [r["id"] for r in results] == [enterprise.pk]
    assert [r["id"] for r in client.get(url, {"building": building.pk}).json()["results"]] == [enterprise.pk]
    assert client.get(url, {"q": "示"}).json() == {"results": []}
    assert len(client.get(url, {"q": "示例"}).json()["results"]) == 2
    bad = client.get(url, {"building": "1 OR 1=1"})
    assert bad.status_code == 400 and "building" in bad.json()["error"]


# --- login, logout, passwords --------------------------------------------------------------------


def test_login_and_logout_answer_with_messages(client):
    user = UserFactory(username="zhangwei", language="en")
    response = client.post(reverse("login"), {"username": "zhangwei", "password": PASSWORD})
    assert response.status_code == 302
    # The language saved in the profile applies from the login on.
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get(response["Location"])
    assert page.context["user"] == user
    assert "Logged in." in page.content.decode() or "登录成功。" in page.content.decode()
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    response = client.post(reverse("logout"), follow=True)
    assert not response.context["user"].is_authenticated
    assert "您已退出登录。" in response.content.decode()


def test_wrong_password_is_a_form_error(client):
    UserFactory(username="zhangwei")
    response = client.post(reverse("login"), {"username": "zhangwei", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_password_change(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Quiet-River-2026", "new_password2": "Quiet-River-2026"},
        follow=True,
    )
    user.refresh_from_db()
    assert user.check_password("Quiet-River-2026")
    assert "密码已修改。" in response.content.decode()


def test_password_reset_by_email(client):
    user = UserFactory(email="reset@example.com")
    response = client.post(reverse("password_reset"), {"email": "reset@example.com"}, follow=True)
    assert "请查收邮件" in response.content.decode()
    (message,) = mail.outbox
    assert message.to == ["reset@example.com"] and "重设您的密码" in message.subject
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Quiet-River-2026", "new_password2": "Quiet-River-2026"},
    )
    user.refresh_from_db()
    assert user.check_password("Quiet-River-2026")
    # An unknown address gets the same page and no mail (no account discovery).
    client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert len(mail.outbox) == 1


# --- profile -------------------------------------------------------------------------------------


def test_profile_update_and_language_cookie(client, building, enterprise):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("profile"),
        {
            "real_name": "王小明",
            "email": "new@example.com",
            "phone": "13700000000",
            "language": "en",
            "notify_by_email": "",
            "notify_in_portal": "on",
            "building": building.pk,
            "enterprise": enterprise.pk,
        },
    )
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    user.refresh_from_db()
    # The e-mail changes only through its confirmation (tests/members/test_contacts.py).
    assert (user.real_name, user.email, user.building, user.enterprise) == (
        "王小明",
        f"{user.username}@example.com",
        building,
        enterprise,
    )
    assert user.notify_by_email is False and user.language == "en"


def test_profile_refuses_foreign_employer_and_keeps_staff_flags(client, building):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("profile"),
        {
            "email": user.email,
            "phone": user.phone,
            "language": "zh-hans",
            "building": building.pk,
            "enterprise_text": EnterpriseFactory(name="别楼的公司").name,
            "is_staff": "on",
            "is_superuser": "on",
        },
    )
    assert response.status_code == 200
    assert "个人资料未保存" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser and user.building is None


# --- party-member link requests ------------------------------------------------------------------


def test_link_request_matches_name_and_id_number(client):
    member = PartyMemberFactory(name="李红")
    user = UserFactory()
    client.force_login(user)
    url = reverse("member_link_request")
    response = client.post(url, {"name": "李红", "id_number": "310101199001011235"})
    assert response.context["form"].errors["id_number"]  # bad check digit: a field error
    response = client.post(url, {"name": "李红", "id_number": member.id_number.lower()}, follow=True)
    request = MemberLinkRequest.objects.get(user=user)
    assert request.member == member and request.status == MemberLinkRequest.Status.PENDING
    assert request.street == member.organization.street and request.name == "李红"
    assert request.id_number_hint == member.id_number[:3] + "*" * 11 + member.id_number[-4:]
    assert "申请已提交" in response.content.decode()
    assert "正在等待街道社工核实" in client.get(reverse("profile")).content.decode()


def test_link_request_refusals_concern_only_the_applicant():
    member = PartyMemberFactory(name="李红")
    user = UserFactory()
    accounts.request_member_link(user=user, name="李红", id_number=member.id_number)
    with pytest.raises(accounts.AccountError) as info:
        accounts.request_member_link(user=user, name="李红", id_number=member.id_number)
    assert info.value.code == "request_pending"
    linked = UserFactory(party_member=PartyMemberFactory())
    with pytest.raises(accounts.AccountError) as info:
        accounts.request_member_link(user=linked, name="x", id_number="y")
    assert info.value.code == "already_linked"
    assert MemberLinkRequest.objects.count() == 1


# --- the link form is no probe (issue 14, item 5) ---------------------------------------------------


def _answer(client, name: str, id_number: str) -> tuple:
    """What the applicant can observe: the answer (status, redirect, message) and their profile's
    party-member section afterwards (the rest of the page names the account)."""
    response = client.post(
        reverse("member_link_request"), {"name": name, "id_number": id_number}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    profile = client.get(reverse("profile")).content.decode()
    section = profile.split('id="member-heading"', 1)[1].split("</section>", 1)[0]
    return (
        response.status_code,
        response.redirect_chain,
        messages,
        re.sub(r"\d+月\d+日 \d+:\d+", "<when>", section),
    )


def test_one_answer_whatever_is_on_file(building):
    """Not found, linked to another account, or found: the applicant sees the same."""
    on_file = PartyMemberFactory(name="李红")
    taken = PartyMemberFactory(name="王刚")
    UserFactory(party_member=taken)
    from tests.members.factories import make_id_number

    cases = {
        "found": ("李红", on_file.id_number),
        "linked to another account": ("王刚", taken.id_number),
        "wrong name": ("李白", on_file.id_number),
        "not on file": ("张三", make_id_number(987)),
    }
    answers = {}
    for case, (name, number) in cases.items():
        client = Client()
        client.force_login(UserFactory(building=building))
        answers[case] = _answer(client, name, number)
    first = answers["found"]
    assert first[2] == ["申请已提交。街道社工核实后，您就可以预约“仅限党员”的活动。"]
    assert all(answer == first for answer in answers.values()), answers
    # Each try is a request the street's social worker sees; only "found" names a record.
    requests = MemberLinkRequest.objects.order_by("pk")
    assert [r.member for r in requests] == [on_file, taken, None, None]
    assert [r.street for r in requests[2:]] == [building.street, building.street]


def test_tries_are_limited_per_account(building):
    user = UserFactory(building=building)
    for n in range(accounts.LINK_TRIES_PER_ACCOUNT):
        request = accounts.request_member_link(user=user, name="李白", id_number=f"11010119900101{n:04d}")
        request.status = MemberLinkRequest.Status.REJECTED
        request.save()
    with pytest.raises(accounts.AccountError) as refused:
        accounts.request_member_link(user=user, name="李白", id_number="110101199001019999")
    assert refused.value.code == "too_many_tries"
    # A day later the account may try again.
    later = time.time() + 24 * 3600
    accounts.request_member_link(user=user, name="李白", id_number="110101199001019999", now=later)


def test_tries_are_limited_per_address(building):
    """New accounts do not reset the count: 20 tries an hour from one address."""
    for n in range(accounts.LINK_TRIES_PER_ADDRESS):
        accounts.request_member_link(
            user=UserFactory(building=building),
            name="李白",
            id_number=f"1101011990{n:08d}",
            address="10.0.0.7",
        )
    with pytest.raises(accounts.AccountError) as refused:
        accounts.request_member_link(
            user=UserFactory(building=building),
            name="李白",
            id_number="110101199001019999",
            address="10.0.0.7",
        )
    assert refused.value.code == "too_many_tries"
    accounts.request_member_link(
        user=UserFactory(building=building), name="李白", id_number="110101199001019999", address="10.0.0.8"
    )


def test_the_form_shows_the_limit(client, building):
    """22 tries in 1.3 s (the report): the 6th try of one account is refused, nothing is written."""
    user = UserFactory(building=building)
    client.force_login(user)
    for _try in range(accounts.LINK_TRIES_PER_ACCOUNT + 1):
        MemberLinkRequest.objects.filter(user=user).update(status=MemberLinkRequest.Status.REJECTED)
        response = client.post(
            reverse("member_link_request"),
            {"name": "李白", "id_number": PartyMemberFactory.build().id_number},
        )
    assert response.status_code == 200
    assert "尝试次数过多" in response.content.decode()
    assert MemberLinkRequest.objects.filter(user=user).count() == accounts.LINK_TRIES_PER_ACCOUNT


# --- calendar token ------------------------------------------------------------------------------


def test_calendar_token_reset_and_revoke_from_the_profile(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("calendar_token"), {"action": "reset"}, follow=True)
    user.refresh_from_db()
    assert user.calendar_token_hash
    html = response.content.decode()
    assert "已生成日历订阅地址" in html
    # The feed URL is on the page the reset leads to, and only there: its key is not stored.
    [key] = re.findall(r"/calendar/([A-Za-z0-9_-]+)\.ics", html)
    assert calendar_token_digest(key) == user.calendar_token_hash != key
    assert client.get(reverse("portal:calendar_feed", args=[key])).status_code == 200
    again = client.get(reverse("profile")).content.decode()
    assert key not in again and "/calendar/" not in again and "日历订阅已开启" in again
    old = user.calendar_token_hash
    client.post(reverse("calendar_token"), {"action": "reset"})
    user.refresh_from_db()
    assert user.calendar_token_hash != old
    assert client.get(reverse("portal:calendar_feed", args=[key])).status_code == 404  # the old URL
    response = client.post(reverse("calendar_token"), {"action": "revoke"}, follow=True)
    user.refresh_from_db()
    assert user.calendar_token_hash is None
    assert "日历订阅已关闭" in response.content.decode()
    assert client.get(reverse("calendar_token")).status_code == 405
    response = client.post(reverse("calendar_token"), {"action": "drop tables"}, follow=True)
    assert "无法识别的操作。" in response.content.decode()


@pytest.mark.django_db
def test_a_staff_member_without_the_permission_cannot_decide_a_link_request(street_a):
    """The write side checks the model permission too, not only the territory (core.scoping.in_scope)."""
    from members.linking import LinkError, approve_link_request
    from members.models import MemberLinkRequest
    from tests.members.factories import MemberLinkRequestFactory, PartyMemberFactory, StaffUserFactory

    member = PartyMemberFactory(organization__street=street_a)
    request = MemberLinkRequestFactory(member=member)
    with pytest.raises(LinkError) as refused:
        approve_link_request(request=request, by=StaffUserFactory(streets=[street_a]))
    assert refused.value.code == "out_of_scope"
    request.refresh_from_db()
    assert request.status == MemberLinkRequest.Status.PENDING and request.user.party_member_id is None


# --- the language cookie (issue 14, item 6) ------------------------------------------------------


def test_every_language_cookie_is_secure_with_the_production_setting(client, settings, building):
    """Login, the profile and the header's language switch all set it as LANGUAGE_COOKIE_SECURE says."""
    settings.LANGUAGE_COOKIE_SECURE = True  # config/settings/production.py
    user = UserFactory(username="secure_cookie", language="en")
    response = client.post(reverse("login"), {"username": "secure_cookie", "password": PASSWORD})
    assert response.status_code == 302
    cookies = [response.cookies[settings.LANGUAGE_COOKIE_NAME]]
    response = client.post(
        reverse("profile"), {"real_name": "王", "building": building.pk, "language": "zh-hans"}
    )
    assert response.status_code == 302
    cookies.append(response.cookies[settings.LANGUAGE_COOKIE_NAME])
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    cookies.append(response.cookies[settings.LANGUAGE_COOKIE_NAME])
    assert [bool(c["secure"]) for c in cookies] == [True, True, True]
    assert {c["samesite"] for c in cookies} == {"Lax"}
    assert user.pk
