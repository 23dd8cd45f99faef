"""Hours: a case's time entries (staff), its estimates, their answers, a cooperative's plan usage.

Time entries are the federation's own business: only staff of the case list or write them (the
people of the cooperative get a 404, as for anything they may not see; they read the plan's
totals instead). Estimates are read by whoever sees the case, proposed by its consultant and
answered by the cooperative (`/estimates/{id}/accept/`, `/decline/`); each write is one call to
`workflows.process`, which answers 403 for a role that may not act, 400 for bad input and 409
for a state that does not allow it.
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from casework import hours, limits
from casework.models import Estimate, TimeEntry
from casework.policy import Action, may_act
from casework.reports import cooperatives_for_report
from casework.roles import roles_of
from casework.selectors import can_read_internal, cases_visible_to
from workflows import process

from ..schema import error_responses
from ..serializers import UserBriefSerializer
from .case_children import CaseChildMixin

# --- Shapes ------------------------------------------------------------------------------------


class TimeEntrySerializer(serializers.ModelSerializer):
    consultant = UserBriefSerializer(read_only=True, allow_null=True)
    estimate = serializers.IntegerField(
        source="estimate_id",
        read_only=True,
        allow_null=True,
        help_text=_("The accepted estimate this time beyond the plan is recorded against."),
    )
    beyond_plan = serializers.SerializerMethodField()

    class Meta:
        model = TimeEntry
        fields = [
            "id",
            "case",
            "consultant",
            "day",
            "minutes",
            "note",
            "billable",
            "estimate",
            "beyond_plan",
            "created_at",
        ]
        read_only_fields = fields

    def get_beyond_plan(self, entry) -> bool:
        return entry.estimate_id is not None


class TimeEntryCreateSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=1, max_value=limits.ENTRY_MINUTES)
    day = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("The day the time was spent (YYYY-MM-DD): today if left out."),
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=limits.ENTRY_NOTE, default=""
    )
    billable = serializers.BooleanField(required=False, default=True)


class TimeEntryChangeSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(required=False, min_value=1, max_value=limits.ENTRY_MINUTES)
    note = serializers.CharField(required=False, allow_blank=True, max_length=limits.ENTRY_NOTE)
    billable = serializers.BooleanField(required=False)


class EstimateSerializer(serializers.ModelSerializer):
    case_reference = serializers.CharField(source="case.reference", read_only=True)
    proposed_by = UserBriefSerializer(read_only=True)
    answered_by = UserBriefSerializer(read_only=True, allow_null=True)
    used_minutes = serializers.SerializerMethodField(
        help_text=_("The time beyond the plan recorded against it so far (staff only; else null).")
    )
    answerable = serializers.SerializerMethodField(
        help_text=_("Whether the reader may accept or decline it now.")
    )

    class Meta:
        model = Estimate
        fields = [
            "id",
            "case",
            "case_reference",
            "minutes",
            "note",
            "status",
            "proposed_by",
            "proposed_at",
            "answered_by",
            "answered_at",
            "answer_note",
            "used_minutes",
            "answerable",
        ]
        read_only_fields = fields

    def _roles(self):
        request = self.context.get("request")
        return roles_of(request.user if request is not None else None)

    def get_used_minutes(self, estimate) -> int | None:
        if not self._roles().is_staff_role:
            return None
        return sum(e.minutes for e in estimate.entries.all() if e.billable)

    def get_answerable(self, estimate) -> bool:
        return estimate.status == Estimate.Status.PENDING and may_act(
            Action.ACCEPT_ESTIMATE, estimate.case, self._roles()
        )


class EstimateCreateSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=limits.ESTIMATE_MINUTES,
        help_text=_("The time beyond the plan, in minutes (or give `hours`)."),
    )
    hours = serializers.DecimalField(
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=limits.ESTIMATE_MINUTES // 60,
        help_text=_("The time beyond the plan, in hours (or give `minutes`)."),
    )
    note = serializers.CharField(max_length=limits.REASON, help_text=_("What the hours are for."))

    def validate(self, data):
        given = [name for name in ("minutes", "hours") if data.get(name) is not None]
        if len(given) != 1:
            raise serializers.ValidationError(_("Give either `minutes` or `hours`, not both."))
        if "hours" in given:
            minutes = int(data.pop("hours") * 60)
            if minutes < 1:
                raise serializers.ValidationError({"hours": [_("At least one minute.")]})
            data["minutes"] = minutes
        return data


class EstimateAnswerSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=limits.REASON, default=""
    )


class AreaUsageSerializer(serializers.Serializer):
    area = serializers.CharField(source="area.code")
    name = serializers.CharField(source="area.name")
    included_minutes = serializers.IntegerField(
        source="included",
        allow_null=True,
        help_text=_("The area's own hours; null when it draws on the plan's total."),
    )
    used_minutes = serializers.IntegerField(source="used")
    beyond_plan_minutes = serializers.IntegerField(source="beyond")


class PlanSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    year = serializers.IntegerField()
    effective_from = serializers.DateField()
    effective_until = serializers.DateField()
    hours_included = serializers.DecimalField(
        max_digits=7, decimal_places=2, allow_null=True, coerce_to_string=False
    )


class PlanUsageSerializer(serializers.Serializer):
    cooperative = serializers.SerializerMethodField()
    year = serializers.IntegerField()
    plan = PlanSerializer(allow_null=True)
    included_minutes = serializers.IntegerField(source="included")
    used_minutes = serializers.IntegerField(
        source="used", help_text=_("Within the plan: what it includes and has been used.")
    )
    remaining_minutes = serializers.IntegerField(source="remaining")
    beyond_plan_minutes = serializers.IntegerField(
        source="beyond", help_text=_("Recorded against estimates the cooperative accepted.")
    )
    shared_included_minutes = serializers.IntegerField(
        source="shared_included",
        help_text=_("The plan's total, for the areas without hours of their own."),
    )
    shared_used_minutes = serializers.IntegerField(source="shared_used")
    areas = AreaUsageSerializer(many=True)
    text = serializers.SerializerMethodField(
        help_text=_('In words, in the request\'s language: "hours used 7 of 10 in 2026".')
    )

    def get_cooperative(self, usage) -> dict:
        return {"id": usage.cooperative.pk, "name": usage.cooperative.name}

    def get_text(self, usage) -> str:
        return hours.usage_words(usage)


class YearSerializer(serializers.Serializer):
    year = serializers.IntegerField(
        required=False, min_value=2000, max_value=2100, help_text=_("This year if left out.")
    )


# --- A case's time entries -------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Time entries of a case (staff)"),
        responses={200: TimeEntrySerializer(many=True), **error_responses(404)},
        tags=["hours"],
    ),
    create=extend_schema(
        summary=_("Record time spent on a case"),
        description=_(
            "Staff of the case. The minutes (1–1440) of a day from the case's opening to today; "
            "time beyond what the cooperative's plan has left is recorded against an estimate "
            "the cooperative accepted (an entry may be split in two), and refused without one "
            "(400, `estimate_needed`). Returns the entries written."
        ),
        request=TimeEntryCreateSerializer,
        responses={201: TimeEntrySerializer(many=True), **error_responses(400, 403, 404, 409)},
        tags=["hours"],
    ),
    partial_update=extend_schema(
        summary=_("Correct a time entry"),
        description=_(
            "Its author on the day it was recorded, or a supervisor of the area; the case's "
            "total follows."
        ),
        request=TimeEntryChangeSerializer,
        responses={200: TimeEntrySerializer, **error_responses(400, 403, 404, 409)},
        tags=["hours"],
    ),
    destroy=extend_schema(
        summary=_("Delete a time entry"),
        description=_("Its author on the day it was recorded, or a supervisor of the area."),
        responses={204: None, **error_responses(403, 404, 409)},
        tags=["hours"],
    ),
)
class TimeEntryViewSet(
    CaseChildMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TimeEntrySerializer
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @property
    def pagination_class(self):
        # A recording answers with the one or two entries it wrote, never a page of them (the
        # schema generator reads this too, per action).
        if getattr(self, "action", None) == "create":
            return None
        return api_settings.DEFAULT_PAGINATION_CLASS

    def get_case(self):
        case = super().get_case()
        if not can_read_internal(self.request.user, case):
            # The cooperative reads its plan's totals, not the federation's time sheets.
            raise Http404
        return case

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TimeEntry.objects.none()
        return hours.entries_of(self.get_case())

    def create(self, request, *args, **kwargs):
        case = self.get_case()
        data = TimeEntryCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entries = process.case_record_time(case=case, actor=request.user, **data.validated_data)
        written = self.get_queryset().filter(pk__in=[entry.pk for entry in entries])
        return Response(
            self.get_serializer(written, many=True).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request, *args, **kwargs):
        entry = self.get_object()
        data = TimeEntryChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        process.time_entry_change(
            case=self.get_case(), entry=entry, actor=request.user, **data.validated_data
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=entry.pk)).data)

    def destroy(self, request, *args, **kwargs):
        entry = self.get_object()
        process.time_entry_delete(case=self.get_case(), entry=entry, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Estimates -----------------------------------------------------------------------------------


def _estimates(queryset):
    return queryset.select_related(
        "case__cooperative", "case__area", "proposed_by", "answered_by"
    ).prefetch_related("entries")


@extend_schema_view(
    list=extend_schema(
        summary=_("Estimates of a case"),
        description=_("Whoever sees the case: its staff and the people of its cooperative."),
        responses={200: EstimateSerializer(many=True), **error_responses(404)},
        tags=["hours"],
    ),
    create=extend_schema(
        summary=_("Propose an estimate of work beyond the plan"),
        description=_(
            "The assigned consultant (or a supervisor of the area), while the case is being "
            "worked on. The case then waits on the cooperative with its SLA paused until the "
            "requester, or its legal representative or referent, accepts or declines. A "
            "cooperative without a service plan in force is refused (400, `no_plan`)."
        ),
        request=EstimateCreateSerializer,
        responses={201: EstimateSerializer, **error_responses(400, 403, 404, 409)},
        tags=["hours"],
    ),
)
class CaseEstimateViewSet(
    CaseChildMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = EstimateSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Estimate.objects.none()
        return _estimates(hours.estimates_of(self.get_case()))

    def create(self, request, *args, **kwargs):
        case = self.get_case()
        data = EstimateCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        estimate = process.case_propose_estimate(
            case=case,
            actor=request.user,
            minutes=data.validated_data["minutes"],
            note=data.validated_data["note"],
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=estimate.pk)).data,
            status=status.HTTP_201_CREATED,
        )


def _answer_schema(summary, description):
    return extend_schema(
        summary=summary,
        description=description,
        request=EstimateAnswerSerializer,
        responses={200: EstimateSerializer, **error_responses(400, 403, 404, 409)},
        tags=["hours"],
    )


@extend_schema_view(
    retrieve=extend_schema(
        summary=_("One estimate"),
        responses={200: EstimateSerializer, **error_responses(404)},
        tags=["hours"],
    ),
)
class EstimateViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Estimates of the cases the user may see (404 for any other)."""

    serializer_class = EstimateSerializer
    lookup_value_regex = "[^/]+"
    filter_backends = ()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Estimate.objects.none()
        return _estimates(
            Estimate.objects.filter(case__in=cases_visible_to(self.request.user).values("pk"))
        )

    def _answered(self, request, accepted: bool) -> Response:
        estimate = self.get_object()
        data = EstimateAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = process.case_accept_estimate if accepted else process.case_decline_estimate
        answer(estimate=estimate, actor=request.user, note=data.validated_data["note"])
        return Response(self.get_serializer(self.get_queryset().get(pk=estimate.pk)).data)

    @_answer_schema(
        _("Accept an estimate"),
        _(
            "The case's requester, or a legal representative or referent of its cooperative who "
            "sees it. The time may then be worked beyond the plan; the case goes back to its "
            "consultant and the SLA resumes."
        ),
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._answered(request, accepted=True)

    @_answer_schema(
        _("Decline an estimate"),
        _(
            "The same people as for accepting. No time beyond the plan may be recorded under it; "
            "the case goes back to its consultant and the SLA resumes."
        ),
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._answered(request, accepted=False)


# --- A cooperative's plan ------------------------------------------------------------------------


class CooperativeHoursView(generics.GenericAPIView):
    """A cooperative's service plan of a year and what its cases used of it."""

    serializer_class = PlanUsageSerializer
    filter_backends = ()
    pagination_class = None

    def get_queryset(self):
        return cooperatives_for_report(self.request.user)

    @extend_schema(
        summary=_("Hours used of a cooperative's service plan"),
        description=_(
            "For staff, and for the cooperative's legal representatives and referents (others: "
            "404). Minutes included, used within the plan and beyond it under accepted "
            "estimates, in total and per area; `plan` is null when the cooperative has none that "
            "year."
        ),
        parameters=[YearSerializer],
        responses={200: PlanUsageSerializer, **error_responses(400, 404)},
        tags=["hours"],
    )
    def get(self, request, pk=None):
        cooperative = self.get_object()
        query = YearSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or timezone.localdate().year
        return Response(PlanUsageSerializer(hours.plan_usage(cooperative, year)).data)
