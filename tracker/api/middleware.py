"""Refuse an oversized API request before its body is read."""

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _

from tracker.api.errors import error_body


class ApiBodyLimitMiddleware:
    """A body larger than API_MAX_BODY_BYTES gets 413 in the API's error shape; nothing is read or written."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.API_MAX_BODY_BYTES
            if length > limit:
                message = _("请求体过大：%(size).1f MB，上限 %(limit).1f MB") % {
                    "size": length / 2**20,
                    "limit": limit / 2**20,
                }
                return JsonResponse(error_body("too_large", message), status=413)
        return self.get_response(request)
