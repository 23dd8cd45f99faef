"""Query-string filters of the API's lists (django-filter), validated: a bad value is a 400."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task

from casework.models import Case, CaseStatus, Priority, SlaState
from casework.roles import roles_of
from casework.search import QUERY_MAX_LENGTH, search_cases
from casework.selectors import filter_unread
from casework.validators import id_in, validate_id_digits
from workflows.flows import CaseFlow, FollowUpFlow

STEPS = {
    "triage": CaseFlow.triage,
    "assign_manually": CaseFlow.assign_manually,
    "work": CaseFlow.work,
    "review": FollowUpFlow.review,
}


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=CaseStatus.choices, help_text=_("Case status; repeat for several.")
    )
    area = django_filters.CharFilter(field_name="area__code", help_text=_("Practice area code."))
    priority = django_filters.MultipleChoiceFilter(
        choices=Priority.choices, help_text=_("Priority; repeat for several.")
    )
    cooperative = django_filters.NumberFilter(
        field_name="cooperative_id", help_text=_("Cooperative id.")
    )
    sla = django_filters.MultipleChoiceFilter(
        field_name="sla_state", choices=SlaState.choices, help_text=_("SLA state.")
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee",
        validators=[validate_id_digits],
        help_text=_("Consultant's user id or username."),
    )
    unread = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_unread",
        error_messages={
            "invalid_choice": _("“%(value)s” is not a valid value: use true or false.")
        },
        help_text=_(
            "`true`: only the cases I have not opened since their last activity; `false`: only "
            "those I am up to date on."
        ),
    )

    q = django_filters.CharFilter(
        method="filter_q",
        max_length=QUERY_MAX_LENGTH,
        help_text=_(
            'Full-text search (Italian, accent-blind; "a phrase", `OR`, `-word`) in the '
            "reference, subject, description and public messages, and for staff of the case in "
            "internal notes and documents' names; an exact reference, a tax code or a "
            "cooperative's name finds its cases first. Results come best first unless "
            "`ordering` is given, each with its `highlight`. At most 200 characters."
        ),
    )

    class Meta:
        model = Case
        fields = ["status", "area", "priority", "cooperative", "sla", "assignee", "unread", "q"]

    def filter_assignee(self, queryset, name, value):
        value = value.strip()
        user_id = id_in(value)
        if user_id is not None:
            return queryset.filter(assignee_id=user_id)
        return queryset.filter(assignee__username=value)

    def filter_unread(self, queryset, name, value):
        return filter_unread(queryset, self.request.user, unread=value == "true")

    def filter_q(self, queryset, name, value):
        user = self.request.user
        return search_cases(queryset, query=value, user=user, staff=roles_of(user).is_staff_role)


class SlaCaseFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(
        field_name="sla_state", choices=SlaState.choices, help_text=_("SLA state.")
    )
    area = django_filters.CharFilter(field_name="area__code", help_text=_("Practice area code."))
    office = django_filters.CharFilter(
        field_name="cooperative__office__code", help_text=_("Territorial office code (e.g. BO).")
    )

    class Meta:
        model = Case
        fields = ["state", "area", "office"]


class TaskFilter(django_filters.FilterSet):
    scope = django_filters.ChoiceFilter(
        choices=[("mine", _("My tasks")), ("available", _("Tasks I may claim"))],
        method="filter_scope",
        help_text=_(
            "`mine`: tasks I hold; `available`: unclaimed tasks of my queues; both if absent."
        ),
    )
    step = django_filters.ChoiceFilter(
        choices=[(code, code) for code in STEPS],
        method="filter_step",
        help_text=_("The process step of the task."),
    )
    area = django_filters.CharFilter(method="filter_area", help_text=_("Practice area code."))

    class Meta:
        model = Task
        fields = ["scope", "step", "area"]

    def filter_scope(self, queryset, name, value):
        # The view already chose the scope's queryset (workflows.selectors); this field only
        # validates the value and documents it.
        return queryset

    def filter_step(self, queryset, name, value):
        return queryset.filter(flow_task=STEPS[value])

    def filter_area(self, queryset, name, value):
        return queryset.filter(
            Q(process__caseprocess__case__area__code=value)
            | Q(process__followupprocess__case__area__code=value)
        )
