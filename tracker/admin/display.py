"""Small pieces of HTML the workbench lists and pages share."""

from django.utils.html import format_html
from django.utils.translation import gettext as _


def status_badge(obj, *, overdue: bool = False) -> str:
    """The object's status as a coloured badge, with an overdue mark when it is late."""
    badge = format_html('<span class="badge status-{}">{}</span>', obj.status, obj.get_status_display())
    if overdue:
        badge = format_html('{} <span class="badge badge-overdue">{}</span>', badge, _("逾期"))
    return badge
