"""Cursor pagination: stable pages while rows are added, so an integration can sync with
`?ordering=updated_at&updated_after=T` and follow `next` until it is null."""

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from tracker.api.parsers import text_problem


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
    invalid_cursor_message = _("翻页游标无效，请从第一页重新开始")

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model  # decode_cursor checks the position against the ordering field's type
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """The cursor, refusing with 404 a position that is not a value of the ordering field (a forged or
        corrupted cursor), before it reaches the database."""
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        if text_problem(cursor.position):
            raise NotFound(self.invalid_cursor_message)
        model = getattr(self, "_model", None)
        ordering = self.ordering if isinstance(self.ordering, list | tuple) else [self.ordering]
        try:
            field = model._meta.get_field(ordering[0].lstrip("-")) if model is not None else None
        except FieldDoesNotExist:
            field = None  # an annotation: nothing to check the position against
        if field is not None:
            try:
                field.to_python(cursor.position)
            except (ValidationError, ValueError, TypeError, OverflowError):
                raise NotFound(self.invalid_cursor_message) from None
        return cursor
