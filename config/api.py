"""What every endpoint of the REST API shares: pagination, CSV, errors, throttling, permissions.

* ``ApiPagination``: ``?page=`` and ``?page_size=`` (capped at ``MAX_PAGE_SIZE``);
  a malformed value is a 400 with a field error, never a silent fallback.
* ``CSVRenderer`` and ``CsvListMixin``: ``?format=csv`` on any list streams every
  row of the filtered, scoped list through the list's own serializer (so the
  masking is the same), with a BOM so that Excel opens the Chinese text right.
* ``api_exception_handler``: a refused rule (``BookingError``) is a 409, and every
  error that is not a field error has the same body ``{"code": ..., "detail": ...}``.
  Errors are always JSON, also under ``?format=csv``.
* ``ApiRateThrottle``: one bucket per API key (per user for sessions, per address
  for anonymous requests); a 429 carries ``Retry-After``.
* ``HasTerritory``, ``ScopedModelWritePermission``: who may read territorial records
  and who may write them.
"""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Iterable, Iterator

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, filters, permissions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from buildings.selectors import has_staff_scope

MAX_PAGE_SIZE = 200
CSV_CHUNK_SIZE = 1000


# --- Pagination ---------------------------------------------------------------------------------


def _positive_int(raw: str, field: str, maximum: int | None = None) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise exceptions.ValidationError({field: [_("请输入一个正整数。")]}) from None
    if value < 1:
        raise exceptions.ValidationError({field: [_("请输入一个正整数。")]})
    if maximum is not None and value > maximum:
        raise exceptions.ValidationError({field: [_("不能大于 %(max)s。") % {"max": maximum}]})
    return value


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_query_description = _("页码，从 1 开始。")
    page_size_query_description = _("每页条数，默认 50，最多 200。")

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        return _positive_int(raw, self.page_size_query_param, self.max_page_size)

    def validate_params(self, request) -> None:
        """400 for a malformed ``page`` or ``page_size`` (also for CSV, which ignores them)."""
        self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "") and raw not in self.last_page_strings:
            _positive_int(raw, self.page_query_param, maximum=10**9)

    def paginate_queryset(self, queryset, request, view=None):
        self.validate_params(request)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": 10**9}
            elif param["name"] == self.page_size_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return params


# --- CSV ----------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "; ".join(str(_csv_cell(item)) for item in value)
    if isinstance(value, dict):
        return value.get("name", value.get("id", ""))
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
        except ValueError:
            # A spreadsheet would run "=HYPERLINK(...)" typed into a record; quote it.
            return "'" + value
    return value


def serializer_columns(serializer: serializers.BaseSerializer, prefix: str = "") -> list[str]:
    """Dotted column names of a serializer's fields, nested serializers flattened one level deep."""
    columns: list[str] = []
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.Serializer) and not prefix:
            columns.extend(serializer_columns(field, prefix=f"{name}."))
        else:
            columns.append(prefix + name)
    return columns


def flatten_row(row: dict, columns: list[str]) -> list:
    out = []
    for column in columns:
        value = row
        for part in column.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        out.append(_csv_cell(value))
    return out


class _Echo:
    def write(self, value):
        return value


def csv_lines(columns: list[str], rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(columns)
    for row in rows:
        yield writer.writerow(row)


class CSVRenderer(BaseRenderer):
    """``?format=csv``: lists stream through ``CsvListMixin``; this renders everything else."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            data = data["results"]
        rows = data if isinstance(data, list) else [data]
        columns: list[str] = []
        for row in rows:
            for key, value in row.items() if isinstance(row, dict) else []:
                keys = [f"{key}.{sub}" for sub in value] if isinstance(value, dict) else [key]
                columns.extend(k for k in keys if k not in columns)
        buffer = io.StringIO()
        for line in csv_lines(columns, (flatten_row(row, columns) for row in rows)):
            buffer.write(line)
        return buffer.getvalue().encode("utf-8")


class CsvListMixin:
    """Lists answer ``?format=csv`` with every row (not one page), streamed in chunks."""

    csv_filename: str | None = None

    def wants_csv(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return getattr(renderer, "format", None) == "csv"

    def list(self, request, *args, **kwargs):
        if not self.wants_csv():
            return super().list(request, *args, **kwargs)
        if self.paginator is not None:
            self.paginator.validate_params(request)
        queryset = self.filter_queryset(self.get_queryset())
        serializer = self.get_serializer(many=True)
        columns = serializer_columns(serializer.child)

        def rows():
            # iterator() with prefetch_related runs the prefetches per chunk: a fixed
            # number of queries per CSV_CHUNK_SIZE rows, whatever the list's length.
            for instance in queryset.iterator(chunk_size=CSV_CHUNK_SIZE):
                yield flatten_row(serializer.child.to_representation(instance), columns)

        response = StreamingHttpResponse(csv_lines(columns, rows()), content_type="text/csv; charset=utf-8")
        name = self.csv_filename or getattr(self, "basename", None) or "export"
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's, except that an empty ``?format=`` is refused like an unknown one (404)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if format_suffix is None and request.query_params.get(self.settings.URL_FORMAT_OVERRIDE) == "":
            raise exceptions.NotFound(_("不支持的输出格式；可用 json 或 csv。"))
        return super().select_renderer(request, renderers, format_suffix)


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


# --- Errors -------------------------------------------------------------------------------------


def _error_code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def api_exception_handler(exc, context):
    """DRF's handler, plus: BookingError → 409, Django ValidationError → 400, uniform error bodies."""
    # Imported here: rest_framework.views reads the renderer setting, which points at this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    from services.booking import BookingError

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
    if isinstance(exc, BookingError):
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


# --- Throttling ---------------------------------------------------------------------------------


class ApiRateThrottle(SimpleRateThrottle):
    """One bucket per API key; sessions per user, anonymous requests per address.

    Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (scopes ``api_token``,
    ``api_user``, ``api_anon``), read per request so that settings overrides apply.
    """

    def allow_request(self, request, view):
        from members.models import ApiToken

        if isinstance(request.auth, ApiToken):
            self.scope, self.ident = "api_token", f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            self.scope, self.ident = "api_user", f"user:{request.user.pk}"
        else:
            self.scope, self.ident = "api_anon", f"ip:{self.get_ident(request)}"
        self.rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self):
        # Chosen per request in allow_request(); nothing to decide at construction.
        return None

    def get_cache_key(self, request, view) -> str:
        return f"throttle_{self.ident}"


# --- Permissions --------------------------------------------------------------------------------


class HasTerritory(permissions.BasePermission):
    """Territorial records are for people with a territory: street, district or the whole city."""

    message = _("此接口仅对街道社工、区级工作人员和市级管理员开放。")

    def has_permission(self, request, view) -> bool:
        return has_staff_scope(request.user)


class ScopedModelWritePermission(permissions.DjangoModelPermissions):
    """Reads: any user with a territory. Writes: also the model's add/change permission.

    Which rows may be written is the view's scoped queryset (others are 404) and
    the serializer's scoped choices (a street outside the territory is refused).
    """

    message = _("您没有修改此类记录的权限。")
    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": [],
        "HEAD": [],
        "OPTIONS": [],
    }

    def has_permission(self, request, view) -> bool:
        if not has_staff_scope(request.user):
            self.message = HasTerritory.message
            return False
        if request.method.lower() not in getattr(view, "http_method_names", ()):
            return True  # answered 405 by the view, whatever the permissions
        return super().has_permission(request, view)


# --- Serializer helpers -------------------------------------------------------------------------


def street_in_scope(user, street) -> bool:
    """Whether ``street`` (with its ``district_id``) lies in ``user``'s territory, without a query.

    Used for related records shown inside a record: a party organization's parent,
    a member's employer, an event's organizer may lie in another territory, and then
    they are left out rather than leaked.
    """
    from buildings.selectors import has_full_scope, user_street_ids

    if street is None or not (user and user.is_authenticated):
        return False
    if has_full_scope(user):
        return True
    return (user.district_id is not None and street.district_id == user.district_id) or (
        street.pk in user_street_ids(user)
    )


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key chosen by id among the rows in the requesting user's territory.

    An id outside the territory gets the same "does not exist" error as an unknown
    one, so the answer tells nothing about other territories.
    """

    def get_queryset(self):
        from buildings.selectors import scope_queryset

        request = self.context.get("request")
        return scope_queryset(super().get_queryset(), getattr(request, "user", None))


def can_see_personal_data(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    cached = getattr(request, "_can_see_personal_data", None)
    if cached is None:
        cached = user.has_perm("members.view_personal_data")
        request._can_see_personal_data = cached
    return cached


class MaskedField(serializers.CharField):
    """Phones and ID numbers: 138****5678 unless the user holds members.view_personal_data."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        from members.validators import mask_middle

        value = super().to_representation(value)
        return value if can_see_personal_data(self.context) else mask_middle(value)


class RefSerializer(serializers.Serializer):
    """A related record in short: its id and name."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ErrorSerializer(serializers.Serializer):
    """The body of every error that is not a field error (schema only)."""

    code = serializers.CharField(help_text=_("机器可读的错误代码，如 waitlist_full、not_found、throttled"))
    detail = serializers.CharField(help_text=_("给人看的说明（中文）"))


class FullCleanMixin:
    """Model serializers that validate meaning with the model's own ``full_clean()``.

    The model's field validators, ``clean()``, unique checks and ``Meta.constraints``
    (with their Chinese messages) are the rules; the serializer only checks shape.
    """

    def validate(self, attrs):
        import copy

        attrs = super().validate(attrs)
        instance = copy.copy(self.instance) if self.instance is not None else self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                {
                    (api_settings.NON_FIELD_ERRORS_KEY if key == "__all__" else key): messages
                    for key, messages in exc.message_dict.items()
                }
            ) from exc
        return attrs


class SearchFilter(filters.SearchFilter):
    """DRF's search, refusing terms PostgreSQL cannot take (NUL) or that are absurdly long."""

    def get_search_terms(self, request):
        raw = request.query_params.get(self.search_param, "")
        if "\x00" in raw:
            raise exceptions.ValidationError({self.search_param: [_("搜索词含有非法字符。")]})
        if len(raw) > 100:
            raise exceptions.ValidationError({self.search_param: [_("搜索词不能超过 100 个字符。")]})
        return super().get_search_terms(request)


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering; an unknown field is a 400 rather than silently ignored."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            valid = {item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [
                term for term in (p.strip().lstrip("-") for p in params.split(",")) if term not in valid
            ]
            if unknown:
                raise exceptions.ValidationError(
                    {
                        self.ordering_param: [
                            _("不能按“%(fields)s”排序；可用：%(valid)s。")
                            % {"fields": ", ".join(unknown), "valid": ", ".join(sorted(valid))}
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if isinstance(fields, (list, tuple)):
            for param in params:
                param["description"] = str(
                    _("排序字段，可用：%(fields)s；前加 - 表示倒序，多个用逗号分隔。")
                ) % {"fields": ", ".join(fields)}
        return params


class ApiViewSetMixin(CsvListMixin):
    """Shared by every viewset: numeric ids in URLs, territory permission, CSV lists, JSON bodies.

    Request bodies are JSON only (other media types: 415). Form-encoded bodies read an
    empty field as "not sent" on a PATCH, so ``credit_code=`` was accepted and ignored
    where the schema (and JSON) says it is refused.
    """

    lookup_value_regex = r"[0-9]+"
    permission_classes = [permissions.IsAuthenticated, HasTerritory]
    parser_classes = [JSONParser]


# --- OpenAPI (drf-spectacular postprocessing hook) ----------------------------------------------

API_DESCRIPTION = """\
楼宇党建平台的 REST API：区、街道、楼宇、企业、党组织、党员、楼委会、党群服务站、空间、活动、预约、场地预约，
以及党建覆盖和活动统计。

**认证。** 浏览器使用登录会话（写操作须带 CSRF 令牌）；程序对接使用 API 密钥，放在请求头
`Authorization: Token <密钥>`。密钥由管理员在后台“API 密钥”中签发，或用
`python manage.py create_api_token 用户名` 签发，只显示一次；可吊销，会过期，记录最近使用时间。
未认证的请求返回 401。

**范围。** 区级密钥只能看到和修改本区的数据，街道社工只能看到所负责的街道；范围外的记录一律 404，
也不会出现在筛选、嵌套字段、计数或统计中。员工只看到已发布的活动、开放的服务站和本人的预约。
心理咨询预约保密。手机号码和身份证号默认打码（`138****5678`、`310***********1234`），
持有“可查看完整手机号和身份证号”权限的用户看到完整号码。

**列表。** `page`、`page_size`（最多 200）分页；`search` 搜索；`ordering` 排序；其余参数为筛选条件，
相关记录用编号筛选，可逗号分隔多个。任何列表加 `?format=csv` 导出全部结果（同样的范围和打码）。

**错误。** 参数或数据不合法：400，body 为 `{"字段": ["说明"]}`。其他错误：
`{"code": "机器可读代码", "detail": "说明"}`——401 未认证，403 无权限，404 不存在或不在范围内，
409 业务规则不允许（如 `waitlist_full`、`cancel_deadline_passed`），429 请求过于频繁（见 `Retry-After` 头）。
"""

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "机器可读的错误代码"},
        "detail": {"type": "string", "description": "说明（中文）"},
    },
    "required": ["code", "detail"],
}
_FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "字段名 → 错误说明列表；与字段无关的错误在 non_field_errors 中。",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


def _error(description: str, example: dict, schema: dict | None = None, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {
            "application/json": {
                "schema": schema or {"$ref": "#/components/schemas/ApiError"},
                "examples": {example.get("code", "invalid"): {"value": example}},
            }
        },
    }
    if headers:
        response["headers"] = headers
    return response


# One example body per error status, for the responses below and for the errors an
# operation documents itself without an example.
ERROR_EXAMPLES = {
    "400": {"page_size": ["不能大于 200。"]},
    "401": {"code": "not_authenticated", "detail": "身份认证信息未提供。"},
    "403": {"code": "permission_denied", "detail": "此接口仅对街道社工、区级工作人员和市级管理员开放。"},
    "404": {"code": "not_found", "detail": "未找到。"},
    "409": {"code": "already_booked", "detail": "您已预约过该活动。"},
    "429": {"code": "throttled", "detail": "请求超过了限速。 Expected available in 42 seconds."},
}

ERROR_RESPONSES = {
    "400": _error(
        "参数或数据不合法：字段错误 {字段: [说明]}；请求体无法解析时为 {code: parse_error, detail}",
        ERROR_EXAMPLES["400"],
        schema={
            "anyOf": [{"$ref": "#/components/schemas/FieldErrors"}, {"$ref": "#/components/schemas/ApiError"}]
        },
    ),
    "401": _error("未认证：没有登录会话或 API 密钥，或密钥无效、已吊销、已过期", ERROR_EXAMPLES["401"]),
    "403": _error("已认证，但无权访问此接口或执行此操作", ERROR_EXAMPLES["403"]),
    "404": _error("不存在，或不在本人管辖范围内（两者不作区分），或页码超出范围", ERROR_EXAMPLES["404"]),
    "429": _error(
        "请求过于频繁（按 API 密钥计）",
        ERROR_EXAMPLES["429"],
        headers={"Retry-After": {"schema": {"type": "integer"}, "description": "多少秒后可以再试"}},
    ),
}


PARAMETER_DESCRIPTIONS = {
    "id": "记录编号（不存在或不在本人管辖范围内时返回 404）",
    "format": "输出格式：json（默认）；csv 导出全部结果（不分页，范围和打码与 JSON 相同，UTF-8 带 BOM）",
}


def add_error_responses(result, generator, request, public):
    """Document the errors every operation can answer, with examples, and the API's description."""
    result.setdefault("info", {})["description"] = API_DESCRIPTION
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ApiError", _ERROR_SCHEMA)
    schemas.setdefault("FieldErrors", _FIELD_ERRORS_SCHEMA)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                if not parameter.get("description") and parameter["name"] in PARAMETER_DESCRIPTIONS:
                    parameter["description"] = PARAMETER_DESCRIPTIONS[parameter["name"]]
                # An empty filter (?street=) means "no filter", as a page's empty form field does.
                if (
                    parameter.get("in") == "query"
                    and not parameter.get("required")
                    and parameter["name"] != "format"
                ):
                    parameter["allowEmptyValue"] = True
            responses = operation["responses"]
            for status_code, response in ERROR_RESPONSES.items():
                existing = responses.get(status_code)
                if existing is None:
                    responses[status_code] = copy.deepcopy(response)
                elif "content" not in existing:
                    existing["content"] = copy.deepcopy(response["content"])
            # Errors an operation documents itself (a 403 or 409 of an action) get an example too.
            for status_code, response in responses.items():
                json_content = response.get("content", {}).get("application/json")
                if (
                    status_code in ERROR_EXAMPLES
                    and json_content is not None
                    and not json_content.get("examples")
                ):
                    example = ERROR_EXAMPLES[status_code]
                    json_content["examples"] = {example.get("code", "invalid"): {"value": example}}
    return result
