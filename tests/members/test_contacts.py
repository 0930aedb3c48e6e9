"""An account's e-mail and phone: only the person changes them (members/contacts.py), and every change
to an account is in its history.

Issue 14, item 3: a social worker changed an employee's e-mail in the admin, asked for a
password reset to that address, and read their counselling bookings. Staff now correct a
name or a building, never the e-mail or the phone; the person changes them with their
password, the new e-mail confirmed from the new address with a notice to the old one.
"""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pghistory.models import Events, MiddlewareEvents

from members import contacts
from members.accounts import AccountError
from members.groups import SOCIAL_WORKER
from members.models import User
from tests.admin_helpers import form_post_data
from tests.buildings.factories import BuildingFactory
from tests.members.factories import PASSWORD, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def employee(street_a):
    return UserFactory(
        username="victim",
        email="victim@example.com",
        phone="13911112222",
        real_name="王",
        building=BuildingFactory(street=street_a),
    )


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def confirm_link(message) -> str:
    return re.search(r"https?://\S+/accounts/email/confirm/\S+/", message.body).group(0)


# --- staff cannot change how an account is reached ----------------------------------------------


def test_a_social_worker_cannot_take_over_an_employee_by_changing_the_email(employee, social_worker):
    client = logged_in(social_worker)
    url = reverse("admin:members_user_change", args=[employee.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "victim@example.com" in page.content.decode()  # shown, not editable
    assert "13911112222" not in page.content.decode()  # the phone is masked too
    data = form_post_data(page)
    assert "email" not in data and "phone" not in data
    new_building = BuildingFactory(street=employee.building.street)
    data.update(email="attacker@example.com", phone="13800000000", real_name="王五", building=new_building.pk)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    employee.refresh_from_db()
    assert employee.email == "victim@example.com" and employee.phone == "13911112222"
    assert (employee.real_name, employee.building) == ("王五", new_building)  # a name, a building: yes

    mail.outbox.clear()
    Client().post(reverse("password_reset"), {"email": "attacker@example.com"})
    assert mail.outbox == []  # no reset link reaches the attacker's address


def test_a_superuser_cannot_change_anothers_email_or_phone_either(employee, superuser):
    client = logged_in(superuser)
    url = reverse("admin:members_user_change", args=[employee.pk])
    data = form_post_data(client.get(url))
    data.update(email="attacker@example.com", phone="13800000000", real_name="王改")
    assert client.post(url, data).status_code == 302
    employee.refresh_from_db()
    assert (employee.email, employee.phone, employee.real_name) == (
        "victim@example.com",
        "13911112222",
        "王改",
    )


def test_the_profile_form_changes_neither_email_nor_phone(employee):
    client = logged_in(employee)
    response = client.post(
        reverse("profile"),
        {
            "real_name": "王小明",
            "email": "other@example.com",
            "phone": "13800000000",
            "building": employee.building_id,
            "language": "zh-hans",
            "notify_by_email": "on",
        },
    )
    assert response.status_code == 302
    employee.refresh_from_db()
    assert (employee.real_name, employee.email, employee.phone) == (
        "王小明",
        "victim@example.com",
        "13911112222",
    )


# --- the person changes them -------------------------------------------------------------------------


def test_a_new_email_is_confirmed_from_the_new_address_with_a_notice_to_the_old(
    employee, django_capture_on_commit_callbacks
):
    client = logged_in(employee)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("contact_change"),
            {"email": "new@example.com", "phone": employee.phone, "password": PASSWORD},
            follow=True,
        )
    assert "我们已向 new@example.com 发送确认邮件" in response.content.decode()
    employee.refresh_from_db()
    assert employee.email == "victim@example.com"  # not before the link is opened
    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {"new@example.com", "victim@example.com"}
    assert "n***@example.com" in by_address["victim@example.com"].body
    assert "/accounts/email/confirm/" not in by_address["victim@example.com"].body
    link = confirm_link(by_address["new@example.com"])
    path = link.split("://", 1)[1].split("/", 1)[1]

    anonymous = Client()
    assert anonymous.get("/" + path).status_code == 200  # a mail scanner's GET changes nothing
    employee.refresh_from_db()
    assert employee.email == "victim@example.com"
    assert anonymous.post("/" + path).status_code == 302
    employee.refresh_from_db()
    assert employee.email == "new@example.com"
    assert anonymous.post("/" + path).status_code == 400  # works once

    # Recorded in the account's history, with the person as its author.
    [change] = [e for e in MiddlewareEvents.objects.tracks(employee) if "email" in (e.pgh_diff or {})]
    assert change.pgh_diff["email"] == ["victim@example.com", "new@example.com"]
    assert change.pgh_context["user"] == employee.pk


def test_a_wrong_password_changes_and_sends_nothing(employee, django_capture_on_commit_callbacks):
    client = logged_in(employee)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("contact_change"),
            {"email": "new@example.com", "phone": "13800000000", "password": "wrong"},
        )
    assert response.status_code == 200
    assert "密码不正确。" in response.content.decode()
    employee.refresh_from_db()
    assert (employee.email, employee.phone) == ("victim@example.com", "13911112222")
    assert mail.outbox == []


def test_changing_the_password_voids_a_pending_link(employee):
    contacts.request_email_change(user=employee, new_email="new@example.com")
    token = contacts.email_change_token(employee, "new@example.com")
    employee.set_password("another-strong-password-42")
    employee.save()
    with pytest.raises(AccountError) as refused:
        contacts.confirm_email_change(token=token)
    assert refused.value.code == "link_invalid"


def test_a_link_expires_after_three_days(employee):
    token = contacts.email_change_token(employee, "new@example.com")
    later = timezone.now() + datetime.timedelta(days=3, minutes=1)
    with time_machine.travel(later), pytest.raises(AccountError):
        contacts.confirm_email_change(token=token)
    assert contacts.confirm_email_change(token=token).email == "new@example.com"


@pytest.mark.parametrize("token", ["x", "e30:1abc:def", "a" * 200])
def test_a_forged_link_is_refused(employee, token):
    with pytest.raises(AccountError):
        contacts.confirm_email_change(token=token)
    assert Client().post(reverse("email_change_confirm", args=[token])).status_code == 400


def test_an_address_of_another_account_gets_the_same_answer_and_no_link(
    employee, django_capture_on_commit_callbacks
):
    UserFactory(email="taken@example.com")
    client = logged_in(employee)
    with django_capture_on_commit_callbacks(execute=True):
        mail.outbox.clear()
        response = client.post(
            reverse("contact_change"),
            {"email": "taken@example.com", "phone": employee.phone, "password": PASSWORD},
            follow=True,
        )
    assert "我们已向 taken@example.com 发送确认邮件" in response.content.decode()  # the same answer
    [to_new] = [m for m in mail.outbox if m.to == ["taken@example.com"]]
    assert "/accounts/email/confirm/" not in to_new.body and "已用于另一个账号" in to_new.body
    # Even a link made by hand for it is refused when opened.
    with pytest.raises(AccountError) as refused:
        contacts.confirm_email_change(token=contacts.email_change_token(employee, "taken@example.com"))
    assert refused.value.code == "email_taken"


def test_the_phone_changes_at_once_with_a_notice_and_a_history_entry(
    employee, django_capture_on_commit_callbacks
):
    client = logged_in(employee)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("contact_change"), {"email": employee.email, "phone": "13833334444", "password": PASSWORD}
        )
    employee.refresh_from_db()
    assert employee.phone == "13833334444"
    [notice] = mail.outbox
    assert notice.to == ["victim@example.com"] and "138****4444" in notice.body
    [change] = [e for e in MiddlewareEvents.objects.tracks(employee) if "phone" in (e.pgh_diff or {})]
    assert change.pgh_diff["phone"] == ["13911112222", "13833334444"]
    assert change.pgh_context["user"] == employee.pk


def test_the_mails_speak_the_persons_language(employee, django_capture_on_commit_callbacks):
    employee.language = "en"
    employee.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        contacts.request_email_change(user=employee, new_email="new@example.com")
    assert all("楼宇党建：" not in m.subject for m in mail.outbox) and len(mail.outbox) == 2


# --- history of accounts -------------------------------------------------------------------------------


def test_who_changed_what_in_an_account_is_in_its_history(employee, street_a):
    worker = StaffUserFactory(username="sw_history", streets=[street_a])
    worker.groups.add(Group.objects.get(name=SOCIAL_WORKER))
    client = logged_in(worker)
    url = reverse("admin:members_user_change", args=[employee.pk])
    data = form_post_data(client.get(url))
    data["real_name"] = "张"
    assert client.post(url, data).status_code == 302
    employee.refresh_from_db()
    employee.set_password("a-new-password-123")
    employee.last_login = timezone.now()
    employee.save()
    from members import accounts

    accounts.reset_calendar_token(user=employee)

    history = client.get(reverse("admin:members_user_history", args=[employee.pk]))
    assert history.status_code == 200
    entries = history.context["entries"]
    change = next(e for e in entries if e["action"] == "修改")
    assert change["user"] == worker and change["via"] == "管理后台"
    assert any(c["after"] == "张" for c in change["changes"])
    html = history.content.decode()
    # The password, the login time and the calendar key are no history: no event, no column.
    assert User.objects.get(pk=employee.pk).password not in html
    data = [e.pgh_data for e in Events.objects.tracks(employee)]
    assert all("password" not in d and "calendar_token_hash" not in d and "last_login" not in d for d in data)
    assert len(data) == 2  # the insert and the staff member's change; not the password or login
    # The phone is masked in the history for staff without the personal-data permission.
    assert "13911112222" not in html
