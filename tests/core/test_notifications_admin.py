"""The notification outbox in the admin for the two staff groups (core/notifications/admin.py, members/groups.py).

With the permissions their group gives them, nothing granted by hand: a street
social worker sees their street's outbox and sends failed rows again; district
staff see their district's and cannot. Neither sees another territory's rows or
a counselling booker's.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from committees.notifications import TERM_ENDING
from core.notifications import outbox
from core.notifications.models import Outbox as NotificationOutbox
from services.models import Event
from services.notifications import Kind
from tests.admin_helpers import admin_url, changelist_pks, make_territory, run_action

pytestmark = pytest.mark.django_db

Status = NotificationOutbox.Status
PREFIX = "notifications_outbox"


@pytest.fixture
def a(street_a):
    return make_territory(street_a, "甲")


@pytest.fixture
def b(street_b):
    return make_territory(street_b, "丙")


def failed(
    territory, booking=None, *, recipient=None, kind=None, cause="", subject=None
) -> NotificationOutbox:
    now = timezone.now()
    row = outbox.row(
        recipient_id=(booking.user if booking is not None else recipient).pk,
        kind=Kind.BOOKING_CONFIRMED if booking is not None else kind,
        cause=f"booking:{booking.pk}" if booking is not None else cause,
        due_at=now,
        subject=booking if booking is not None else subject,
        street_id=territory.street.pk,
        topic=f"event:{booking.event_id}" if booking is not None else "",
        confidential=booking is not None and booking.event.kind == Event.Kind.COUNSELLING,
    )
    row.status, row.attempts, row.last_error = Status.FAILED, 8, "SMTPServerDisconnected: 连接中断"
    row.save()
    return row


@pytest.fixture
def rows(a, b, social_worker):
    return {
        "plain": failed(a, a.booking),
        "secret": failed(a, a.counselling_booking),
        "term": failed(
            a,
            recipient=social_worker,
            kind=TERM_ENDING,
            cause=f"partyorganization:{a.organization.pk}:term:2027-01-01:30d",
            subject=a.organization,
        ),
        "other": failed(b, b.booking),
    }


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def action_names(response) -> set[str]:
    return {name for name, _label in response.context["action_form"].fields["action"].choices if name}


def test_groups_give_the_outbox_permissions(social_worker, district_staff):
    assert social_worker.has_perm("notifications.view_outbox")
    assert social_worker.has_perm("notifications.change_outbox")
    assert not social_worker.has_perm("notifications.delete_outbox")
    assert district_staff.has_perm("notifications.view_outbox")
    assert not district_staff.has_perm("notifications.change_outbox")


def test_social_worker_sees_the_street_outbox_and_sends_again(social_worker, rows, a):
    client = login(social_worker)
    assert changelist_pks(client, PREFIX) == {rows["plain"].pk, rows["term"].pk}
    page = client.get(admin_url(PREFIX, "changelist"))
    assert "send_again" in action_names(page)
    html = page.content.decode()
    assert "SMTPServerDisconnected" in html
    assert a.counselling_user.username not in html

    # Another street's row and a counselling row are not there, not even by their address.
    for hidden in (rows["other"], rows["secret"]):
        response = client.get(admin_url(PREFIX, "change", hidden.pk))
        assert (response.status_code, response.url) == (302, reverse("admin:index"))
    detail = client.get(admin_url(PREFIX, "change", rows["plain"].pk))
    assert detail.status_code == 200
    assert not detail.context["has_change_permission"]  # rows are written by the sender only

    # "Send again" over everything selected touches only the visible row.
    response = run_action(
        client, PREFIX, "send_again", [r.pk for r in (rows["plain"], rows["other"], rows["secret"])]
    )
    assert "已将 1 条通知重新放入发送队列。" in [str(m) for m in get_messages(response.wsgi_request)]
    statuses = {key: NotificationOutbox.objects.get(pk=row.pk) for key, row in rows.items()}
    assert (statuses["plain"].status, statuses["plain"].attempts) == (Status.PENDING, 0)
    assert statuses["other"].status == Status.FAILED and statuses["other"].attempts == 8
    assert statuses["secret"].status == Status.FAILED


def test_district_staff_see_the_district_outbox_and_cannot_send_again(district_staff, rows):
    client = login(district_staff)
    assert changelist_pks(client, PREFIX) == {rows["plain"].pk, rows["term"].pk}
    assert "send_again" not in action_names(client.get(admin_url(PREFIX, "changelist")))
    run_action(client, PREFIX, "send_again", [rows["plain"].pk])
    assert NotificationOutbox.objects.get(pk=rows["plain"].pk).status == Status.FAILED


def test_dashboard_links_the_social_worker_to_the_failed_rows(social_worker, rows):
    html = login(social_worker).get("/admin/dashboard/").content.decode()
    assert admin_url(PREFIX, "changelist") + "?status__exact=failed" in html
