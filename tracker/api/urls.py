"""/api/v1/ endpoints, the OpenAPI schema at /api/schema/ and interactive docs at /api/docs/."""

from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from tracker.api.errors import not_found
from tracker.api.views import cases, misc, register, tasks

app_name = "api"

router = SimpleRouter()
router.lookup_value_regex = "[0-9]+"  # anything else is not an id: the JSON 404 below
router.register("enterprises", register.EnterpriseViewSet, basename="enterprise")
router.register("projects", register.ProjectViewSet, basename="project")
router.register("categories", register.CategoryViewSet, basename="category")
router.register("departments", register.DepartmentViewSet, basename="department")
router.register("task-forces", register.TaskForceViewSet, basename="task-force")
router.register("cases", cases.CaseViewSet, basename="case")
router.register(r"cases/(?P<case_pk>[0-9]+)/attachments", cases.CaseAttachmentViewSet, basename="case-attachment")
router.register("tasks", tasks.TaskViewSet, basename="task")
router.register("webhooks", misc.WebhookSubscriptionViewSet, basename="webhook")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/stats/", misc.StatsView.as_view(), name="stats"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as its own request (?script): the CSP allows no inline script.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    re_path(r"^", csrf_exempt(not_found)),  # any other address under /api/, newlines included
]
