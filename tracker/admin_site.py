"""The staff workbench's admin site: each person opens it to their own work (docs/states-and-roles.md, §7)."""

from django.apps import apps
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from services.delivery.notifications import unread_count
from services.roles import Role, has_role, is_zone_wide, roles_of
from services.time.calendar import unconfirmed_next_year

# What each role's sidebar offers (docs/states-and-roles.md), as model labels; administrators are offered everything
# (the audit log, 审计日志, is theirs alone: no other role's menu names it, and only their group may view it). A list
# not offered to a role is not opened by it either (WorkbenchPages.changelist_view); one of its objects may
# still be opened from another page by whoever may see it (an enterprise from its case, say).
CASE_WORK = {"tracker.case", "tracker.task"}
REGISTER = {"tracker.enterprise", "tracker.project", "tracker.visit"}
ROLE_MENUS: dict[str, set[str]] = {
    # cases of their enterprises, the tasks they gave, verdicts they record by phone, their firms and visits
    Role.CONCIERGE: CASE_WORK | REGISTER | {"tracker.feedback"},
    # the tasks given to their unit, the cases behind them, the extensions they asked for
    Role.TASK_FORCE_MEMBER: CASE_WORK | {"tracker.extension"},
    Role.DEPARTMENT_OFFICER: CASE_WORK | {"tracker.extension"},
    # everything in scope they supervise, and who works here
    Role.LEADER: CASE_WORK
    | REGISTER
    | {"tracker.extension", "tracker.feedback", "tracker.user", "tracker.referencechange"},
}
# The sidebar's order: the day's work first, then the register, the records, reference data, integrations.
MENU_ORDER = [
    "tracker.case",
    "tracker.task",
    "tracker.extension",
    "tracker.feedback",
    "tracker.visit",
    "tracker.enterprise",
    "tracker.project",
    "tracker.caseevent",
    "tracker.attachment",
    "tracker.category",
    "tracker.department",
    "tracker.taskforce",
    "tracker.tier",
    "tracker.holidayoverride",
    "tracker.holidayyear",
    "tracker.referencechange",
    "tracker.user",
    "tracker.auditentry",
]


def home_url(user) -> str | None:
    """Where `user`'s work is: concierges their cases, task units their tasks, leaders the dashboard."""
    if has_role(user, Role.CONCIERGE):
        return reverse("admin:tracker_case_changelist") + "?queue=mine&state=open"
    if has_role(user, Role.TASK_FORCE_MEMBER, Role.DEPARTMENT_OFFICER):
        return reverse("admin:tracker_task_changelist") + "?queue=mine&state=open"
    if is_zone_wide(user) and not has_role(user, Role.ADMINISTRATOR):
        return reverse("admin:dashboard")
    return None


def _menu_rank(model, name: str) -> tuple:
    label = model._meta.label_lower
    return (MENU_ORDER.index(label), "") if label in MENU_ORDER else (len(MENU_ORDER), str(name))


class WorkbenchSite(admin.AdminSite):
    site_header = _("保姆式挂钩服务 · 工作台")
    site_title = _("保姆式挂钩服务")
    index_title = _("工作台")
    site_url = None  # Django's "查看站点" would take staff to the enterprises' portal

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every admin gets the workbench's pages (titles, menu-scoped lists, no history page), also those of
        other apps and any added later without anyone remembering to."""
        from tracker.admin.base import WorkbenchPages

        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, WorkbenchPages):
            attrs = {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__}
            admin_class = type(admin_class.__name__, (WorkbenchPages, admin_class), attrs)
        super().register(model_or_iterable, admin_class, **options)

    def offers(self, request, model) -> bool:
        """Whether `request.user`'s menu offers the list of `model`."""
        roles = roles_of(request.user)
        if Role.ADMINISTRATOR in roles:
            return True
        label = model._meta.label_lower
        return any(label in ROLE_MENUS.get(role, ()) for role in roles)

    def get_app_list(self, request, app_label=None):
        """The sidebar: only what the person's role uses, the day's work first."""
        offered = []
        for app in super().get_app_list(request, app_label):
            app["models"] = [entry for entry in app["models"] if self.offers(request, entry["model"])]
            app["models"].sort(key=lambda entry: _menu_rank(entry["model"], entry["name"]))
            if app["models"]:
                offered.append(app)
        offered.sort(key=lambda app: app["app_label"] != "tracker")  # stable: the others keep Django's order
        return offered

    def index(self, request, extra_context=None):
        """Send people to their queue; `?all=1` shows the plain list of everything they may open."""
        target = None if "all" in request.GET else home_url(request.user)
        if target:
            return redirect(target)
        return super().index(request, extra_context)

    def app_index(self, request, app_label, extra_context=None):
        """An app's page titled by its name, not Django's "… 管理"."""
        title = apps.get_app_config(app_label).verbose_name
        return super().app_index(request, app_label, {"title": title, **(extra_context or {})})

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
                links.append((_("我的诉求"), reverse("admin:tracker_case_changelist") + "?queue=mine&state=open"))
            if has_role(user, Role.TASK_FORCE_MEMBER, Role.DEPARTMENT_OFFICER) or is_zone_wide(user):
                links.append((_("我的事项"), reverse("admin:tracker_task_changelist") + "?queue=mine&state=open"))
            if is_zone_wide(user):
                links.append(
                    (_("待审批延期"), reverse("admin:tracker_extension_changelist") + "?status__exact=pending")
                )
            links.append((_("统计看板"), reverse("admin:dashboard")))
            context["workbench_links"] = links
            context["inbox_unread"] = lambda: unread_count(user)
            if has_role(user, Role.ADMINISTRATOR, Role.LEADER):
                context["unconfirmed_holiday_year"] = lambda: unconfirmed_next_year(timezone.localdate())
                context["may_confirm_holidays"] = has_role(user, Role.ADMINISTRATOR)
        return context
