"""Input checks shared by the services: collect every bad field, then refuse once, naming them all."""

from datetime import date

from django.utils.translation import gettext as _

from services.errors import InvalidInput


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
