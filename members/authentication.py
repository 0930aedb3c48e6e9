"""DRF authentication by API key: ``Authorization: Token <key>`` (see members/tokens.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .tokens import TokenError, authenticate_token

KEYWORD = "Token"


class ApiTokenAuthentication(BaseAuthentication):
    """Authenticates a request by an API key; ``request.auth`` is the ``ApiToken``.

    Without an ``Authorization: Token`` header it steps aside (session
    authentication may still apply); a header that is present but wrong is a 401.
    """

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization 头格式应为：Token <密钥>。"))
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("API 密钥含有非法字符。")) from exc
        try:
            token = authenticate_token(key)
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from exc
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes unauthenticated requests 401 (with WWW-Authenticate) rather than 403.
        return KEYWORD


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the key in the OpenAPI schema."""

    target_class = "members.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(
                _(
                    "API 密钥，格式：`Token <密钥>`。由管理员在后台或用 "
                    "`python manage.py create_api_token 用户名` 签发，只显示一次。"
                )
            ),
        }
