"""Notifications for every app: the outbox, its kinds, channels and sender (app label ``notifications``).

A domain app hands its own kinds of message to this app; this app never imports them.

* ``models`` — ``Outbox`` (one notification to one person; unique ``(recipient, kind,
  cause)``, so writing it twice is a no-op) and ``PortalNotification`` (the bell);
* ``registry`` — a kind (``NotificationKind``) says how its rows are loaded, rendered,
  linked and re-checked before sending; apps register theirs in ``AppConfig.ready()``,
  and their periodic scans (the term-end reminders, demand deadlines) too;
* ``outbox`` — the write side every app calls *inside* the transaction of the change
  that causes a notification; after the commit a worker is asked to "look now";
* ``messages`` — rendering in the recipient's language; ``channels`` — the bell, e-mail;
* ``sender`` — takes one due row at a time with ``SELECT ... FOR UPDATE SKIP LOCKED`` and
  delivers it in that row's transaction: exactly once in the bell, and e-mail sent just
  before the commit that records it (see ``sender`` for the one window where a crash can
  repeat an e-mail, with the same Message-ID);
* ``tasks``, the ``send_due_reminders`` command, the outbox admin, the bell's pages.
"""
