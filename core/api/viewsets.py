"""What every viewset shares."""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.parsers import JSONParser

from core.api.permissions import HasTerritory
from core.api.renderers import CsvListMixin


class ApiViewSetMixin(CsvListMixin):
    """Shared by every viewset: numeric ids in URLs, territory permission, CSV lists, JSON bodies.

    Request bodies are JSON only (other media types: 415). Form-encoded bodies read an
    empty field as "not sent" on a PATCH, so ``credit_code=`` was accepted and ignored
    where the schema (and JSON) says it is refused.
    """

    lookup_value_regex = r"[0-9]+"
    permission_classes = [permissions.IsAuthenticated, HasTerritory]
    parser_classes = [JSONParser]
