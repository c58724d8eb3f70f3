"""Requests refused at the door, before any view reads them: a body larger than the limit (read in full it would
be spooled to disk first), and a NUL character in the address, query or form fields (PostgreSQL refuses NUL in
text, and the refusal would otherwise surface as a 500)."""

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.template import engines
from django.utils.translation import gettext as _

from tracker.api.errors import error_body

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_ERROR_PAGE = """{% extends "errors/base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block code %}{{ status }}{% endblock %}
{% block heading %}{{ title }}{% endblock %}
{% block explanation %}<p>{{ explanation }}</p>{% endblock %}
{% block way_back %}{% include "errors/way_back.html" %}{% endblock %}"""


def error_page(request, status: int, title: str, explanation: str) -> HttpResponse:
    """The project's error page (errors/base.html) with a way back, for refusals made before any view."""
    context = {"status": status, "title": title, "explanation": explanation}
    return HttpResponse(engines["django"].from_string(_ERROR_PAGE).render(context, request), status=status)


class BodyLimitMiddleware:
    """A request whose Content-Length is over the limit is refused before its body is read: 413, in the API's
    error shape under /api/ (API_MAX_BODY_BYTES), the project's error page elsewhere (WEB_MAX_BODY_BYTES). The
    proxy's own limit (client_max_body_size) stays the outer wall, for bodies sent without a length too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        api = request.path.startswith("/api/")
        limit = settings.API_MAX_BODY_BYTES if api else settings.WEB_MAX_BODY_BYTES
        if length <= limit:
            return self.get_response(request)
        sizes = {"size": length / 2**20, "limit": limit / 2**20}
        if api:
            message = _("请求体过大：%(size).1f MB，上限 %(limit).1f MB") % sizes
            return JsonResponse(error_body("too_large", message), status=413)
        explanation = (
            _(
                "这次提交共 %(size).1f MB，超过了单次提交的上限 %(limit).1f MB。"
                "请减少或压缩附件后重新提交，也可以分几次补充。"
            )
            % sizes
        )
        return error_page(request, 413, _("提交的内容过大"), explanation)


def _nul_in(data) -> list[str]:
    """The names of the fields of a QueryDict whose name or any value holds a NUL."""
    return [
        key.replace("\x00", "") or "?"
        for key, values in data.lists()
        if "\x00" in key or any(isinstance(value, str) and "\x00" in value for value in values)
    ]


class RefuseNulMiddleware:
    """A NUL in the path answers 404 (no such address); in the query string or a form field, 400 naming it —
    JSON in the API's error shape under /api/, the project's error page elsewhere. The API's JSON and form
    bodies are checked by its parsers (tracker.api.parsers), which also name nested fields."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path.startswith("/api/")
        if "\x00" in request.path:
            if api:
                return JsonResponse(error_body("not_found", _("接口地址不存在")), status=404)
            raise Http404(_("页面不存在"))
        fields = _nul_in(request.GET)
        if not fields and not api and request.method == "POST" and request.content_type in _FORM_TYPES:
            fields = _nul_in(request.POST)  # Django's own errors here (too many fields…) are 400s as before
        if fields:
            return self._refuse(request, fields, api=api)
        return self.get_response(request)

    def _refuse(self, request, fields: list[str], *, api: bool):
        message = _("不能包含空字符（NUL）")
        if api:
            body = error_body("invalid", _("提交的内容有误，请检查标出的字段"), {name: [message] for name in fields})
            return JsonResponse(body, status=400)
        explanation = _("提交的内容含有空字符（NUL），无法处理：%(fields)s。请检查后重试。") % {
            "fields": "、".join(fields)
        }
        return error_page(request, 400, _("请求无效"), explanation)
