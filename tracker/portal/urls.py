from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from tracker.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page=reverse_lazy("portal:login")), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="portal/password_reset_done.html"),
        name="password_reset_done",
    ),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="portal/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("cases/new/", views.submit, name="submit"),
    path("cases/<str:number>/", views.case_detail, name="case"),
    path("cases/<str:number>/info/", views.add_info, name="add_info"),
    path("cases/<str:number>/withdraw/", views.withdraw, name="withdraw"),
    path("cases/<str:number>/confirm/", views.confirm, name="confirm"),
    path("cases/<str:number>/reopen/", views.reopen, name="reopen"),
    path("cases/<str:number>/files/<int:pk>/", views.download, name="download"),
    path("notifications/", views.notifications, name="notifications"),
    path("settings/", views.settings_view, name="settings"),
    path("notifications/read/", views.read_all, name="read_all"),
    path("notifications/<int:pk>/", views.open_notification, name="open_notification"),
]
