"""Why a whole file is refused (before any row is read): a ``DomainError`` with a clear message."""

from __future__ import annotations

from core.errors import DomainError


class SpreadsheetRefused(DomainError):
    """The file cannot be imported at all: not a spreadsheet, empty, too big, wrong columns."""


class ImportStateError(DomainError):
    """An import asked to do what its state does not allow (confirm twice, confirm a failed one)."""
