"""The event page and the event list from the cache (services/pagecache.py): always exact, never personal.

The cache here is a real Redis (``REDIS_URL``, as production runs it) under a key prefix of
each test's own, or the in-memory cache when no Redis is configured (the same semantics for
what is tested). Each "never stale" test first fills the cache with the page, checks that
the next request is served from it (the shell template is not rendered again), then makes
the change through the write function and checks the number shown.
"""

from __future__ import annotations

import datetime
import os
import re
import uuid

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from services import booking as engine
from services import pagecache
from services.events import update_event
from services.models import Booking, Event
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory

pytestmark = pytest.mark.django_db

LIST = reverse("portal:event_list")
SHELL_EVENT = "portal/_event_detail_shell.html"
SHELL_LIST = "portal/_event_list_shell.html"


@pytest.fixture(autouse=True)
def real_cache():
    """Redis at REDIS_URL under a prefix of this test's own (locmem without a Redis)."""
    prefix = f"test-pagecache-{uuid.uuid4().hex[:12]}"
    if os.environ.get("REDIS_URL"):
        caches = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": os.environ["REDIS_URL"],
                "KEY_PREFIX": prefix,
            }
        }
    else:
        caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": prefix}}
    # override_settings resets the cache handlers (django.test.signals), so `cache` is this one.
    with override_settings(CACHES=caches):
        yield prefix
        if os.environ.get("REDIS_URL"):
            client = cache._cache.get_client()
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)


def stored_keys(prefix: str) -> list[str]:
    if os.environ.get("REDIS_URL") and hasattr(cache, "_cache") and hasattr(cache._cache, "get_client"):
        client = cache._cache.get_client()
        return sorted(k.decode().split(":", 2)[2] for k in client.scan_iter(f"{prefix}:*"))
    return sorted(k.split(":", 2)[2] for k in cache._cache)  # locmem: "prefix:version:key"


def stored_values(prefix: str) -> list[str]:
    """Every entry the pages stored, as text (the shells are text, the rows a tuple)."""
    return [repr(cache.get(key)) for key in stored_keys(prefix)]


def page(client, url, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.status_code
    return response


def shell_rendered(response, name: str) -> bool:
    return any(t.name == name for t in response.templates)


def seats_on_page(response) -> str:
    html = response.content.decode()
    match = re.search(r"余位 (\d+) / (\d+)", html)
    assert match, html[:3000]
    return match.group(0)


def waitlist_on_page(response) -> str:
    return re.search(r"候补 (\d+) 人", response.content.decode()).group(1)


def event_url(event) -> str:
    return reverse("portal:event_detail", args=[event.pk])


def cached(client, url, shell: str):
    """Request twice; the second answer must come from the cached shell."""
    first = page(client, url)
    second = page(client, url)
    assert not shell_rendered(second, shell), "the second request rendered the shell again"
    assert first.content != b"" and second.status_code == 200
    return second


# --- never stale: the event page ----------------------------------------------------------------


def test_event_page_seats_after_a_booking(client):
    event = EventFactory(capacity=5)
    assert seats_on_page(cached(client, event_url(event), SHELL_EVENT)) == "余位 5 / 5"
    engine.book_event(user=UserFactory(), event=event)
    response = page(client, event_url(event))
    assert not shell_rendered(response, SHELL_EVENT)  # still the cached shell, and exact
    assert seats_on_page(response) == "余位 4 / 5"


def test_event_page_seats_after_a_cancellation(client):
    event = EventFactory(capacity=5)
    booking = engine.book_event(user=UserFactory(), event=event)
    assert seats_on_page(cached(client, event_url(event), SHELL_EVENT)) == "余位 4 / 5"
    engine.cancel_booking(booking=booking)
    assert seats_on_page(page(client, event_url(event))) == "余位 5 / 5"


def test_event_page_after_a_promotion(client):
    event = EventFactory(capacity=1)
    seated = engine.book_event(user=UserFactory(), event=event)
    waiting_user = UserFactory()
    engine.book_event(user=waiting_user, event=event)
    client.force_login(waiting_user)
    response = cached(client, event_url(event), SHELL_EVENT)
    assert (seats_on_page(response), waitlist_on_page(response)) == ("余位 0 / 1", "1")
    assert "候补中（第1位）" in response.content.decode()
    engine.cancel_booking(booking=seated)  # the waiting person is promoted
    response = page(client, event_url(event))
    assert (seats_on_page(response), waitlist_on_page(response)) == ("余位 0 / 1", "0")
    assert "已预约" in response.content.decode() and "候补中" not in response.content.decode()


def test_event_page_seats_after_a_capacity_change(client):
    event = EventFactory(capacity=5, space__capacity=50)
    engine.book_event(user=UserFactory(), event=event)
    assert seats_on_page(cached(client, event_url(event), SHELL_EVENT)) == "余位 4 / 5"
    engine.change_capacity(event=event, capacity=8)
    assert seats_on_page(page(client, event_url(event))) == "余位 7 / 8"


def test_event_page_after_an_event_edit(client):
    event = EventFactory(capacity=5, title="旧标题")
    response = cached(client, event_url(event), SHELL_EVENT)
    assert "旧标题" in response.content.decode()
    event.title = "新标题"
    event.capacity = 9
    update_event(event=event, fields=["title", "capacity"])
    response = page(client, event_url(event))
    assert shell_rendered(response, SHELL_EVENT)  # another shell: the edit changed its key
    html = response.content.decode()
    assert "新标题" in html and "旧标题" not in html
    assert seats_on_page(response) == "余位 9 / 9"


def test_event_page_after_the_event_is_cancelled(client):
    event = EventFactory(capacity=5)
    cached(client, event_url(event), SHELL_EVENT)
    engine.cancel_event(event=event)
    html = page(client, event_url(event)).content.decode()
    assert "活动已取消" in html and "余位" not in html


# --- never stale: the event list ----------------------------------------------------------------


def card_seats(response, event) -> str:
    cards = response.content.decode().split('<li class="card">')
    card = next(c for c in cards if f'id="event-{event.pk}-title"' in c)
    match = re.search(r"余位 \d+ / \d+|已满（共 \d+ 个名额）", card)
    return match.group(0) + " · " + re.search(r"候补 (\d+) 人", card).group(0)


def test_list_seats_after_a_booking_and_a_cancellation(client):
    event = EventFactory(capacity=2)
    assert card_seats(cached(client, LIST, SHELL_LIST), event) == "余位 2 / 2 · 候补 0 人"
    booking = engine.book_event(user=UserFactory(), event=event)
    response = page(client, LIST)
    assert not shell_rendered(response, SHELL_LIST)
    assert card_seats(response, event) == "余位 1 / 2 · 候补 0 人"
    engine.book_event(user=UserFactory(), event=event)
    engine.book_event(user=UserFactory(), event=event)
    assert card_seats(page(client, LIST), event) == "已满（共 2 个名额） · 候补 1 人"
    engine.cancel_booking(booking=booking)  # the waiting one moves up
    assert card_seats(page(client, LIST), event) == "已满（共 2 个名额） · 候补 0 人"


def test_list_after_a_promotion_marks_the_promoted_person(client):
    event = EventFactory(capacity=1)
    seated = engine.book_event(user=UserFactory(), event=event)
    person = UserFactory()
    engine.book_event(user=person, event=event)
    client.force_login(person)
    assert "我在候补" in cached(client, LIST, SHELL_LIST).content.decode()
    engine.promote_waitlist(event=event)  # nothing free: nothing changes
    engine.cancel_booking(booking=seated)
    html = page(client, LIST).content.decode()
    assert "我已预约" in html and "我在候补" not in html


def test_list_after_a_capacity_change(client):
    event = EventFactory(capacity=3, space__capacity=50)
    assert card_seats(cached(client, LIST, SHELL_LIST), event) == "余位 3 / 3 · 候补 0 人"
    engine.change_capacity(event=event, capacity=20)
    assert card_seats(page(client, LIST), event) == "余位 20 / 20 · 候补 0 人"


def test_list_after_an_event_edit_and_a_new_event(client):
    event = EventFactory(title="第一讲")
    assert "第一讲" in cached(client, LIST, SHELL_LIST).content.decode()
    event.title = "第一讲（改期）"
    update_event(event=event, fields=["title"])
    html = page(client, LIST).content.decode()
    assert "第一讲（改期）" in html
    EventFactory(title="新开的一讲", starts_at=event.starts_at - datetime.timedelta(hours=3))
    response = page(client, LIST)
    assert "新开的一讲" in response.content.decode()
    assert response.context["page"].paginator.count == 2


def test_list_after_an_event_is_cancelled(client):
    event = EventFactory(title="要取消的一讲")
    EventFactory(title="照常的一讲")
    assert "要取消的一讲" in cached(client, LIST, SHELL_LIST).content.decode()
    engine.cancel_event(event=event)
    html = page(client, LIST).content.decode()
    assert "要取消的一讲" not in html and "照常的一讲" in html


def test_list_drops_an_event_once_it_has_ended(client):
    soon = EventFactory(title="马上结束的一讲")
    later = EventFactory(title="下周的一讲", starts_at=soon.starts_at + datetime.timedelta(days=7))
    assert "马上结束的一讲" in cached(client, LIST, SHELL_LIST).content.decode()
    with time_machine.travel(soon.ends_at + datetime.timedelta(minutes=1), tick=False):
        response = page(client, LIST)
    html = response.content.decode()
    assert "马上结束的一讲" not in html and later.title in html
    assert timezone.now() < soon.ends_at


def test_the_list_cache_is_used_only_for_the_unfiltered_list(client):
    EventFactory(capacity=2, title="有余位")
    full = EventFactory(capacity=1, title="已满的一讲")
    engine.book_event(user=UserFactory(), event=full)
    assert "已满的一讲" not in page(client, LIST, data={"has_seats": "on"}).content.decode()
    engine.cancel_booking(booking=Booking.objects.get(event=full))
    assert "已满的一讲" in page(client, LIST, data={"has_seats": "on"}).content.decode()


# --- nothing personal in a shared entry ---------------------------------------------------------


def test_nothing_personal_is_stored_and_nobody_sees_anothers_state(client, real_cache):
    event = EventFactory(capacity=1, title="心理减压讲座")
    seated = UserFactory(username="zhang_secret", first_name="张三丰")
    waiting = UserFactory(username="li_secret", first_name="李四")
    seated_booking = engine.book_event(user=seated, event=event)
    waiting_booking = engine.book_event(user=waiting, event=event)
    outsiders = []
    for person in (seated, waiting):
        client.force_login(person)
        for url in (LIST, event_url(event)):
            html = page(client, url).content.decode()
            assert ("我已预约" if person is seated else "我在候补") in html or url != LIST
        outsiders.append(client.cookies.get("csrftoken"))
    entries = stored_values(real_cache)
    assert any("心理减压讲座" in e for e in entries), "the pages stored nothing: not cached"
    personal = [
        "zhang_secret",
        "li_secret",
        "张三丰",
        "李四",
        "我已预约",
        "我在候补",
        "候补中（第",
        "已预约",
        reverse("portal:booking_detail", args=[seated_booking.pk]),
        reverse("portal:booking_detail", args=[waiting_booking.pk]),
        "csrfmiddlewaretoken",
        "退出",
    ]
    for entry in entries:
        for text in personal:
            assert text not in entry, f"{text!r} in a shared cache entry"
        # nor the moving numbers: they are filled in on each request
        assert not re.search(r"余位 \d|候补 \d", entry)
    # A third person gets the cached shells and none of the others' state.
    client.force_login(UserFactory())
    for url in (LIST, event_url(event)):
        response = page(client, url)
        html = response.content.decode()
        assert not shell_rendered(response, SHELL_LIST if url == LIST else SHELL_EVENT)
        for text in ("zhang_secret", "li_secret", "我已预约", "我在候补", "候补中（第"):
            assert text not in html
        for number in (seated_booking.pk, waiting_booking.pk):
            assert reverse("portal:booking_detail", args=[number]) not in html


def test_cached_and_rendered_pages_are_the_same(client):
    """The page from a cached shell is the page rendered from scratch, byte for byte (the CSRF
    tokens aside, which are masked anew on every request)."""
    event = EventFactory(capacity=3, description="第一段\n\n第二段 <b>不加粗</b>")
    person = UserFactory()
    engine.book_event(user=person, event=event)
    client.force_login(person)
    mask = lambda html: re.sub(rb'value="[A-Za-z0-9]{64}"', b'value="CSRF"', html)  # noqa: E731
    for url, shell in ((LIST, SHELL_LIST), (event_url(event), SHELL_EVENT)):
        fresh = page(client, url)
        assert shell_rendered(fresh, shell)
        again = page(client, url)
        assert not shell_rendered(again, shell)
        assert mask(fresh.content) == mask(again.content)


# --- conditional requests -----------------------------------------------------------------------


def test_event_page_answers_304_while_nothing_changed(client):
    event = EventFactory(capacity=3)
    client.force_login(UserFactory())
    page(client, event_url(event))  # the first visit sets the CSRF cookie, which the page's forms use
    first = page(client, event_url(event))
    etag = first["ETag"]
    assert etag.startswith('W/"') and "private" in first["Cache-Control"]
    again = client.get(event_url(event), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    engine.book_event(user=UserFactory(), event=event)
    changed = client.get(event_url(event), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert seats_on_page(changed) == "余位 2 / 3"


def test_list_answers_304_while_nothing_changed_and_never_across_people(client):
    event = EventFactory(capacity=3)
    client.force_login(UserFactory())
    page(client, LIST)  # the first visit sets the CSRF cookie
    etag = page(client, LIST)["ETag"]
    assert client.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == 304
    engine.book_event(user=UserFactory(), event=event)
    assert client.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == 200
    etag = page(client, LIST)["ETag"]
    client.force_login(UserFactory())  # another person: another page
    assert client.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_waiting_message_is_never_swallowed_by_a_304(client):
    event = EventFactory(capacity=3)
    person = UserFactory()
    engine.book_event(user=person, event=event)
    client.force_login(person)
    page(client, event_url(event))
    etag = page(client, event_url(event))["ETag"]
    assert client.get(event_url(event), HTTP_IF_NONE_MATCH=etag).status_code == 304
    # Pressing "book" again changes nothing but leaves a message for the event page.
    client.post(reverse("portal:event_book", args=[event.pk]))
    response = client.get(event_url(event), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and "您已预约过该活动。" in response.content.decode()
    assert client.get(event_url(event), HTTP_IF_NONE_MATCH=etag).status_code == 304


# --- the cache down -----------------------------------------------------------------------------


def test_pages_render_in_full_when_the_cache_is_unreachable(client):
    event = EventFactory(capacity=4, title="缓存不可用时")
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=unreachable):
        for url in (LIST, event_url(event)):
            html = page(client, url).content.decode()
            assert "缓存不可用时" in html and "余位 4 / 4" in html


def test_an_event_saved_bumps_the_list_version_now_and_after_the_commit(django_capture_on_commit_callbacks):
    before = pagecache.versions()[0]
    with django_capture_on_commit_callbacks(execute=True):
        event = EventFactory()
        middle = pagecache.versions()[0]
        assert middle != before
    assert pagecache.versions()[0] not in {before, middle}
    with django_capture_on_commit_callbacks(execute=True):
        Event.objects.get(pk=event.pk).delete()
    assert pagecache.versions()[0] != middle
