"""Factories for the shared notifications app: an outbox row and a bell notification.

Rows are normally written by the apps' write functions (``core.notifications.outbox``);
these are for tests of reads, the admin and constraints.
"""

import factory
from django.utils import timezone

from core.notifications.models import Outbox, PortalNotification
from tests.members.factories import UserFactory


class OutboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outbox

    recipient = factory.SubFactory(UserFactory)
    kind = "booking_confirmed"
    cause = factory.Sequence(lambda n: f"test:{n}")
    due_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyAttribute(lambda o: o.due_at)


class PortalNotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortalNotification

    outbox = factory.SubFactory(OutboxFactory)
    recipient = factory.LazyAttribute(lambda o: o.outbox.recipient)
    title = "预约成功：党课"
    body = "您已预约成功。"


class ImportJobFactory(factory.django.DjangoModelFactory):
    """An import log row as ``core.spreadsheets.jobs.start_import`` leaves it (file kept, previewing)."""

    class Meta:
        model = "spreadsheets.ImportJob"

    user = factory.SubFactory(UserFactory, is_staff=True)
    model_label = "members.partymember"
    file_name = factory.Sequence(lambda n: f"members-{n}.xlsx")
    data = b"PK\x03\x04"
    file_size = 4
    file_sha256 = "0" * 64
    total_rows = 1
