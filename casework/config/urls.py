"""Sportello's URL map: pages, admin and the REST API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from casework import preferences
from casework.portal import views as portal

urlpatterns = [
    path("", portal.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("preferences/", preferences.preferences, name="preferences"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    # GET /health/ has no pattern here: casework.config.health.HealthCheckMiddleware answers it
    # before host validation and sessions (a proxy probes the backend by its address).
    # Nor GET /metrics: casework.config.metrics.MetricsMiddleware answers it, for the same reason
    # (Prometheus scrapes each web backend by its address).
    path("work/", include("workflows.workspace.urls")),
    path("", include("casework.portal.urls")),
    path("", include("casework.dashboard.urls")),
]

handler500 = "casework.config.errorpages.server_error"
