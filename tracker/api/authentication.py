"""`Authorization: Token <key>`: the key is looked up by its digest (see services/api_tokens.py)."""

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from services import api_tokens


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = str(request.META.get("HTTP_AUTHORIZATION", "")).split()
        if not parts or parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("认证头应为“Token <密钥>”"))
        key = parts[1]
        token = api_tokens.authenticate_key(key)
        if token is None:
            raise AuthenticationFailed(_("令牌无效、已吊销或已过期"))
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; keys are issued in the admin or by `manage.py create_api_token USERNAME`.",
        }
