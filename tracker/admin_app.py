"""The admin app with the workbench site (tracker.admin_site.WorkbenchSite) as `admin.site`."""

from django.contrib.admin.apps import AdminConfig


class WorkbenchAdminConfig(AdminConfig):
    default_site = "tracker.admin_site.WorkbenchSite"
