"""Deadlines: those of a case (list, add) and the caller's (list, read, change, done, reopen).

Visibility is `selectors.deadlines_visible_to`: staff of a case see all its deadlines, the
people of its cooperative the shared ones; anything else is a 404. Each write is one call to
`casework.services.deadlines`, which answers 403 for a role that may not manage deadlines, 400
for bad input and 409 for a deadline in the wrong state.
"""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from casework import limits
from casework.models import Deadline, DeadlineKind
from casework.policy import is_staff_of
from casework.roles import roles_of
from casework.selectors import deadlines_visible_to
from casework.services import deadlines as services
from casework.validators import id_in, validate_id_digits

from ..schema import error_responses
from ..serializers import UserBriefSerializer
from .case_children import CaseChildMixin

User = get_user_model()
_RELATED = ("case", "area", "responsible")


# --- Shapes ------------------------------------------------------------------------------------


class DeadlineSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="case_id", read_only=True, allow_null=True)
    case_reference = serializers.SerializerMethodField()
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    responsible = UserBriefSerializer(read_only=True, allow_null=True)
    note = serializers.SerializerMethodField()

    class Meta:
        model = Deadline
        fields = [
            "id",
            "case",
            "case_reference",
            "cooperative",
            "area",
            "title",
            "kind",
            "trigger_date",
            "term_days",
            "term_months",
            "due_on",
            "status",
            "shared",
            "responsible",
            "note",
            "done_at",
            "missed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_case_reference(self, deadline) -> str | None:
        return deadline.case.reference if deadline.case_id else None

    @extend_schema_field(serializers.CharField())
    def get_note(self, deadline) -> str:
        """The note is the staff's: empty for the people of the cooperative."""
        request = self.context.get("request")
        roles = roles_of(request.user if request is not None else None)
        if deadline.case_id is None:
            return deadline.note if roles.is_staff_role else ""
        return deadline.note if is_staff_of(deadline.case, roles) else ""


class PersonField(serializers.CharField):
    """A person named by username or user id (the service checks they may be responsible)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 150)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip()
        # Checked here, on the text: the field's validators would see the person found.
        try:
            for validator in (MaxLengthValidator(self.max_length), validate_id_digits):
                validator(value)
        except DjangoValidationError as bad:
            raise serializers.ValidationError(bad.messages) from bad
        condition = Q(username=value)
        user_id = id_in(value)
        if user_id is not None:
            condition |= Q(pk=user_id)
        person = User.objects.filter(condition, is_active=True).first()
        if person is None:
            raise serializers.ValidationError(_("There is no active person with this name."))
        return person

    def run_validators(self, value):
        """Run on the text already, in `to_internal_value`."""


def _term_field(most: int, help_text):
    return serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=most, help_text=help_text
    )


class DeadlineWriteSerializer(serializers.Serializer):
    """A new deadline; every field of a PATCH is optional and only those given change."""

    title = serializers.CharField(max_length=services.TITLE_LENGTH)
    kind = serializers.ChoiceField(
        choices=DeadlineKind.choices,
        help_text=_(
            "`judicial` (calendar days, August suspended, moved off weekends and holidays), "
            "`judicial_labour` (the same without the suspension), `tax` (calendar days, moved), "
            "`business` (open days of the office of the case's cooperative) or `fixed`."
        ),
    )
    trigger_date = serializers.DateField(
        help_text=_(
            "The day the term runs from (not counted), 1900 to 9998; for a `fixed` deadline, "
            "its date."
        )
    )
    term_days = _term_field(services.MAX_TERM_DAYS, _("The term in days (or `term_months`)."))
    term_months = _term_field(
        services.MAX_TERM_MONTHS, _("The term in months, by the calendar (not for business).")
    )
    responsible = PersonField(
        required=False,
        help_text=_(
            "Username or user id of a consultant or supervisor of the case; the case's "
            "assignee if left out."
        ),
    )
    shared = serializers.BooleanField(
        required=False, default=False, help_text=_("The cooperative sees it and is reminded.")
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=limits.SHORT_NOTE,
        help_text=_("For the federation's staff only."),
    )


class DeadlineFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Deadline.Status.choices, help_text=_("open, done or missed.")
    )
    due_before = django_filters.DateFilter(
        field_name="due_on",
        lookup_expr="lte",
        help_text=_("Only the deadlines due on or before this date (YYYY-MM-DD)."),
    )
    due_after = django_filters.DateFilter(
        field_name="due_on",
        lookup_expr="gte",
        help_text=_("Only the deadlines due on or after this date (YYYY-MM-DD)."),
    )

    class Meta:
        model = Deadline
        fields = ["status", "due_before", "due_after"]


# --- A case's deadlines --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Deadlines of a case"),
        description=_(
            "Every deadline for the case's staff; the shared ones for the cooperative's people."
        ),
        responses={200: DeadlineSerializer(many=True), **error_responses(404)},
        tags=["deadlines"],
    ),
    create=extend_schema(
        summary=_("Add a deadline to a case"),
        description=_(
            "Staff of the case only (403 otherwise). The date is computed from the kind, the "
            "trigger date and the term (`term_days` or `term_months`; none for `fixed`); a bad "
            "combination, a date outside 1900-9998 or a term below 1 is a 400."
        ),
        request=DeadlineWriteSerializer,
        responses={201: DeadlineSerializer, **error_responses(400, 403, 404, 409)},
        tags=["deadlines"],
    ),
)
class CaseDeadlineViewSet(
    CaseChildMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = DeadlineSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Deadline.objects.none()
        return (
            deadlines_visible_to(self.request.user)
            .filter(case=self.get_case())
            .select_related(*_RELATED)
            .order_by("due_on", "pk")
        )

    def create(self, request, *args, **kwargs):
        case = self.get_case()
        data = DeadlineWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deadline = services.deadline_add(case=case, actor=request.user, **data.validated_data)
        deadline = self.get_queryset().get(pk=deadline.pk)
        return Response(self.get_serializer(deadline).data, status=status.HTTP_201_CREATED)


# --- The caller's deadlines --------------------------------------------------------------------


def _deadline_action(summary, description):
    def decorate(method):
        method = action(detail=True, methods=["post"])(method)
        return extend_schema(
            summary=summary,
            description=description,
            request=None,
            responses={200: DeadlineSerializer, **error_responses(403, 404, 409)},
            tags=["deadlines"],
        )(method)

    return decorate


@extend_schema_view(
    list=extend_schema(
        summary=_("Deadlines I may see"),
        description=_(
            "Staff: every deadline of the cases they see as staff; the cooperative's people: "
            "the shared deadlines of the cases they see. The nearest first."
        ),
        responses={200: DeadlineSerializer(many=True), **error_responses(400)},
        tags=["deadlines"],
    ),
    retrieve=extend_schema(
        summary=_("One deadline"),
        responses={200: DeadlineSerializer, **error_responses(404)},
        tags=["deadlines"],
    ),
    partial_update=extend_schema(
        summary=_("Change a deadline"),
        description=_(
            "Staff of the case only (403 otherwise). Only the fields given change; the date is "
            "computed again when the kind, trigger date or term changes (give `null` for the "
            "term that no longer applies), and a new date starts a new series of reminders."
        ),
        request=DeadlineWriteSerializer(partial=True),
        responses={200: DeadlineSerializer, **error_responses(400, 403, 404, 409)},
        tags=["deadlines"],
    ),
)
class DeadlineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DeadlineSerializer
    filterset_class = DeadlineFilter
    filter_backends = (django_filters.rest_framework.DjangoFilterBackend,)
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Deadline.objects.none()
        return (
            deadlines_visible_to(self.request.user)
            .select_related(*_RELATED)
            .order_by("due_on", "pk")
        )

    def _answer(self, deadline):
        return Response(self.get_serializer(self.get_queryset().get(pk=deadline.pk)).data)

    def partial_update(self, request, *args, **kwargs):
        deadline = self.get_object()
        data = DeadlineWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        # Only what the caller sent: a PATCH leaves the other fields as they are.
        given = {name: data.validated_data[name] for name in request.data if name in data.fields}
        deadline = services.deadline_change(deadline=deadline, actor=request.user, **given)
        return self._answer(deadline)

    @_deadline_action(
        _("Mark a deadline done"),
        _("Staff of the case only. A missed deadline may be done late; a done one is a 409."),
    )
    def done(self, request, pk=None):
        deadline = services.deadline_mark_done(deadline=self.get_object(), actor=request.user)
        return self._answer(deadline)

    @_deadline_action(
        _("Reopen a deadline marked done"),
        _("Staff of the case only. Open again, or missed if its day has passed; 409 if not done."),
    )
    def reopen(self, request, pk=None):
        deadline = services.deadline_reopen(deadline=self.get_object(), actor=request.user)
        return self._answer(deadline)
