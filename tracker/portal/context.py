"""Template context for every portal page: the site's name, and the unread-notice count (read only when a
page shows it)."""

from django.conf import settings

from services.delivery.notifications import unread_count


def portal(request) -> dict:
    if not request.path.startswith("/portal/"):
        return {}
    context = {"portal_site_name": settings.PORTAL_SITE_NAME}
    user = getattr(request, "user", None)
    if user and user.is_authenticated and user.enterprise_id:
        context["portal_unread"] = lambda: unread_count(user)
    return context
