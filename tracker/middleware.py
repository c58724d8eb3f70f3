"""Refuse a NUL character in a request's address, query or form fields before any view puts it in a query:
PostgreSQL refuses NUL in text, and the refusal would otherwise surface as a 500."""

from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.template import engines
from django.utils.translation import gettext as _

from tracker.api.errors import error_body

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_BAD_REQUEST_PAGE = """{% extends "errors/base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block code %}400{% endblock %}
{% block heading %}{{ title }}{% endblock %}
{% block explanation %}<p>{{ explanation }}</p>{% endblock %}
{% block way_back %}{% include "errors/way_back.html" %}{% endblock %}"""


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
        page = (
            engines["django"]
            .from_string(_BAD_REQUEST_PAGE)
            .render({"title": _("请求无效"), "explanation": explanation}, request)
        )
        return HttpResponseBadRequest(page)
