"""Cases: the list, intake (idempotent) and every role's actions, each one call to the process."""

from __future__ import annotations

from django.db.models import Case as Choose
from django.db.models import IntegerField, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from casework.audit import case_read_recorded
from casework.errors import ForbiddenError
from casework.models import PRIORITY_RANK, Case, CaseAccess, CaseParticipant, OutcomeCode
from casework.roles import roles_of
from casework.selectors import CASE_RELATED, case_list_for, person_named, with_read_state
from casework.services import mark_read
from workflows import process

from .. import serializers as s
from ..filters import CaseFilter
from ..idempotency import open_once
from ..schema import error_responses

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "Any unique string (e.g. a UUID) chosen by the client. A retry with the same key and "
        "the same body returns the case the first request opened (200 instead of 201); the same "
        "key with a different body is refused with 409."
    ),
)
ACTION_ERRORS = error_responses(400, 403, 404, 409)


def case_action(summary, request=None, *, who, url_path: str | None = None):
    """A POST on one case: input validated, one process call, the case as it is afterwards."""

    def decorate(method):
        method = action(detail=True, methods=["post"], url_path=url_path)(method)
        return extend_schema(
            summary=summary,
            description=who,
            request=request,
            responses={200: s.CaseSerializer, **ACTION_ERRORS},
            tags=["case actions"],
        )(method)

    return decorate


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("Cases I may see"),
        responses={200: s.CaseSerializer(many=True), **error_responses(400, 404)},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("One case"),
        description=gettext_lazy(
            "Reading a case is opening it: this GET marks the case read for the reader (its one "
            "write, an upsert of their read row), so it answers `unread: false` and the case "
            "leaves `?unread=true` until someone else writes or changes its status."
        ),
        responses={200: s.CaseSerializer, **error_responses(404)},
    ),
    create=extend_schema(
        summary=gettext_lazy("Open a case (cooperative members, or staff for a cooperative)"),
        description=gettext_lazy(
            "A member opens a case for one of their cooperatives (else 400 on `cooperative`), "
            "which they may leave out when they belong to one only; its channel is `api`. A "
            "consultant or supervisor of the area opens one on a cooperative's behalf with "
            "`cooperative`, `requester` (a member of it: else 400) and `channel` (`phone`, "
            "`desk`, `email` or `pec`); staff of another area get 403, and so does a member "
            "naming someone else. Users who are neither members nor staff get 403."
        ),
        request=s.CaseCreateSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: s.CaseSerializer,
            200: s.CaseSerializer,
            **error_responses(400, 403, 409),
        },
    ),
)
class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cases visible to the user: their cooperatives' as members, their areas' as staff."""

    serializer_class = s.CaseSerializer
    lookup_value_regex = "[^/]+"
    filterset_class = CaseFilter
    ordering_fields = [
        "created_at",
        "updated_at",
        "priority_rank",
        "first_response_due_at",
        "resolution_due_at",
        "reference",
        "last_activity_at",
        "id",
    ]

    @property
    def ordering(self) -> list[str]:
        """Newest first; a search (`?q=`) best match first. An `ordering` given wins over both."""
        request = getattr(self, "request", None)
        if request is not None and request.query_params.get("q", "").strip():
            return ["-search_rank", "-created_at", "-id"]
        return ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        return case_list_for(self.request.user).annotate(
            priority_rank=Choose(
                *(When(priority=code, then=Value(rank)) for code, rank in PRIORITY_RANK.items()),
                output_field=IntegerField(),
            ),
        )

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        case_read_recorded(user=request.user, case=case, channel=CaseAccess.Channel.API)
        mark_read(case=case, user=request.user)
        case.unread = False  # the list's annotation was read before this write
        return Response(self.get_serializer(case).data)

    def _case_response(self, pk: int, *, status_code=status.HTTP_200_OK) -> Response:
        case = self.get_queryset().filter(pk=pk).first()
        if case is None:
            # The action moved the case out of the user's sight (e.g. handed back): they did it,
            # so they get its state once more.
            case = with_read_state(
                Case.objects.select_related(*CASE_RELATED), self.request.user
            ).get(pk=pk)
        return Response(self.get_serializer(case).data, status=status_code)

    def _input(self, serializer_class) -> serializers.Serializer:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer

    # --- Intake ----------------------------------------------------------------------------

    def create(self, request, *args, **kwargs):
        roles = roles_of(request.user)
        if not (roles.is_member or roles.is_staff_role):
            raise ForbiddenError(
                _("Only members of a cooperative, or the federation's staff, can open cases.")
            )
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 200:
            raise serializers.ValidationError({"Idempotency-Key": [_("At most 200 characters.")]})
        intake = self._input(s.CaseCreateSerializer)

        def open_case() -> Case:
            fields = intake.validated_data
            return process.case_open(
                requester=fields["requester"],
                opened_by=request.user,
                channel=fields["channel"],
                cooperative=fields["cooperative"],
                area=fields["area"],
                subject=fields["subject"],
                description=fields["description"],
                specialty=fields["specialty"],
                priority=fields.get("priority"),
                confidential=fields.get("confidential", False),
            )

        if key:
            case, created = open_once(
                user=request.user, key=key, fingerprint=intake.fingerprint(), open_case=open_case
            )
        else:
            case, created = open_case(), True
        if not created:
            return self._case_response(case.pk)
        # The new case, as intake left it, already holds what its page shows: no second read.
        # Whoever opened it has read it, and nobody follows it yet.
        case.unread = False
        case._prefetched_objects_cache = {
            **getattr(case, "_prefetched_objects_cache", {}),
            "participant_links": CaseParticipant.objects.none(),
        }
        return Response(self.get_serializer(case).data, status=status.HTTP_201_CREATED)

    # --- The consultant's work -------------------------------------------------------------

    @case_action(
        gettext_lazy("Acknowledge: the first response"),
        s.AcknowledgeSerializer,
        who=gettext_lazy(
            "The assigned consultant (or a supervisor of the area). A public reply that stops "
            "the first-response clock."
        ),
    )
    def acknowledge(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.AcknowledgeSerializer).validated_data
        process.case_acknowledge(case=case, actor=request.user, body=data.get("body", ""))
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Ask the cooperative for information (the SLA pauses)"),
        s.RequestInfoSerializer,
        who=gettext_lazy(
            "The assigned consultant. The case waits on the cooperative and its SLA clocks stop "
            "until a member answers (`provide-info`, or any message of theirs)."
        ),
        url_path="request-info",
    )
    def request_info(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.RequestInfoSerializer).validated_data
        process.case_request_info(case=case, actor=request.user, question=data["question"])
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Resolve with an outcome"),
        s.ResolveSerializer,
        who=gettext_lazy(
            "The assigned consultant. `outcome` is a code of the case's area (see `/areas/`); the "
            "cooperative then confirms or reopens."
        ),
    )
    def resolve(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.ResolveSerializer).validated_data
        # An unknown code becomes None: the service refuses it, after checking who acts.
        outcome = OutcomeCode.objects.filter(
            area_id=case.area_id, code=data["outcome"], is_active=True
        ).first()
        process.case_resolve(
            case=case,
            actor=request.user,
            outcome=outcome,
            summary=data["summary"],
            minutes_spent=data["minutes_spent"],
        )
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Record time spent"),
        s.RecordTimeSerializer,
        who=gettext_lazy(
            "Staff of the case's area, or its assignee: one time entry of today (see "
            "`/cases/{id}/time-entries/` for another day, or time that is not billable)."
        ),
        url_path="record-time",
    )
    def record_time(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.RecordTimeSerializer).validated_data
        process.case_record_time(
            case=case, actor=request.user, minutes=data["minutes"], note=data["note"]
        )
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Hand the case back to a supervisor"),
        s.HandBackSerializer,
        who=gettext_lazy("The assigned consultant; a supervisor then assigns the case again."),
        url_path="hand-back",
    )
    def hand_back(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.HandBackSerializer).validated_data
        process.case_hand_back(case=case, actor=request.user, reason=data["reason"])
        return self._case_response(case.pk)

    # --- The cooperative's answers ---------------------------------------------------------

    @case_action(
        gettext_lazy("Confirm the resolution"),
        None,
        who=gettext_lazy("A member of the case's cooperative, while the case is resolved."),
    )
    def confirm(self, request, pk=None):
        case = self.get_object()
        process.case_confirm(case=case, actor=request.user)
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Reopen a resolved case"),
        s.ReasonSerializer,
        who=gettext_lazy(
            "A member of the case's cooperative, within the confirmation window; the case goes "
            "back to the same consultant."
        ),
    )
    def reopen(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.ReasonSerializer).validated_data
        process.case_reopen(case=case, actor=request.user, reason=data["reason"])
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Rate a closed case"),
        s.RateSerializer,
        who=gettext_lazy("A member of the case's cooperative, once the case is closed; once."),
    )
    def rate(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.RateSerializer).validated_data
        process.case_rate(
            case=case, actor=request.user, score=data["score"], comment=data["comment"]
        )
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Answer a request for information"),
        s.BodySerializer,
        who=gettext_lazy(
            "A member of the case's cooperative, while the case waits for information."
        ),
        url_path="provide-info",
    )
    def provide_info(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.BodySerializer).validated_data
        process.case_provide_info(case=case, actor=request.user, body=data["body"])
        return self._case_response(case.pk)

    # --- Who sees and follows the case -----------------------------------------------------

    @case_action(
        gettext_lazy("Mark the case confidential, or not"),
        s.ConfidentialSerializer,
        who=gettext_lazy(
            "Staff of the case's area, or a legal representative of its cooperative. A "
            "confidential case is seen only by its requester, the cooperative's legal "
            "representatives, its participants and staff of its area; the others stop getting "
            "its e-mails."
        ),
    )
    def confidential(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.ConfidentialSerializer).validated_data
        process.case_set_confidential(
            case=case, actor=request.user, confidential=data["confidential"]
        )
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Add a participant"),
        s.ParticipantInputSerializer,
        who=gettext_lazy(
            "The requester, a legal representative or referent of the cooperative who sees the "
            "case, or staff of its area. `user` is a person with an active membership of the "
            "case's cooperative (else 400): they then see the case and get its messages."
        ),
    )
    def participants(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.ParticipantInputSerializer).validated_data
        person = person_named(data["user"])
        process.case_add_participant(case=case, actor=request.user, person=person)
        return self._case_response(case.pk)

    @extend_schema(
        summary=gettext_lazy("Remove a participant"),
        description=gettext_lazy(
            "Who may add participants may remove them; 404 for someone who does not follow "
            "the case. Answers the case as it is afterwards."
        ),
        request=None,
        responses={200: s.CaseSerializer, **ACTION_ERRORS},
        tags=["case actions"],
    )
    @action(detail=True, methods=["delete"], url_path=r"participants/(?P<user_id>[0-9]+)")
    def remove_participant(self, request, pk=None, user_id=None):
        case = self.get_object()
        person = person_named(user_id)
        process.case_remove_participant(case=case, actor=request.user, person=person)
        return self._case_response(case.pk)

    # --- Supervision -----------------------------------------------------------------------

    @case_action(
        gettext_lazy("Triage: area, specialty and priority"),
        s.TriageSerializer,
        who=gettext_lazy(
            "A supervisor of the case's area (and of the new area, if it changes), while the "
            "case is in triage."
        ),
    )
    def triage(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.TriageSerializer)
        area = data.validated_data.get("area") or case.area
        process.case_triage(
            case=case,
            actor=request.user,
            area=area,
            specialty=data.resolve_specialty(area),
            priority=data.validated_data["priority"],
        )
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Reject a case in triage"),
        s.RejectSerializer,
        who=gettext_lazy("A supervisor of the area. The explanation is sent to the cooperative."),
    )
    def reject(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.RejectSerializer).validated_data
        process.case_reject(
            case=case, actor=request.user, reason=data["reason"], explanation=data["explanation"]
        )
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Assign (or reassign) to a consultant"),
        s.AssignSerializer,
        who=gettext_lazy("A supervisor of the area; the consultant must work in the case's area."),
    )
    def assign(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.AssignSerializer).validated_data
        process.case_assign(case=case, actor=request.user, consultant=data["consultant"])
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Change the priority"),
        s.PrioritySerializer,
        who=gettext_lazy("A supervisor of the area; the SLA due times are recomputed."),
    )
    def priority(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.PrioritySerializer).validated_data
        process.case_change_priority(case=case, actor=request.user, priority=data["priority"])
        return self._case_response(case.pk)

    @case_action(
        gettext_lazy("Cancel the case"),
        s.ReasonSerializer,
        who=gettext_lazy("A supervisor of the area, while the case is open."),
    )
    def cancel(self, request, pk=None):
        case = self.get_object()
        data = self._input(s.ReasonSerializer).validated_data
        process.case_cancel(case=case, actor=request.user, reason=data["reason"])
        return self._case_response(case.pk)
