"""Defects found by using the portal as its users do (QA pass), each pinned by a test.

- the ID-number length error spoke Django's "Ensure this value has at least 18
  characters"; it now says what an ID number is;
- the profile page showed the stored language although the page was in another
  one (the header switch sets only the cookie), so saving switched the portal back;
  and the notification channels sat between the phone and the building;
- an ended or cancelled event still offered seats left, the waitlist and "cannot
  cancel online after …";
- a 403 inside the admin sent staff to the portal's event list.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from members.forms import MemberLinkRequestForm, ProfileForm
from services.models import Event
from tests.members.factories import StaffUserFactory, UserFactory
from tests.services.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("value", "shown"), [("123", "3"), ("3101101996062204571", "19")])
def test_id_number_length_error_says_eighteen_digits(value, shown):
    form = MemberLinkRequestForm(data={"name": "张三", "id_number": value})
    assert not form.is_valid()
    assert form.errors["id_number"] == [f"身份证号应为 18 位（目前 {shown} 位）。"]


def test_id_number_length_error_in_english():
    from django.utils import translation

    with translation.override("en"):
        form = MemberLinkRequestForm(data={"name": "Zhang San", "id_number": "123"})
        assert not form.is_valid()
        assert form.errors["id_number"] == ["An ID number has 18 characters (this one has 3)."]


def test_profile_fields_person_and_workplace_before_notification_settings():
    user = UserFactory()
    names = list(ProfileForm(instance=user).fields)
    # Not the e-mail or the phone: they change with the password, confirmed (members/contacts.py).
    assert names == [
        "real_name",
        "building",
        "enterprise",
        "language",
        "notify_by_email",
        "notify_in_portal",
    ]
    form = ProfileForm(instance=user)
    assert form.fields["notify_by_email"].help_text
    assert form.fields["language"].help_text


def _selected_language(html: str) -> str:
    select = re.search(r'<select name="language".*?</select>', html, re.S).group(0)
    return re.search(r'<option value="([^"]+)"[^>]*selected', select).group(1)


def test_profile_language_follows_the_page_language(client, settings):
    user = UserFactory(language="zh-hans")
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("profile"))
    assert response.status_code == 200
    assert _selected_language(response.content.decode()) == "en"

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert _selected_language(client.get(reverse("profile")).content.decode()) == "zh-hans"


@pytest.mark.parametrize("state", ["past", "cancelled"])
def test_ended_or_cancelled_event_offers_no_seats_or_deadlines(client, state):
    now = timezone.now()
    if state == "past":
        start = now - datetime.timedelta(days=2)
        event = EventFactory(
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=2),
            booking_opens_at=start - datetime.timedelta(days=7),
            booking_closes_at=start - datetime.timedelta(hours=1),
            cancel_deadline=start - datetime.timedelta(hours=12),
            capacity=40,
        )
    else:
        event = EventFactory(capacity=40, status=Event.Status.CANCELLED)
    html = client.get(reverse("portal:event_detail", args=[event.pk])).content.decode()
    assert "共 40 个名额" in html
    assert "余位" not in html
    assert "之后不能在网上取消" not in html


def test_open_event_still_shows_seats_and_deadline(client):
    event = EventFactory(capacity=40)
    html = client.get(reverse("portal:event_detail", args=[event.pk])).content.decode()
    assert "余位 40 / 40" in html
    assert "之后不能在网上取消" in html


def test_forbidden_admin_page_links_back_to_the_admin(client):
    staff = StaffUserFactory()
    staff.user_permissions.add(Permission.objects.get(codename="view_event"))
    client.force_login(staff)
    # A staff user without the permission for this model gets the 403 page.
    response = client.get("/admin/notifications/outbox/")
    assert response.status_code == 403
    html = response.content.decode()
    assert reverse("admin:index") in html
    assert "返回管理后台首页" in html


def test_forbidden_portal_page_links_to_the_events(client):
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory
    from django.views.defaults import permission_denied

    request = RequestFactory().get("/checkin/")
    request.user = UserFactory()
    response = permission_denied(request, PermissionDenied())
    html = response.content.decode()
    assert reverse("portal:event_list") in html
    assert "返回管理后台首页" not in html


@pytest.mark.parametrize(
    ("language", "header"), [("zh-hans", "楼宇党建管理后台"), ("en", "Building Party Portal admin")]
)
def test_admin_header_follows_the_language(client, settings, language, header):
    client.force_login(StaffUserFactory())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(reverse("admin:index")).content.decode()
    assert header in html


def test_english_seat_counts_agree_in_number(client, settings):
    """A one-seat counselling slot said "Full (1 seats)" and "1 of 1 seats left"."""
    from services.booking import book_event

    full = EventFactory(kind=Event.Kind.COUNSELLING, capacity=1, title="one-to-one")
    book_event(user=UserFactory(), event=full)
    EventFactory(kind=Event.Kind.COUNSELLING, capacity=1, title="free one-to-one")
    EventFactory(capacity=30, title="lecture")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("portal:event_list")).content.decode()
    assert "Full (1 seat)" in html
    assert "1 of 1 seat left" in html
    assert "30 of 30 seats left" in html
    assert "1 seats" not in html


def test_short_password_error_is_chinese_on_chinese_pages():
    """Django 5.2's zh_Hans catalog misses the new wording; locale/zh_Hans supplies it."""
    from django.contrib.auth.password_validation import MinimumLengthValidator
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        MinimumLengthValidator().validate("1234567")
    assert caught.value.messages == ["密码太短，至少需要 8 个字符。"]


def test_event_page_puts_the_booking_box_before_the_description(client):
    """On a phone the page is one column: the button must not sit under a long description."""
    event = EventFactory(description="很长的介绍" * 200)
    html = client.get(reverse("portal:event_detail", args=[event.pk])).content.decode()
    assert (
        html.index('id="booking-action"') < html.index('class="event-description"') < html.index("很长的介绍")
    )


def test_admin_pages_load_the_portal_admin_stylesheet(admin_client):
    """Change lists broke Chinese names one character per line; the stylesheet keeps words whole."""
    from django.contrib.staticfiles import finders

    EventFactory()
    for url in (reverse("admin:index"), reverse("admin:services_event_changelist")):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "css/admin_portal.css" in html, url
    css = Path(finders.find("css/admin_portal.css")).read_text(encoding="utf-8")
    assert "word-break: keep-all" in css


# --- Odd input on the portal's lists and forms (audit of issue 4) ------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
        {"date_to": "0001-01-01"},
    ],
)
def test_event_list_takes_the_extreme_dates(client, params):
    """The day after 9999-12-31 does not exist: the range is open-ended instead of a 500."""
    event = EventFactory(title="年终党课")
    response = client.get(reverse("portal:event_list"), params)
    assert response.status_code == 200
    assert ("年终党课" in response.content.decode()) == (params.get("date_to") != "0001-01-01")
    assert event.pk


@pytest.mark.parametrize(
    "params",
    [
        {"building": "a\x00b"},
        {"building": "", "building_text": "a\x00b"},
        {"q": "党课\x00"},
        {"street": "\x00"},
        {"kind": "\x00"},
        {"has_seats": "\x00"},
        {"building": "²"},
        {"building": "①"},
    ],
)
def test_event_list_refuses_nul_and_odd_digits_with_a_field_error(client, params):
    response = client.get(reverse("portal:event_list"), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "\x00" not in html
    if "\x00" in "".join(params.values()):
        assert "含有非法字符。" in html


def test_signup_with_a_nul_in_the_building_name_is_a_field_error(client):
    from members.models import User

    response = client.post(
        reverse("signup"),
        {
            "username": "xiaoming",
            "phone": "13912345678",
            "email": "xiaoming@example.com",
            "password1": "Quiet-River-2026",
            "password2": "Quiet-River-2026",
            "building": "",
            "building_text": "静安\x00大厦",
            "enterprise": "²",
            "enterprise_text": "",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["building"] == ["含有非法字符。"]
    assert not User.objects.filter(username="xiaoming").exists()


@pytest.mark.parametrize(
    "params", [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01", "date_to": "9999-12-31"}]
)
def test_dashboard_takes_the_extreme_dates(params):
    from django.test import Client

    from tests.members.factories import StaffUserFactory as Staff

    client = Client()
    client.force_login(Staff(is_superuser=True))
    response = client.get(reverse("admin_dashboard"), params)
    assert response.status_code == 200


@pytest.mark.parametrize("week", ["9999-12-31", "9999-12-20", "0001-01-01", "0001-01-07"])
def test_station_week_at_the_ends_of_the_calendar(client, week):
    """A week whose arrows would lead before year 1 or after 9999 falls back to this week."""
    from tests.services.factories import ServiceStationFactory

    station = ServiceStationFactory()
    response = client.get(reverse("portal:station_detail", args=[station.pk]), {"week": week})
    assert response.status_code == 200
    assert "日期超出可显示的范围" in response.content.decode()


def test_station_week_near_the_end_still_shows_it(client):
    from tests.services.factories import ServiceStationFactory

    station = ServiceStationFactory()
    response = client.get(reverse("portal:station_detail", args=[station.pk]), {"week": "9999-12-01"})
    assert response.status_code == 200
    assert "日期超出可显示的范围" not in response.content.decode()
    assert response.context["week_start"] == datetime.date(9999, 11, 29)
