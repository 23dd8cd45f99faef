"""The cooperative portal's pages (no namespace), and documents served after a permission check."""

from django.urls import path

from casework.accounts import people

from . import sharing, views

urlpatterns = [
    path("cases/", views.portal_cases, name="portal-cases"),
    path("cases/cooperative/", views.portal_switch_cooperative, name="portal-switch-cooperative"),
    path("cases/new/", views.portal_case_new, name="portal-case-new"),
    path("cases/<int:pk>/", views.portal_case, name="portal-case"),
    path("cases/<int:pk>/reply/", views.portal_case_reply, name="portal-case-reply"),
    path("cases/<int:pk>/confirm/", views.portal_case_confirm, name="portal-case-confirm"),
    path("cases/<int:pk>/reopen/", views.portal_case_reopen, name="portal-case-reopen"),
    path("cases/<int:pk>/rate/", views.portal_case_rate, name="portal-case-rate"),
    path(
        "cases/<int:pk>/estimates/<int:estimate_id>/accept/",
        views.portal_estimate_accept,
        name="portal-estimate-accept",
    ),
    path(
        "cases/<int:pk>/estimates/<int:estimate_id>/decline/",
        views.portal_estimate_decline,
        name="portal-estimate-decline",
    ),
    path(
        "cases/<int:pk>/confidential/",
        sharing.portal_case_confidential,
        name="portal-case-confidential",
    ),
    path(
        "cases/<int:pk>/participants/",
        sharing.portal_case_participant_add,
        name="portal-case-participant-add",
    ),
    path(
        "cases/<int:pk>/participants/<int:user_id>/remove/",
        sharing.portal_case_participant_remove,
        name="portal-case-participant-remove",
    ),
    # A cooperative's people for its legal representatives and referents (casework.accounts).
    *people.portal_urlpatterns(),
    path("documents/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("timeline-order/", views.timeline_order, name="timeline-order"),
]
