"""REST API v1 routes (mounted at /api/v1/, namespace "api")."""

from django.http import JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from .views.accounts import MeView, TokenView
from .views.areas import AreaViewSet
from .views.case_children import AttachmentViewSet, EventViewSet, MessageViewSet
from .views.cases import CaseViewSet
from .views.deadlines import CaseDeadlineViewSet, DeadlineViewSet
from .views.hours import (
    CaseEstimateViewSet,
    CooperativeHoursView,
    EstimateViewSet,
    TimeEntryViewSet,
)
from .views.invitations import InvitationViewSet, MemberViewSet
from .views.sla import CooperativeReportView, SlaCaseListView, SlaSummaryView
from .views.tasks import TaskViewSet

app_name = "api"


def not_found(request, *args, **kwargs):
    """Any other path under the API: a JSON 404 like the rest (slashless paths still redirect)."""
    return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)


# Ids are matched loosely ("1.5", "abc") so that a malformed id is a JSON 404 from the view.
router = SimpleRouter()
router.register("areas", AreaViewSet, basename="area")
router.register("cases", CaseViewSet, basename="case")
router.register(r"cases/(?P<case_id>[^/]+)/messages", MessageViewSet, basename="case-message")
router.register(
    r"cases/(?P<case_id>[^/]+)/attachments", AttachmentViewSet, basename="case-attachment"
)
router.register(r"cases/(?P<case_id>[^/]+)/events", EventViewSet, basename="case-event")
router.register(
    r"cases/(?P<case_id>[^/]+)/deadlines", CaseDeadlineViewSet, basename="case-deadline"
)
router.register("deadlines", DeadlineViewSet, basename="deadline")
router.register(
    r"cases/(?P<case_id>[^/]+)/time-entries", TimeEntryViewSet, basename="case-time-entry"
)
router.register(
    r"cases/(?P<case_id>[^/]+)/estimates", CaseEstimateViewSet, basename="case-estimate"
)
router.register("estimates", EstimateViewSet, basename="estimate")
router.register("tasks", TaskViewSet, basename="task")
router.register(
    r"cooperatives/(?P<cooperative_id>[^/]+)/invitations",
    InvitationViewSet,
    basename="cooperative-invitation",
)
router.register(
    r"cooperatives/(?P<cooperative_id>[^/]+)/members", MemberViewSet, basename="cooperative-member"
)

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("me/", MeView.as_view(), name="me"),
    path("sla/summary/", SlaSummaryView.as_view(), name="sla-summary"),
    path("sla/cases/", SlaCaseListView.as_view(), name="sla-cases"),
    path(
        "reports/cooperatives/<pk>/",
        CooperativeReportView.as_view(),
        name="report-cooperative",
    ),
    path("cooperatives/<pk>/hours/", CooperativeHoursView.as_view(), name="cooperative-hours"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
    re_path(r"^.*/$", not_found),
]
