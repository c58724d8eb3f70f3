"""The staff workbench's admin site: each person opens it to their own work (DESIGN.md §4, §7)."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from services.notifications import unread_count
from services.roles import Role, has_role, is_zone_wide


def home_url(user) -> str | None:
    """Where `user`'s work is: concierges their cases, task units their tasks, leaders the dashboard."""
    if has_role(user, Role.CONCIERGE):
        return reverse("admin:tracker_case_changelist") + "?queue=mine"
    if has_role(user, Role.TASK_FORCE_MEMBER, Role.DEPARTMENT_OFFICER):
        return reverse("admin:tracker_task_changelist") + "?queue=mine&state=open"
    if is_zone_wide(user) and not has_role(user, Role.ADMINISTRATOR):
        return reverse("admin:dashboard")
    return None


class WorkbenchSite(admin.AdminSite):
    site_header = _("保姆式挂钩服务 · 工作台")
    site_title = _("保姆式挂钩服务")
    index_title = _("工作台")

    def index(self, request, extra_context=None):
        """Send people to their queue; `?all=1` shows the plain list of everything they may open."""
        target = None if "all" in request.GET else home_url(request.user)
        if target:
            return redirect(target)
        return super().index(request, extra_context)

    def get_urls(self):
        from tracker.admin.dashboard import dashboard_view
        from tracker.admin.notifications import inbox_view, open_notice_view

        return [
            path("dashboard/", self.admin_view(dashboard_view), name="dashboard"),
            path("inbox/", self.admin_view(lambda request: inbox_view(request, self)), name="inbox"),
            path("inbox/<int:pk>/", self.admin_view(require_POST(open_notice_view)), name="open_notice"),
            *super().get_urls(),
        ]

    def each_context(self, request):
        context = super().each_context(request)
        user = request.user
        if user.is_authenticated and user.is_staff:
            links = []
            if has_role(user, Role.CONCIERGE) or is_zone_wide(user):
                links.append((_("我的诉求"), reverse("admin:tracker_case_changelist") + "?queue=mine"))
            if has_role(user, Role.TASK_FORCE_MEMBER, Role.DEPARTMENT_OFFICER) or is_zone_wide(user):
                links.append((_("我的事项"), reverse("admin:tracker_task_changelist") + "?queue=mine&state=open"))
            if is_zone_wide(user):
                links.append(
                    (_("待审批延期"), reverse("admin:tracker_extension_changelist") + "?status__exact=pending")
                )
            links.append((_("统计看板"), reverse("admin:dashboard")))
            context["workbench_links"] = links
            context["inbox_unread"] = lambda: unread_count(user)
        return context
