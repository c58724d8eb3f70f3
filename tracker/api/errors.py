"""Every API error as `{"code", "message", "fields", "data"}` with the status its meaning calls for
(docs/architecture.md).

`code` is stable and specific (a guard's `tasks_open` rather than a generic conflict), `data` holds the facts a
program acts on (the open tasks' ids, the current version) and is `{}` when there are none. The codes and their
data are documented in the schema (`tracker.api.schema`)."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.defaults import server_error as django_server_error
from rest_framework import exceptions, status
from rest_framework.response import Response

from services.errors import ServiceError

_CODES = {
    exceptions.ParseError: "malformed",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "not_permitted",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def _field_name(prefix: str, key) -> str:
    if not prefix:
        return str(key)
    return f"{prefix}[{key}]" if str(key).isdigit() else f"{prefix}.{key}"  # DRF keys a list's errors by position


def flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field": [...], "tasks[0].title": [...]}."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = _field_name(prefix, key)
            for field, messages in flatten(value, name).items():
                fields.setdefault(field, []).extend(messages)
    elif isinstance(detail, list) and detail and all(not isinstance(item, dict | list) for item in detail):
        fields[prefix or "non_field_errors"] = [str(item) for item in detail]
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            for field, messages in flatten(item, f"{prefix}[{index}]").items():
                fields.setdefault(field, []).extend(messages)
    elif detail not in (None, ""):
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def error_body(code: str, message: str, fields: dict | None = None, *, data: dict | None = None, **extra) -> dict:
    return {"code": code, "message": str(message), "fields": fields or {}, "data": data or {}, **extra}


def service_error_body(error: ServiceError) -> dict:
    """A service's refusal as the API answers it: its own rendering, with `data` always there."""
    return {**error.as_dict(), "data": error.data}


def exception_handler(exc, context):
    """DRF's exception handler: service errors keep their code, data and status; DRF's and Django's are translated."""
    if isinstance(exc, ServiceError):
        return Response(service_error_body(exc), status=exc.http_status)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("too_large", _("请求体过大")), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("对象不存在或无权查看"))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a real fault: Django logs it and answers 500
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", _("提交的内容有误，请检查标出的字段"), flatten(exc.detail))
    else:
        code = next((code for cls, code in _CODES.items() if isinstance(exc, cls)), "error")
        body = error_body(code, exc.detail if isinstance(exc.detail, str) else str(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


def not_found(request, *args, **kwargs):
    """An /api/ address that matches no endpoint."""
    return JsonResponse(error_body("not_found", _("接口地址不存在")), status=404)


def server_error(request):
    """A crash: JSON in the API's error shape under /api/ (an integration parses it), the project's own page
    elsewhere. Touches no database: the crash may be the database."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", _("服务器内部错误，请稍后重试")), status=500)
    return django_server_error(request)


def csrf_failure(request, reason=""):
    """CSRF refusals in the API's error shape for /api/ (a browser session writing without its token); on the
    portal, a page saying what to do (usually: the page was open too long, or cookies are off)."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("csrf_failed", _("CSRF 校验失败：%(reason)s") % {"reason": reason}), status=403)
    if request.path.startswith("/portal/"):
        return render(request, "portal/csrf_failure.html", status=403)
    return django_csrf_failure(request, reason=reason)
