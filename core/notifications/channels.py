"""The ways to reach a person: the bell in the portal and e-mail. Add one (SMS, WeChat) by
subclassing ``Channel`` and listing its dotted path in ``NOTIFICATIONS["CHANNELS"]``."""

from __future__ import annotations

import logging
from email.utils import parseaddr
from typing import ClassVar

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from . import registry
from .messages import Message
from .outbox import conf
from .statements import sql

logger = logging.getLogger("core.notifications")


class Channel:
    """A way to reach a person. Add one (SMS, WeChat) by subclassing and listing it in
    ``NOTIFICATIONS["CHANNELS"]``.

    ``send`` raises on failure; the sender records the error and retries later,
    sending again only through the channels that have not delivered yet.
    """

    #: Stored in ``NotificationOutbox.delivered_channels``; never rename a live one.
    name: ClassVar[str]
    label: ClassVar[str]
    #: True when ``send`` only writes to the portal's database, so the delivery commits or
    #: rolls back together with the outbox row: exactly once, whatever happens to the process.
    #: A database error in such a channel rolls the whole row back; it is retried later.
    transactional: ClassVar[bool] = False

    def wants(self, user) -> bool:
        """Whether ``user`` chose (and can be reached through) this channel."""
        raise NotImplementedError

    def send(self, message: Message) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections at the end of a batch."""


class InPortalChannel(Channel):
    """The bell in the portal: a PortalNotification row (one per outbox row, by a unique key)."""

    name = "portal"
    label = "站内通知"
    transactional = True

    def wants(self, user) -> bool:
        return bool(user.notify_in_portal)

    def send(self, message: Message) -> None:
        # ON CONFLICT DO NOTHING: already in the bell (the unique outbox key) is delivered.
        with connection.cursor() as cursor:
            cursor.execute(
                sql("portal_insert"),
                [
                    message.outbox.pk,
                    message.recipient.pk,
                    message.subject,
                    message.body,
                    message.url,
                    timezone.now(),
                ],
            )


def email_html(message: Message) -> str:
    """The e-mail's HTML part: the same words as the text part, its addresses as links."""
    with translation.override(message.language):
        return render_to_string(
            "notifications/email.html",
            {
                "subject": message.subject,
                "body": message.body,
                "url": message.url,
                "language": message.language,
            },
        )


class EmailChannel(Channel):
    """E-mail through Django's backend (SMTP in production; console or file in development).

    One connection per batch. Each message has a Message-ID derived from its
    outbox row, so the rare repeat after a crash is recognisably the same mail.
    Each carries a plain-text part and the same words as HTML (``email_html``), and the
    files its kind attaches (a booking's .ics: ``NotificationKind.attachments``).
    """

    name = "email"
    label = "邮件"

    def __init__(self) -> None:
        self._connection = None

    def wants(self, user) -> bool:
        return bool(user.notify_by_email and user.email)

    def send(self, message: Message) -> None:
        if self._connection is None:
            self._connection = get_connection(fail_silently=False)
            # Opened here, it stays open for the whole batch (send_messages would close
            # a connection it opened itself after every message).
            self._connection.open()
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient.email],
            connection=self._connection,
            headers={
                "Message-ID": f"<notification-{message.outbox.pk}@{domain}>",
                "Auto-Submitted": "auto-generated",
                "Content-Language": message.language,
            },
        )
        email.attach_alternative(email_html(message), "text/html")
        kind = registry.get(message.outbox.kind)
        with translation.override(message.language):
            for filename, content, mimetype in kind.attachments(message.outbox, language=message.language):
                email.attach(filename, content, mimetype)
        try:
            email.send(fail_silently=False)
        except Exception:
            # A broken SMTP connection must not poison the rest of the batch.
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # closing a dead connection
                logger.debug("notifications: error closing the e-mail connection", exc_info=True)
            self._connection = None


def load_channels() -> list[Channel]:
    return [import_string(path)() for path in conf("CHANNELS")]
