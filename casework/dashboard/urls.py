"""The supervisor dashboard and the cooperative reports (no namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("reports/cooperatives/", views.report_cooperatives, name="report-cooperatives"),
    path("reports/cooperatives/<int:pk>/", views.report_cooperative, name="report-cooperative"),
    path(
        "reports/cooperatives/<int:pk>/export.csv",
        views.report_cooperative,
        {"export": True},
        name="report-cooperative-csv",
    ),
]
