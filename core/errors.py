"""The one base of every broken business rule: ``DomainError``.

A write function refuses with a subclass (``BookingError``, ``TransferError``, ...)
carrying a stable machine-readable ``code`` and a translated ``message`` for the
person in front of the screen, before it changes anything. Each edge maps the base
class in one place: the API answers 409 ``{"code", "detail"}`` (``core.api``), the
admin shows the message (``core.adminkit``), the portal shows it as a form error or
message. A new rule needs no new mapping code.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused an action; nothing was changed."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return str(self.message)
