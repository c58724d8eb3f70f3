"""Due dates typed in the workbench: the person typing one sees, before saving, that a rest day moves to the next
working day (民法典 第二百零三条), as the services will move it.

Each due-date input carries the rest days from today to the horizon (settings.TASK_DUE_HORIZON_DAYS), each with the
working day it moves to, why it is a rest day and whether that is provisional (`data-rest-days`), and the sentences to
say it in (`data-rest-day-text`); workbench.js shows the sentence under the field. The map is read once per page,
when the first input is rendered, however many rows carry it — and not at all when a valid form is saved.
"""

import json
from datetime import date, timedelta
from functools import cached_property

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from services.time import calendar


class RestDayMoves:
    """The rest days ahead as the inputs' data attributes, computed on first rendering and then shared."""

    def __init__(self, today: date | None = None):
        self.today = today or timezone.localdate()

    @cached_property
    def days_json(self) -> str:
        until = self.today + timedelta(days=settings.TASK_DUE_HORIZON_DAYS)
        moves = calendar.rest_days_ahead(self.today, until)
        return _compact(
            {
                day.isoformat(): [to.isoformat(), reason, int(provisional)]
                for day, (to, reason, provisional) in moves.items()
            }
        )

    @cached_property
    def text_json(self) -> str:
        return _compact(
            {
                "moved": gettext("%(day)s是休息日（%(reason)s），期限将顺延至 %(next)s（下一个工作日）"),
                "moved_plain": gettext("%(day)s是休息日，期限将顺延至 %(next)s（下一个工作日）"),
                "provisional": gettext("（%(year)s年节假日安排尚未确认，暂按法定节假日和周末计算）"),
            }
        )

    def attrs(self) -> dict:
        # Lazy: Django's widget template turns each value into text only when the input is rendered.
        return {"data-rest-days": _Lazy(self, "days_json"), "data-rest-day-text": _Lazy(self, "text_json")}


class _Lazy:
    def __init__(self, moves: RestDayMoves, name: str):
        self.moves, self.name = moves, name

    def __str__(self) -> str:
        return getattr(self.moves, self.name)


def _compact(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def hint_rest_days(field: forms.Field, moves: RestDayMoves | None = None) -> RestDayMoves:
    """Make `field` (a bound form's own copy of a date field) say when the date typed is a rest day. Pass the same
    `moves` to every row of a page; returns it."""
    moves = moves or RestDayMoves()
    field.widget.attrs.update(moves.attrs())
    return moves
