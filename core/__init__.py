"""Code every app of the portal shares, the lowest layer: nothing here imports an app.

Territory scoping and confidentiality (``core.scoping``), masking, one domain-error base
(``core.errors``), form and filter helpers, one formula-safe CSV writer (``core.csv``),
the admin kit (``core.adminkit``), the API framework (``core.api``), history and
constraint helpers, middleware, the health check, backups, and the notifications
outbox with its channels and sender (``core.notifications``), which each app feeds with
its own kinds of message.
"""
