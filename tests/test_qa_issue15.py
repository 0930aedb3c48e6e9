"""Issue 15, item 7: the small things people tripped over.

A cancelled booking's reminders are marked in the cancellation's transaction; an event page
shows one's earlier booking ("attended", "cancelled"); sign-up shows password errors under the
password; one name for the account page; English pages and the English catalogue use ASCII
punctuation; /api/v1/ points to the documentation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from core.notifications.models import Outbox
from services import booking as engine
from services.models import Booking
from services.notifications import Kind
from tests.buildings.factories import BuildingFactory
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory, ServiceStationFactory

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
FULL_WIDTH = re.compile("[：（），。；！？【】《》]")


# --- the outbox -----------------------------------------------------------------------------------


def test_a_cancelled_bookings_reminders_are_marked_in_the_same_transaction():
    user = UserFactory()
    event = EventFactory()
    booking = engine.book_event(user=user, event=event)
    reminders = Outbox.objects.filter(kind=Kind.EVENT_REMINDER, subject_id=booking.pk)
    assert reminders.count() >= 1 and set(reminders.values_list("status", flat=True)) == {"pending"}
    with transaction.atomic():
        engine.cancel_booking(booking=booking, by=user)
        # Inside the same transaction: nobody ever sees them "待发送" after the cancel.
        assert set(reminders.values_list("status", flat=True)) == {"skipped"}
    assert set(reminders.values_list("skip_reason", flat=True)) == {"预约已取消。"}
    # Someone else's reminders of the same event are untouched.
    other = engine.book_event(user=UserFactory(), event=event)
    assert Outbox.objects.filter(kind=Kind.EVENT_REMINDER, subject_id=other.pk, status="pending").exists()


# --- past and cancelled bookings ------------------------------------------------------------------


def test_the_event_page_shows_ones_earlier_booking(client):
    user = UserFactory()
    event = EventFactory()
    booking = engine.book_event(user=user, event=event)
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.ATTENDED, checked_in_at=event.starts_at
    )
    client.force_login(user)
    html = client.get(reverse("portal:event_detail", args=[event.pk])).content.decode()
    assert "您的预约：已签到" in html
    assert reverse("portal:booking_detail", args=[booking.pk]) in html
    english = client.get(reverse("portal:event_detail", args=[event.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Your booking: Checked in" in english.content.decode()


def test_the_event_page_after_cancelling_shows_it_and_offers_booking_again(client):
    user = UserFactory()
    event = EventFactory()
    booking = engine.book_event(user=user, event=event)
    engine.cancel_booking(booking=booking, by=user)
    client.force_login(user)
    html = client.get(reverse("portal:event_detail", args=[event.pk])).content.decode()
    assert "您的预约：已取消" in html
    assert f'action="{reverse("portal:event_book", args=[event.pk])}"' in html


# --- sign-up and the account page -----------------------------------------------------------------


def test_sign_up_shows_password_errors_under_the_password():
    from members.forms import SignUpForm

    building = BuildingFactory()
    form = SignUpForm(
        data={
            "real_name": "王小明",
            "username": "xiaoming",
            "phone": "13912345678",
            "email": "x@example.com",
            "password1": "123",
            "password2": "123",
            "building": str(building.pk),
        }
    )
    assert not form.is_valid()
    assert form.errors.get("password1") and "password2" not in form.errors
    mismatch = SignUpForm(
        data={**form.data, "password1": "Quiet-River-2026", "password2": "Quiet-River-2027"}
    )
    assert not mismatch.is_valid()
    assert "password2" in mismatch.errors and "password1" not in mismatch.errors


def test_one_name_for_the_account_page():
    apps = ("core", "buildings", "members", "committees", "services", "config")
    sources = [
        *ROOT.glob("templates/**/*.html"),
        *ROOT.glob("templates/**/*.txt"),
        *(p for app in apps for p in ROOT.glob(f"{app}/**/*.py") if "migrations" not in p.parts),
    ]
    offenders = [str(p.relative_to(ROOT)) for p in sources if "个人中心" in p.read_text(encoding="utf-8")]
    assert offenders == []


# --- English punctuation --------------------------------------------------------------------------


def _msgstrs() -> list[str]:
    text = (ROOT / "locale/en/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    values = []
    for block in text.split("\n\n")[1:]:
        lines = block.split("\n")
        start = next((i for i, line in enumerate(lines) if line.startswith("msgstr")), None)
        if start is None:
            continue
        parts = [line[line.index('"') :] for line in lines[start:] if line.startswith(("msgstr", '"'))]
        values.append("".join(json.loads(part) for part in parts))
    return values


def test_the_english_catalogue_uses_ascii_punctuation():
    values = _msgstrs()
    assert len(values) > 500
    # "、" is quoted as the separator people type in Chinese data; that one stays.
    offenders = [v for v in values if FULL_WIDTH.search(v)]
    assert offenders == []


def test_english_pages_use_ascii_punctuation(client, street_a):
    station = ServiceStationFactory(
        building=BuildingFactory(street=street_a, name="Tower One", address="1 Nanjing Road"),
        name="Station",
        opening_hours="9:00-18:00",
        phone="02112345678",
    )
    event = EventFactory(
        space__station=station, space__name="Room 1", title="Party class", speaker="Chen", description="Study"
    )
    user = UserFactory(language="en", real_name="Anna Li", email="anna@example.com", phone="13912345678")
    booking = engine.book_event(user=user, event=event)
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    pages = [
        reverse("portal:event_list"),
        reverse("portal:event_detail", args=[event.pk]),
        reverse("portal:station_list"),
        reverse("portal:station_detail", args=[station.pk]),
        reverse("portal:my_bookings"),
        reverse("portal:booking_cancel", args=[booking.pk]),
        reverse("profile"),
    ]
    for url in pages:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'lang="en"' in html, url
        text = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        found = FULL_WIDTH.findall(text)
        assert found == [], (
            url,
            [text[max(m.start() - 30, 0) : m.end() + 10] for m in FULL_WIDTH.finditer(text)],
        )


# --- the API's root -------------------------------------------------------------------------------


def test_the_api_root_points_to_the_documentation(client):
    browser = client.get("/api/v1/", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert browser.status_code == 302 and browser["Location"].endswith(reverse("api:docs"))
    api = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert api.status_code == 200
    body = api.json()
    assert body["documentation"].endswith("/api/v1/docs/") and body["schema"].endswith("/api/v1/schema/")
    # Unknown paths are still the API's JSON 404.
    assert client.get("/api/v1/nothing-here/").status_code == 404


# --- item 2: after filtering, the results come first ------------------------------------------------


def test_a_filtered_list_folds_its_form_and_lists_each_filter_removable(client):
    from services.models import Event

    party = EventFactory(title="党课：宪法", kind=Event.Kind.PARTY_CLASS)
    EventFactory(title="消防讲座", kind=Event.Kind.SAFETY_LECTURE)
    html = client.get(reverse("portal:event_list"), {"kind": "party_class", "q": "宪法"}).content.decode()
    assert re.search(r'<details class="filters"\s*>', html)  # folded away
    assert "共 1 场活动" in html and party.title in html and "消防讲座" not in html
    assert "修改筛选（2 项）" in html
    chips = re.findall(r'<a class="chip" href="([^"]+)"[^>]*>([^<]+)<', html)
    labels = {text.strip(): href.replace("&amp;", "&") for href, text in chips}
    assert labels == {"关键词：宪法": "/?kind=party_class", "类型：党课": "/?q=%E5%AE%AA%E6%B3%95"}
    # An unfiltered list has neither chips nor a folded-away count.
    plain = client.get(reverse("portal:event_list")).content.decode()
    assert 'class="chip"' not in plain and "修改筛选" not in plain
    # A filter with an error keeps the form open, beside its field.
    wrong = client.get(reverse("portal:event_list"), {"date_from": "not-a-date"}).content.decode()
    assert re.search(r'<details class="filters"\s*open', wrong)


def test_filter_chips_in_english_use_ascii_punctuation(client):
    EventFactory(title="Party class")
    html = client.get(
        reverse("portal:event_list"), {"kind": "party_class"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert re.search(r'class="chip"[^>]*>Type: Party class', html)


# --- item 6: the bell's notifications are short HTML in the reader's language ----------------------


def test_portal_notifications_are_short_html_in_the_readers_language(client, django_assert_max_num_queries):
    from core.notifications.sender import send_due

    user = UserFactory(email="zhang@example.com")  # Chinese by default
    bookings = [engine.book_event(user=user, event=EventFactory(title=f"党课第{n}讲")) for n in range(5)]
    send_due(worker_id="t")
    client.force_login(user)
    html = client.get(reverse("notifications:list")).content.decode()
    link = reverse("portal:booking_detail", args=[bookings[0].pk])
    assert f'<a class="notification-link" href="{link}">查看我的预约</a>' in html
    assert "预约成功：党课第0讲" in html
    assert "——" not in html and "您好" not in html  # not the e-mail's greeting and signature

    client.get(reverse("notifications:list"))  # warm the caches
    with django_assert_max_num_queries(20):
        english = client.get(reverse("notifications:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in english
    assert "Booking confirmed: 党课第0讲" in english and "预约成功" not in english
    assert f'<a class="notification-link" href="{link}">See my booking</a>' in english


def test_a_title_with_markup_stays_text_in_the_bell(client):
    from core.notifications.sender import send_due

    user = UserFactory()
    engine.book_event(user=user, event=EventFactory(title="<b>x</b>党课"))
    send_due(worker_id="t")
    client.force_login(user)
    html = client.get(reverse("notifications:list")).content.decode()
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;党课" in html
