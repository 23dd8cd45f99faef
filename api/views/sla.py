"""SLA watch for the federation's staff, and the report on one cooperative."""

from __future__ import annotations

from django.db.models import F
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import reports
from casework.models import Case, Cooperative
from casework.models.cases import due_that_matters
from casework.selectors import (
    cases_visible_to,
    staff_cases_of,
    with_list_relations,
    with_read_state,
    with_staff_counts,
)

from ..filters import SlaCaseFilter
from ..permissions import IsFederationStaff
from ..schema import error_responses
from ..serializers import (
    CaseSerializer,
    CooperativeReportSerializer,
    ReportQuerySerializer,
    SlaSummarySerializer,
)


class SlaSummaryView(APIView):
    """Open cases of my areas by SLA state, by area and by territorial office."""

    permission_classes = (IsAuthenticated, IsFederationStaff)

    @extend_schema(
        operation_id="sla_summary_retrieve",
        summary=gettext_lazy("SLA counts of open cases"),
        responses={200: SlaSummarySerializer, **error_responses(403)},
        tags=["sla"],
    )
    def get(self, request):
        return Response(
            SlaSummarySerializer(reports.sla_summary(staff_cases_of(request.user))).data
        )


@extend_schema(
    summary=gettext_lazy("Open cases in an SLA state, the most urgent first"),
    responses={200: CaseSerializer(many=True), **error_responses(400, 403, 404)},
    tags=["sla"],
)
class SlaCaseListView(generics.ListAPIView):
    """Open cases of my areas, the due instant that matters first (`due_that_matters`)."""

    permission_classes = (IsAuthenticated, IsFederationStaff)
    serializer_class = CaseSerializer
    filterset_class = SlaCaseFilter

    # The order is the point of this list: filters, but no client ordering.
    filter_backends = (DjangoFilterBackend,)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        cases = with_read_state(
            with_list_relations(staff_cases_of(self.request.user).open()), self.request.user
        )
        return (
            with_staff_counts(cases)
            .annotate(next_due_at=due_that_matters())
            .order_by(F("next_due_at").asc(nulls_last=True), "id")
        )


class CooperativeReportView(generics.GenericAPIView):
    """Figures on one cooperative's cases, over the cases the user may see."""

    serializer_class = CooperativeReportSerializer
    filter_backends = ()
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Cooperative.objects.none()
        return reports.cooperatives_for_report(self.request.user)

    @extend_schema(
        operation_id="reports_cooperative_retrieve",
        summary=gettext_lazy("Report on a cooperative"),
        description=gettext_lazy(
            "Cases by area and outcome, SLA compliance, median business times, satisfaction and "
            "minutes of consulting, over the cases of the cooperative the user may see (staff: "
            "their areas; members: all of their cooperative's). Optional period on opening date."
        ),
        parameters=[ReportQuerySerializer],
        responses={200: CooperativeReportSerializer, **error_responses(400, 404)},
        tags=["reports"],
    )
    def get(self, request, pk=None):
        cooperative = self.get_object()
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since, until = query.validated_data.get("since"), query.validated_data.get("until")
        cases = reports.cases_opened_between(
            cases_visible_to(request.user).filter(cooperative=cooperative),
            since=since,
            until=until,
        )
        report = reports.cooperative_report(cooperative, cases=cases)
        return Response(
            CooperativeReportSerializer({**report, "since": since, "until": until}).data
        )
