from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = _("保姆式挂钩服务")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tracker import checks  # noqa: F401  (registers the system checks)
