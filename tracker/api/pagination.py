"""Cursor pagination: stable pages while rows are added, so an integration can sync with
`?ordering=updated_at&updated_after=T` and follow `next` until it is null."""

from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
