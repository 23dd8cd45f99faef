"""Sportello's URL map: pages, admin and the REST API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from casework import calendar_feed, preferences
from casework.portal import views as portal

urlpatterns = [
    path("", portal.home, name="home"),
    # The login page (password, then the second factor of staff) and the Two-factor page.
    path("", include("casework.twofactor.urls")),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("preferences/", preferences.preferences, name="preferences"),
    path("profile/", preferences.preferences, name="profile"),
    # Password reset and change, invitation links (casework.accounts).
    path("", include("casework.accounts.urls")),
    # Each person's deadlines as an iCalendar feed: its page, and the feed behind a secret.
    path("calendar/", calendar_feed.calendar_page, name="calendar"),
    re_path(
        r"^calendar/(?P<token>[A-Za-z0-9_-]{1,64})\.ics$",
        calendar_feed.calendar_feed,
        name="calendar-feed",
    ),
    # The header's language menu: Django's, and the signed-in person's profile language too.
    path("i18n/setlang/", preferences.set_language),
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
