"""Request parsers that refuse what the database and the services cannot hold: NUL characters, lone surrogates
and JSON nested deeper than any real request, as a 400 naming the field instead of a 500 further in."""

import re

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

from tracker.api.errors import _field_name

# No request body of this API nests deeper than a handful of levels; 32 leaves room and keeps every later
# recursive walk (serializers, fingerprinting, json.dumps) far from Python's recursion limit.
MAX_JSON_DEPTH = 32

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text (a NUL character, a lone UTF-16 surrogate), or None."""
    if "\x00" in value:
        return _("不能包含空字符（NUL）")
    if _SURROGATE.search(value):
        return _("包含无效的 Unicode 字符（单独的代理项）")
    return None


def check_parsed(data) -> None:
    """Raise ValidationError naming every string (value or key) that cannot be stored, or ParseError if `data`
    nests deeper than MAX_JSON_DEPTH. Iterative, so depth itself cannot exhaust the stack."""
    fields: dict[str, list[str]] = {}
    stack = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise exceptions.ParseError(_("JSON 嵌套过深（最多 %(max)d 层）") % {"max": MAX_JSON_DEPTH})
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                fields.setdefault(path or "non_field_errors", []).append(problem)
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = text_problem(str(key))
                name = _field_name(path, "?" if problem else key)
                if problem:
                    fields.setdefault(name, []).append(problem)
                stack.append((item, name, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))
    if fields:
        raise exceptions.ValidationError(fields)


def _check_form(data) -> None:
    fields: dict[str, list[str]] = {}
    for key, values in data.lists():
        for value in [key, *values]:
            problem = text_problem(value) if isinstance(value, str) else None
            if problem:
                fields.setdefault(key if text_problem(key) is None else "?", []).append(problem)
    if fields:
        raise exceptions.ValidationError(fields)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("JSON 嵌套过深（最多 %(max)d 层）") % {"max": MAX_JSON_DEPTH}) from None
        check_parsed(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_form(result.data)
        return result
