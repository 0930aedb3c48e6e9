"""One display name everywhere (issue 15, item 1): "张伟", never "伟 张".

The name people write (``User.real_name``, 姓名) is asked at sign-up and on the profile, and
``User.display_name`` shows it in notifications, check-in, the admin's list and header, the
booking export and the API. Accounts made before the field had only the two halves; those
are joined family name first, with no space, when the name is Chinese.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.notifications.sender import send_due
from members.models import User, compose_name
from services import booking as engine
from services.models import Booking
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)


def open_event(**kwargs):
    starts = (timezone.now() + 3 * D).replace(microsecond=0)
    return EventFactory(
        starts_at=starts,
        ends_at=starts + 2 * H,
        booking_opens_at=starts - 10 * D,
        booking_closes_at=starts + H,
        cancel_deadline=starts,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("family", "given", "expected"),
    [
        ("张", "伟", "张伟"),
        ("欧阳", "娜娜", "欧阳娜娜"),
        (" 张 ", "伟", "张伟"),
        ("Müller", "Anna", "Anna Müller"),
        ("", "Anna", "Anna"),
        ("", "", ""),
    ],
)
def test_names_are_composed_as_people_write_them(family, given, expected):
    assert compose_name(family=family, given=given) == expected


def test_display_name_prefers_the_written_name_then_the_parts_then_the_username():
    assert UserFactory(real_name="张伟", first_name="x", last_name="y").display_name == "张伟"
    assert UserFactory(last_name="张", first_name="伟").display_name == "张伟"
    assert UserFactory(first_name="Anna", last_name="Müller").display_name == "Anna Müller"
    assert UserFactory(username="nobody").display_name == "nobody"
    assert UserFactory(last_name="张", first_name="伟").get_short_name() == "张伟"


def test_notifications_greet_the_person_family_name_first(mailoutbox):
    zhang = UserFactory(last_name="张", first_name="伟", email="zhang@example.com")
    anna = UserFactory(real_name="Anna Müller", language="en", email="anna@example.com")
    event = open_event()
    engine.book_event(user=zhang, event=event)
    engine.book_event(user=anna, event=event)
    send_due(worker_id="t")
    bodies = {m.to[0]: m.body for m in mailoutbox}
    assert "张伟，您好！" in bodies["zhang@example.com"]
    assert "伟 张" not in bodies["zhang@example.com"]
    assert "Dear Anna Müller," in bodies["anna@example.com"]


def test_check_in_names_the_person_family_name_first(client, social_worker, street_a):
    from tests.services.test_views_portal import started

    event = started(street_a, title="今天的党课")
    booking = Booking.objects.create(
        event=event, user=UserFactory(last_name="张", first_name="伟"), status=Booking.Status.CONFIRMED
    )
    event.confirmed_count = 1
    event.save(update_fields=["confirmed_count"])
    client.force_login(social_worker)
    response = client.post(
        reverse("portal:checkin"), {"code": engine.checkin_code(booking), "event": event.pk}, follow=True
    )
    assert "签到成功：张伟 · 今天的党课" in response.content.decode()


def test_admin_user_list_and_header_show_the_one_name(client, street_a):
    from tests.buildings.factories import BuildingFactory

    admin_user = UserFactory(
        username="root", is_staff=True, is_superuser=True, last_name="李", first_name="敏"
    )
    UserFactory(username="cheng", last_name="程", first_name="洁", building=BuildingFactory(street=street_a))
    client.force_login(admin_user)
    page = client.get(reverse("admin:members_user_changelist")).content.decode()
    assert "欢迎，<strong>李敏</strong>。" in page
    assert "程洁" in page and "洁 程" not in page
    english = client.get(reverse("admin:members_user_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    english_page = english.content.decode()
    assert "Welcome, <strong>李敏</strong>." in english_page


def test_booking_export_and_api_show_the_one_name(client):
    user = UserFactory(last_name="张", first_name="伟")
    event = open_event()
    booking = engine.book_event(user=user, event=event)
    api = APIClient()
    api.force_login(user)
    body = api.get(reverse("api:booking-detail", args=[booking.pk])).json()
    assert body["user"]["name"] == "张伟"
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:services_booking_changelist"),
        {"action": "export_csv", "_selected_action": [booking.pk]},
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig") if response.streaming else ""
    text = text or response.content.decode("utf-8-sig")
    assert "张伟" in text


def test_sign_up_asks_the_real_name_and_the_profile_edits_it(client):
    from tests.buildings.factories import BuildingFactory

    building = BuildingFactory()
    data = {
        "real_name": " 王  小明 ",
        "username": "xiaoming",
        "phone": "13912345678",
        "email": "xiaoming@example.com",
        "password1": "Quiet-River-2026",
        "password2": "Quiet-River-2026",
        "building": building.pk,
        "building_text": "",
        "enterprise": "",
        "enterprise_text": "",
    }
    missing = client.post(reverse("signup"), {**data, "real_name": ""})
    assert missing.status_code == 200
    assert missing.context["form"].errors["real_name"]
    response = client.post(reverse("signup"), data)
    assert response.status_code == 302
    user = User.objects.get(username="xiaoming")
    assert user.real_name == "王 小明" and user.display_name == "王 小明"

    profile = client.get(reverse("profile")).content.decode()
    assert 'name="real_name"' in profile and 'value="王 小明"' in profile
    client.post(
        reverse("profile"),
        {"real_name": "王小明", "building": building.pk, "language": "zh-hans", "notify_by_email": "on"},
    )
    user.refresh_from_db()
    assert user.real_name == "王小明"
