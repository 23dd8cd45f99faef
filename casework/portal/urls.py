"""The cooperative portal's pages (no namespace), and documents served after a permission check."""

from django.urls import path

from . import views

urlpatterns = [
    path("cases/", views.portal_cases, name="portal-cases"),
    path("cases/cooperative/", views.portal_switch_cooperative, name="portal-switch-cooperative"),
    path("cases/new/", views.portal_case_new, name="portal-case-new"),
    path("cases/<int:pk>/", views.portal_case, name="portal-case"),
    path("cases/<int:pk>/reply/", views.portal_case_reply, name="portal-case-reply"),
    path("cases/<int:pk>/confirm/", views.portal_case_confirm, name="portal-case-confirm"),
    path("cases/<int:pk>/reopen/", views.portal_case_reopen, name="portal-case-reopen"),
    path("cases/<int:pk>/rate/", views.portal_case_rate, name="portal-case-rate"),
    path("documents/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("timeline-order/", views.timeline_order, name="timeline-order"),
]
