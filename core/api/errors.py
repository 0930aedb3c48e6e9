"""Errors of the API: always JSON, one body ``{"code", "detail"}`` for everything that is not a
field error (400 ``{field: [messages]}``); every domain error (``core.errors.DomainError``) is a 409."""

from __future__ import annotations

import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.errors import DomainError


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Any unknown URL under /api/v1/ answers like the API, in JSON, not with the portal's page.

    (CSRF-exempt: it changes nothing, and a POST to a wrong URL should learn that it is wrong.)
    """
    from django.http import JsonResponse

    return JsonResponse(
        {"code": "not_found", "detail": str(exceptions.NotFound.default_detail)},
        status=404,
        # Like DRF's renderer (UNICODE_JSON): readable Chinese, not \uXXXX escapes.
        json_dumps_params={"ensure_ascii": False},
    )


def api_root(request, *args, **kwargs):
    """``/api/v1/`` itself: where the documentation and the schema are (not a 404).

    A browser (asking for HTML) is redirected to the documentation; an API client gets the
    links as JSON.
    """
    from django.http import HttpResponseRedirect, JsonResponse
    from django.urls import reverse

    if request.method not in ("GET", "HEAD"):
        response = JsonResponse(
            {"code": "method_not_allowed", "detail": str(exceptions.MethodNotAllowed(request.method).detail)},
            status=405,
            json_dumps_params={"ensure_ascii": False},
        )
        response["Allow"] = "GET, HEAD"
        return response
    links = {
        "documentation": request.build_absolute_uri(reverse("api:docs")),
        "redoc": request.build_absolute_uri(reverse("api:docs-redoc")),
        "schema": request.build_absolute_uri(reverse("api:schema")),
    }
    if "text/html" in request.headers.get("Accept", ""):
        return HttpResponseRedirect(links["documentation"])
    return JsonResponse(links, json_dumps_params={"ensure_ascii": False})


def _error_code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def throttled_message(wait: float | None) -> str:
    """The 429's text, whole in the reader's language.

    DRF formats "Expected available in N seconds." before looking it up in the catalogue, so
    the lookup never matches and the Chinese answer ended in English.
    """
    if wait is None:
        return _("请求过于频繁，请稍后再试。")
    seconds = max(1, math.ceil(wait))
    return ngettext(
        "请求过于频繁，请 %(wait)d 秒后再试。", "请求过于频繁，请 %(wait)d 秒后再试。", seconds
    ) % {"wait": seconds}


def api_exception_handler(exc, context):
    """DRF's handler, plus: any DomainError → 409, Django ValidationError → 400, uniform error bodies."""
    # Imported here: rest_framework.views reads the renderer setting, which points at this package.
    from rest_framework.views import exception_handler as drf_exception_handler

    request = context.get("request")
    if request is not None and getattr(getattr(request, "accepted_renderer", None), "format", "") != "json":
        # Error bodies are JSON whatever was asked for (?format=csv included).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    if isinstance(exc, Http404):
        # Not Django's "No Booking matches the given query.": no model names, same words for all.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, exceptions.Throttled):
        throttled = exceptions.Throttled(detail=throttled_message(exc.wait))
        throttled.wait = exc.wait  # the Retry-After header
        exc = throttled
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "detail": str(exc.message)}, status=409)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict
            if hasattr(exc, "error_dict")
            else {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        )
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if key == "__all__" else key): value
            for key, value in detail.items()
        }
        exc = exceptions.ValidationError(detail)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException) and not isinstance(exc, exceptions.ValidationError):
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"code": _error_code(exc), "detail": str(detail)}
    return response
