"""Input checks shared by the services: collect every bad field, then refuse once, naming them all."""

import re
from datetime import date

from django.utils.translation import gettext as _

from services.errors import InvalidInput

# A mainland mobile number (optionally +86), or a landline with or without its area code and an extension
# after 转; spaces, dashes and brackets between the groups are ignored ("0512-5777 1234", "(0512)57771234").
_MOBILE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")
_LANDLINE = re.compile(r"(?:0\d{2,3})?[2-9]\d{6,7}(?:转\d{1,6})?")
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")


class FieldErrors:
    """Collects field errors; `raise_if_any` raises one InvalidInput naming every bad field."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(str(message))

    def text(self, field: str, value, *, required: bool = True, max_length: int | None = None) -> str:
        """Return `value` stripped, recording an error if it is missing, not text, or too long."""
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(field, _("应为文本"))
            return ""
        value = value.strip()
        if required and not value:
            self.add(field, _("此项不能为空"))
        elif max_length is not None and len(value) > max_length:
            self.add(
                field,
                _("不能超过%(max)d个字符（当前%(length)d个）") % {"max": max_length, "length": len(value)},
            )
        return value

    def phone(self, field: str, value, *, required: bool = True) -> str:
        """Return a telephone number stripped, recording an error if it is missing (when required), not text,
        or not a mobile or landline number."""
        value = self.text(field, value, required=required, max_length=30)
        if value and field not in self.errors:
            compact = _PHONE_SEPARATORS.sub("", value)
            if not (_MOBILE.fullmatch(compact) or _LANDLINE.fullmatch(compact)):
                self.add(field, _("请填写有效的手机号或固定电话（如 13812345678、0512-57771234）"))
        return value

    def choice(self, field: str, value, choices, *, default=None) -> str | None:
        if value in (None, ""):
            return default
        valid = [str(choice) for choice in choices.values]
        if value not in valid:
            self.add(
                field,
                _("无效的选项“%(value)s”，可选：%(valid)s") % {"value": value, "valid": ", ".join(valid)},
            )
            return default
        return value

    def date_not_before(self, field: str, value, earliest: date) -> date | None:
        if value is None:
            return None
        if not isinstance(value, date):
            self.add(field, _("应为日期"))
            return None
        if value < earliest:
            self.add(field, _("不能早于%(date)s") % {"date": earliest.isoformat()})
            return None
        return value

    def raise_if_any(self, message: str | None = None) -> None:
        if self.errors:
            raise InvalidInput(message or _("提交的内容有误，请检查标出的字段"), fields=self.errors)


def require_text(field: str, value, *, max_length: int | None = None) -> str:
    errors = FieldErrors()
    text = errors.text(field, value, max_length=max_length)
    errors.raise_if_any()
    return text
