"""Forgiving check-in (issue 15, item 3).

The code people read out is short, accepted in any case with any spaces or separators; a
mistyped code answers "not recognised — check the code" (every single-character typo and every
swap of two neighbours is caught by the check character), and "tampered" is kept for a code
with a right check character but a wrong signature. Staff reach check-in from the admin's event
page, and mark attendance from a list for people without their phone, through the engine.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from services import booking as engine
from services.booking import _CROCKFORD, _CROCKFORD_VALUE, _luhn32
from services.models import Booking, Event
from tests.members.factories import StaffUserFactory, UserFactory
from tests.services.factories import BookingFactory
from tests.services.test_views_portal import started

pytestmark = pytest.mark.django_db

UNRECOGNISED = "未识别，请核对签到码。"
TAMPERED = "签到码已被篡改。"


@pytest.fixture
def booked(street_a):
    event = started(street_a, title="今天的党课")
    booking = BookingFactory(event=event, user=UserFactory(last_name="张", first_name="伟"))
    Event.objects.filter(pk=event.pk).update(confirmed_count=1)
    return booking


def refusal(code: str) -> str:
    with pytest.raises(engine.BookingError) as caught:
        engine.check_in(code=code)
    return str(caught.value.message)


def test_the_typed_code_is_short_and_grouped_for_reading_aloud(booked):
    code = engine.typed_checkin_code(booked)
    # The booking's number, then the signature and check character in two groups of four (the
    # first 31 bookings of a database have no first group: their number shares the groups).
    assert re.fullmatch(r"([0-9A-Z]{1,6}-)?[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    assert re.fullmatch(
        r"[0-9A-Z]{1,6}-[0-9A-Z]{4}-[0-9A-Z]{4}", engine.typed_checkin_code(Booking(pk=40, event_id=1))
    )
    assert not set(code) & set("ILOU")  # no letters that read like digits
    # A million bookings later, still 12 characters and two separators.
    big = Booking(pk=1_000_000, event_id=booked.event_id)
    assert len(engine.typed_checkin_code(big)) <= 14


@pytest.mark.parametrize(
    "spell",
    [
        lambda c: c,
        lambda c: c.lower(),
        lambda c: c.replace("-", " "),
        lambda c: c.replace("-", ""),
        lambda c: " ".join(c.replace("-", "").lower()),
        lambda c: c.replace("-", ".").replace("0", "o").replace("1", "l"),
        lambda c: f"  {c.replace('-', ' - ')}  ",
    ],
)
def test_the_typed_code_is_accepted_whatever_the_case_spaces_or_separators(booked, spell):
    code = spell(engine.typed_checkin_code(booked))
    checked = engine.check_in(code=code)
    assert checked.pk == booked.pk and checked.status == Booking.Status.ATTENDED


def test_every_single_typo_and_neighbour_swap_is_not_recognised_rather_than_tampered(booked):
    letters = engine.typed_checkin_code(booked).replace("-", "")
    typos = set()
    for i, original in enumerate(letters):
        for other in _CROCKFORD:
            if other != original:
                typos.add(letters[:i] + other + letters[i + 1 :])
    for i in range(len(letters) - 1):
        if letters[i] != letters[i + 1]:
            typos.add(letters[:i] + letters[i + 1] + letters[i] + letters[i + 2 :])
    assert len(typos) >= 31 * len(letters)  # every other character at every place, and the swaps
    for typo in typos:
        assert refusal(typo) == UNRECOGNISED, typo
    booked.refresh_from_db()
    assert booked.status == Booking.Status.CONFIRMED


def test_a_forged_signature_with_a_right_check_character_is_tampered(booked):
    letters = engine.typed_checkin_code(booked).replace("-", "")
    body = letters[:-1]
    # Someone who knows the scheme but not the key: another signature, a fitting check character.
    forged_body = body[:-1] + ("A" if body[-1] != "A" else "B")
    forged = forged_body + _CROCKFORD[_luhn32([_CROCKFORD_VALUE[c] for c in forged_body])]
    assert refusal(forged) == TAMPERED
    # The scanned long form keeps its signature check too.
    long_code = engine.checkin_code(booked)
    assert refusal(long_code[:-1] + ("A" if long_code[-1] != "A" else "B")) == TAMPERED


def test_a_forged_code_is_refused_with_the_tampered_code_typed_or_scanned(booked):
    letters = engine.typed_checkin_code(booked).replace("-", "")
    forged_body = letters[:-2] + ("A" if letters[-2] != "A" else "B")
    forged = forged_body + _CROCKFORD[_luhn32([_CROCKFORD_VALUE[c] for c in forged_body])]
    long_code = engine.checkin_code(booked)
    for code in (forged, long_code[:-1] + ("A" if long_code[-1] != "A" else "B")):
        with pytest.raises(engine.BookingError) as caught:
            engine.check_in(code=code)
        assert (caught.value.code, str(caught.value.message)) == ("checkin_tampered", TAMPERED)


def test_empty_and_garbage_are_not_recognised(booked):
    for code in ("", "   ", "garbage", "12", "长城"):
        assert refusal(code) == UNRECOGNISED


def test_the_booking_page_shows_the_short_code_and_staff_type_it(client, booked, social_worker):
    client.force_login(booked.user)
    html = client.get(reverse("portal:booking_detail", args=[booked.pk])).content.decode()
    code = engine.typed_checkin_code(booked)
    assert f'id="checkin-code">{code}</code>' in html
    client.force_login(social_worker)
    response = client.post(
        reverse("portal:checkin"),
        {"code": code.lower().replace("-", " "), "event": booked.event_id},
        follow=True,
    )
    assert "签到成功：张伟 · 今天的党课" in response.content.decode()
    wrong = client.post(reverse("portal:checkin"), {"code": code[:-1] + ("0" if code[-1] != "0" else "1")})
    assert UNRECOGNISED in wrong.content.decode()


def test_the_english_page_says_not_recognised(client, booked, social_worker):
    client.force_login(social_worker)
    response = client.post(reverse("portal:checkin"), {"code": "nonsense"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Not recognised: check the code." in response.content.decode()


def test_staff_mark_attendance_from_the_list(client, booked, social_worker):
    client.force_login(social_worker)
    page = client.get(reverse("portal:checkin"), {"event": booked.event_id}).content.decode()
    assert "张伟" in page and f'name="booking" value="{booked.pk}"' in page
    response = client.post(reverse("portal:checkin"), {"booking": booked.pk}, follow=True)
    booked.refresh_from_db()
    assert booked.status == Booking.Status.ATTENDED and booked.checked_in_at is not None
    html = response.content.decode()
    assert "签到成功：张伟 · 今天的党课" in html
    assert f'name="booking" value="{booked.pk}"' not in html  # now shown as checked in
    # Twice: the engine's answer, nothing changed.
    again = client.post(reverse("portal:checkin"), {"booking": booked.pk}, follow=True)
    assert "该预约已于" in again.content.decode()


def test_the_list_refuses_staff_of_another_street(client, booked, street_b):
    from django.contrib.auth.models import Group

    other = StaffUserFactory(username="other_street", streets=[street_b])
    other.groups.add(Group.objects.get(name="街道社工"))
    client.force_login(other)
    response = client.post(reverse("portal:checkin"), {"booking": booked.pk}, follow=True)
    assert "预约不存在。" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == Booking.Status.CONFIRMED


def test_the_list_is_closed_before_check_in_opens(client, social_worker, street_a):
    event = started(street_a)
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() + datetime.timedelta(days=1),
        ends_at=timezone.now() + datetime.timedelta(days=1, hours=2),
    )
    booking = BookingFactory(event=event)
    client.force_login(social_worker)
    response = client.post(reverse("portal:checkin"), {"booking": booking.pk}, follow=True)
    assert "签到将于" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_the_admins_event_page_links_to_check_in_at_the_top(client, booked, social_worker):
    client.force_login(social_worker)
    html = client.get(reverse("admin:services_event_change", args=[booked.event_id])).content.decode()
    tools = html.split('class="object-tools"', 1)[1].split("</ul>", 1)[0]
    assert f'href="{reverse("portal:checkin")}?event={booked.event_id}"' in tools


def test_typed_codes_stay_the_same_from_release_to_release(settings):
    """Codes already given out must still check in after an upgrade: the same booking, event and
    key give the same typed code (the booking's number, a 6-character signature, the check
    character), the first 31 bookings' number in one character."""
    settings.SECRET_KEY = "golden-key-for-the-check-in-code-test-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = []
    assert engine.typed_checkin_code(Booking(pk=5, event_id=3)) == "57QB-52DF"
    assert engine.typed_checkin_code(Booking(pk=1234, event_id=56)) == "16-JGAE-AKQB"
    assert engine.typed_checkin_code(Booking(pk=987654, event_id=4321)) == "Y4G-62XK-S9BW"


def test_a_signature_with_a_leading_zero_and_a_check_character_of_zero_keep_their_places(settings):
    """The signature is always 6 characters, a leading "0" included, and a check value of 0 is
    the character "0" (the Luhn mod 32 sum of the whole is then 0)."""
    settings.SECRET_KEY = "golden-key-for-the-check-in-code-test-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = []
    assert engine._typed_signature(49, 7) == "046Y3C"
    assert engine.typed_checkin_code(Booking(pk=49, event_id=7)) == "1-H046-Y3CP"
    assert engine.typed_checkin_code(Booking(pk=92, event_id=7)) == "2-WAKH-04Z0"
    assert _luhn32([0]) == 0
    assert _luhn32([_CROCKFORD_VALUE[c] for c in "2WAKH04Z"]) == 0


def test_the_engine_refuses_a_check_in_from_the_list_by_staff_of_another_street(booked, street_b):
    """``check_in_booking`` checks the staff's scope itself, whatever page calls it."""
    other = StaffUserFactory(username="other_street_engine", streets=[street_b])
    with pytest.raises(engine.BookingError) as caught:
        engine.check_in_booking(booking=booked, by=other)
    assert caught.value.code == "forbidden"
    booked.refresh_from_db()
    assert booked.status == Booking.Status.CONFIRMED


def _with_check_character(body: str) -> str:
    return body + _CROCKFORD[_luhn32([_CROCKFORD_VALUE[c] for c in body])]


def test_a_code_is_from_8_to_20_characters_long(booked, settings):
    """The booking's number (1 to 13 characters), 6 of signature, 1 check character: shorter or
    longer strings are not recognised, even with a right check character."""
    settings.SECRET_KEY = "golden-key-for-the-check-in-code-test-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = []
    assert len(engine.typed_checkin_code(Booking(pk=5, event_id=3)).replace("-", "")) == 8
    assert engine._parse_typed_code("57QB52DF") == (5, "7QB52D")
    for letters in (7, 21):
        assert refusal(_with_check_character("1" * (letters - 1))) == UNRECOGNISED
    number, _signature = engine._parse_typed_code(_with_check_character("1" * 19))
    assert number == int("1" * 13, 32)
