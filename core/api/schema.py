"""The OpenAPI document: the API's description and the errors every operation can answer, with
examples, and a schema that client generators and strict validators read correctly
(drf-spectacular postprocessing hooks)."""

from __future__ import annotations

import copy

#: The schema's ``info.title``: ASCII, because client generators make a package name of it
#: (openapi-python-client: ``building-party-portal-api-client``), and drf-spectacular the schema
#: download's file name (a Chinese one was MIME-encoded whole in ``Content-Disposition``).
#: People read the Chinese name at the head of the description.
API_TITLE = "Building Party Portal API"

API_DESCRIPTION = """\
**楼宇党建 API**（Building Party Portal API）

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
相关记录用编号筛选，可逗号分隔多个。任何列表加 `?format=csv`（或请求头 `Accept: text/csv`）导出全部
结果（同样的范围和打码）：一个 CSV 文件（UTF-8 带 BOM），不是 JSON，所以不在各接口的响应中列出，
由此生成的客户端只读 JSON。

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
    "429": {"code": "throttled", "detail": "请求过于频繁，请 42 秒后再试。"},
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


#: Appended to the description of every list operation: the CSV export, which is not a JSON answer.
CSV_NOTE = (
    "加 `?format=csv`（或请求头 `Accept: text/csv`）导出全部结果为 CSV 文件（不分页，范围和打码与 JSON 相同，"
    "UTF-8 带 BOM）。"
)


def _ascii(text: str) -> bool:
    return text.isascii()


def _strip_titles(node) -> None:
    """Drop non-ASCII ``title``s (django-filter's labels): generators name classes after them
    (``EventsList状态``). The label stays in the parameter's or property's description."""
    if isinstance(node, list):
        for item in node:
            _strip_titles(item)
        return
    if not isinstance(node, dict):
        return
    title = node.get("title")
    if isinstance(title, str) and not _ascii(title):
        del node["title"]
        node.setdefault("description", title)
    for key, value in node.items():
        if key not in ("example", "examples", "default", "enum"):
            _strip_titles(value)


#: "null" in OpenAPI 3.0.3 terms: a typed schema whose only value is null.
NULL_SCHEMA = {"type": "object", "nullable": True, "enum": [None]}


def _typed_nullable(node) -> None:
    """``{"allOf": [ref], "nullable": true}`` → ``{"oneOf": [ref, NULL_SCHEMA]}``.

    OpenAPI 3.0.3: ``nullable`` "only takes effect if ``type`` is explicitly defined within the
    same Schema Object", so strict validators read drf-spectacular's form as never null (or
    reject it). ``oneOf`` a reference or a typed null (the form the 3.0.3 clarification gives)
    is read as "this record or null" by validators and by client generators alike
    (openapi-python-client: ``None | Ref``).
    """
    if isinstance(node, list):
        for item in node:
            _typed_nullable(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("nullable") and "type" not in node:
        for key in ("allOf", "oneOf", "anyOf"):
            subs = node.get(key)
            if subs and all(isinstance(sub, dict) and "$ref" in sub for sub in subs):
                del node["nullable"]
                node.pop(key)
                node["oneOf"] = [*subs, copy.deepcopy(NULL_SCHEMA)]
                break
    for value in node.values():
        _typed_nullable(value)


def client_friendly(result, generator, request, public):
    """What client generators and strict OpenAPI 3.0 validators need (issue 15).

    * ids in paths are integers (``lookup_value_regex`` lets only digits through);
    * no non-ASCII ``title`` (class names), see ``_strip_titles``;
    * nullable references are ``oneOf`` the reference or a typed null, see ``_typed_nullable``;
    * no ``format`` parameter and no ``text/csv`` answer in the operations: a generated client
      parses a 200 as JSON, so a documented CSV answer (and a ``format=csv`` it could send)
      breaks it. The CSV export is described in the list operations' text instead.
    """
    _strip_titles(result)
    _typed_nullable(result)
    for path, operations in result.get("paths", {}).items():
        for verb, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = []
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("name") == "format":
                    continue
                if parameter.get("in") == "path" and parameter.get("name") == "id":
                    parameter["schema"] = {"type": "integer", "minimum": 1}
                parameters.append(parameter)
            if parameters:
                operation["parameters"] = parameters
            else:
                operation.pop("parameters", None)
            csv = False
            for response in operation["responses"].values():
                content = response.get("content", {})
                csv = content.pop("text/csv", None) is not None or csv
            if csv and verb == "get" and "{" not in path:
                description = operation.get("description", "").rstrip()
                operation["description"] = f"{description}\n\n{CSV_NOTE}".strip()
    return result
