from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    # Enterprises are the many users who arrive at the bare address; staff have the workbench link on the login page.
    path("", RedirectView.as_view(url="/portal/", permanent=False)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("tracker.api.urls")),
    path("portal/", include("tracker.portal.urls")),
]

handler500 = "tracker.api.errors.server_error"
