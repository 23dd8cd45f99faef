"""Reads the API needs beyond `casework.selectors` and `workflows.selectors`, each scoped to a user.

They are read-only and small; they belong with the domain's selectors and live here until then.
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework.attachments import attachments_visible_to
from casework.models import Case, CaseEvent, Message
from casework.roles import roles_of
from casework.selectors import can_read_internal, cases_visible_to
from workflows.flows import CaseFlow, FollowUpFlow
from workflows.selectors import HUMAN_STEPS, SUPERVISOR_STEPS

Kind = CaseEvent.Kind

CASE_RELATED = (
    "cooperative",
    "area",
    "assignee",
    "requester",
    "specialty",
    "outcome",
    "sla_policy",
)

# Events that are the federation's own business (routing reasons, internal notes, time sheets,
# escalations): a cooperative's timeline leaves them out.
STAFF_ONLY_EVENTS = frozenset(
    {
        Kind.NOTE_ADDED,
        Kind.TIME_RECORDED,
        Kind.ROUTING_FAILED,
        Kind.RELEASED,
        Kind.HANDED_BACK,
        Kind.SLA_RECOMPUTED,
        Kind.SLA_AT_RISK,
        Kind.SLA_BREACHED,
        Kind.FOLLOW_UP,
    }
)
# Events whose note was written for the cooperative (or by it); other notes stay with the staff.
MEMBER_NOTE_EVENTS = frozenset({Kind.REJECTED, Kind.REOPENED, Kind.CANCELLED, Kind.RATED})


def with_staff_counts(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with their number of internal notes, counted by the database in the same query."""
    internal_notes = (
        Message.objects.filter(case=OuterRef("pk"), internal=True)
        .order_by()
        .values("case")
        .annotate(n=Count("id"))
        .values("n")
    )
    return cases.annotate(
        internal_notes_count=Coalesce(
            Subquery(internal_notes, output_field=IntegerField()), Value(0)
        )
    )


def case_list(user) -> QuerySet[Case]:
    """Visible cases with what the case representation shows, in one query per page."""
    cases = cases_visible_to(user).select_related(*CASE_RELATED)
    if roles_of(user).is_staff_role:
        cases = with_staff_counts(cases)
    return cases


def staff_cases_of(user) -> QuerySet[Case]:
    """The cases a user sees as federation staff: their areas, what they work on, or all."""
    roles = roles_of(user)
    if not roles.is_staff_role:
        return Case.objects.none()
    if roles.supervises_all:
        return Case.objects.all()
    condition = Q(area_id__in=roles.staff_area_ids)
    if roles.is_consultant:
        condition |= Q(assignee_id=roles.user_id)
    return Case.objects.filter(condition)


def messages_with_attachments(user, case: Case, messages: QuerySet[Message]) -> QuerySet[Message]:
    """Messages with the documents attached to each that this user may see, in one more query."""
    return messages.prefetch_related(
        Prefetch(
            "attachments",
            queryset=attachments_visible_to(user, case),
            to_attr="visible_attachments",
        )
    )


def events_visible_to(user, case: Case) -> QuerySet[CaseEvent]:
    """A case's timeline: all of it for its staff; the cooperative's part for its members."""
    timeline = case.events.select_related("actor").order_by("created_at", "id")
    if not can_read_internal(user, case):
        timeline = timeline.exclude(kind__in=STAFF_ONLY_EVENTS).exclude(
            kind=Kind.ATTACHMENT_ADDED, after__internal=True
        )
    return timeline


# --- Tasks ---------------------------------------------------------------------------------


def _queue_condition(roles) -> Q:
    """The tasks of this user's queues whatever their state (as `available_tasks` scopes them)."""
    condition = Q(pk__in=[])
    if roles.consultant_area_ids:
        condition |= Q(
            flow_task=CaseFlow.work,
            process__caseprocess__case__area_id__in=roles.consultant_area_ids,
        )
    if roles.supervises_all:
        condition |= Q(flow_task__in=(*SUPERVISOR_STEPS, CaseFlow.work, FollowUpFlow.review))
    elif roles.supervised_area_ids:
        condition |= Q(
            flow_task__in=(*SUPERVISOR_STEPS, CaseFlow.work),
            process__caseprocess__case__area_id__in=roles.supervised_area_ids,
        )
        condition |= Q(
            flow_task=FollowUpFlow.review,
            process__followupprocess__case__area_id__in=roles.supervised_area_ids,
        )
    return condition


def with_case(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.select_related(
        "owner",
        "process__caseprocess__case__cooperative",
        "process__caseprocess__case__area",
        "process__followupprocess__case__cooperative",
        "process__followupprocess__case__area",
    )


def tasks_reachable_by(user) -> QuerySet[Task]:
    """Every human task a user may look up by id: theirs, and any of their queues' (claimed or not).

    Broader than `workflows.selectors.tasks_visible_to` on purpose: a colleague's claimed task is
    visible, so claiming it again is a 409 (a state conflict), not a 404.
    """
    roles = roles_of(user)
    if roles.user_id is None:
        return Task.objects.none()
    condition = Q(owner_id=roles.user_id)
    if roles.is_staff_role:
        condition |= _queue_condition(roles)
    return with_case(Task.objects.filter(condition, flow_task__in=HUMAN_STEPS)).order_by(
        "created", "id"
    )


def open_tasks_of(user) -> QuerySet[Task]:
    """My claimed tasks and the unclaimed ones of my queues: `my_tasks` ∪ `available_tasks`."""
    roles = roles_of(user)
    return tasks_reachable_by(user).filter(
        Q(owner_id=roles.user_id, status=STATUS.ASSIGNED) | Q(status=STATUS.NEW, owner__isnull=True)
    )
