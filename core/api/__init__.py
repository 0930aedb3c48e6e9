"""The API framework every app's REST endpoints share (settings: ``REST_FRAMEWORK``).

* ``pagination`` — ``?page=`` and ``?page_size=`` (capped), malformed values a 400;
* ``renderers`` — ``?format=csv`` on any list through the list's serializer and the one
  CSV writer (``core.csv``); an empty ``?format=`` refused;
* ``errors`` — JSON errors ``{"code", "detail"}``; every ``DomainError`` a 409;
* ``throttling`` — per API key, per user, per address;
* ``permissions`` — ``HasTerritory``, ``ScopedModelWritePermission``;
* ``serializers`` — scoped foreign keys, masked fields, references, ``FullCleanMixin``;
* ``filters`` — search and ordering; ``viewsets`` — ``ApiViewSetMixin``;
* ``schema`` and ``examples`` — the OpenAPI document's errors, descriptions and examples.

The names below are the package's interface: ``from core.api import ApiViewSetMixin``.
"""

from core.api.errors import api_exception_handler, api_not_found
from core.api.filters import OrderingFilter, SearchFilter
from core.api.pagination import CSV_CHUNK_SIZE, MAX_PAGE_SIZE, ApiPagination
from core.api.permissions import HasTerritory, ScopedModelWritePermission
from core.api.renderers import ContentNegotiation, CsvListMixin, CSVRenderer, flatten_row, serializer_columns
from core.api.schema import (
    ERROR_EXAMPLES,
    ERROR_RESPONSES,
    add_error_responses,
    client_friendly,
)
from core.api.serializers import (
    ChoiceLabelField,
    ErrorSerializer,
    FastRepresentationMixin,
    FieldsOnceMixin,
    FullCleanMixin,
    MaskedField,
    RefSerializer,
    ScopedPrimaryKeyRelatedField,
    can_see_personal_data,
)
from core.api.stats import IdListQueryField, csv_attachment, without_blanks
from core.api.throttling import ApiRateThrottle
from core.api.viewsets import ApiViewSetMixin
from core.scoping import street_in_scope

__all__ = [
    "CSV_CHUNK_SIZE",
    "ERROR_EXAMPLES",
    "ERROR_RESPONSES",
    "MAX_PAGE_SIZE",
    "ApiPagination",
    "ApiRateThrottle",
    "ApiViewSetMixin",
    "CSVRenderer",
    "ChoiceLabelField",
    "FastRepresentationMixin",
    "FieldsOnceMixin",
    "ContentNegotiation",
    "CsvListMixin",
    "ErrorSerializer",
    "FullCleanMixin",
    "HasTerritory",
    "IdListQueryField",
    "MaskedField",
    "OrderingFilter",
    "RefSerializer",
    "ScopedModelWritePermission",
    "ScopedPrimaryKeyRelatedField",
    "SearchFilter",
    "add_error_responses",
    "client_friendly",
    "csv_attachment",
    "without_blanks",
    "api_exception_handler",
    "api_not_found",
    "can_see_personal_data",
    "flatten_row",
    "serializer_columns",
    "street_in_scope",
]
