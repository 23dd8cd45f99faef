"""Task queues, each scoped to who is asking: my tasks, the tasks I may claim, and both."""

from __future__ import annotations

from django.db.models import Case, DateTimeField, F, Q, QuerySet, When
from django.db.models.functions import Coalesce
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework.roles import Roles, roles_of
from casework.selectors import read_since_activity

from .flows import AREA_KEY, CaseFlow, FollowUpFlow

SUPERVISOR_STEPS = (CaseFlow.triage, CaseFlow.assign_manually)
HUMAN_STEPS = (CaseFlow.work, *SUPERVISOR_STEPS, FollowUpFlow.review)
SUPERVISED_STEPS = (*SUPERVISOR_STEPS, CaseFlow.work, FollowUpFlow.review)

UNCLAIMED = Q(status=STATUS.NEW, owner__isnull=True)


def with_case(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Tasks with their case (through either process) joined, ordered oldest first.

    The case's cooperative and area come by prefetch, one query each: joined, they took the
    planner longer than the whole page took to run.
    """
    return (
        tasks.select_related(
            "owner", "process__caseprocess__case", "process__followupprocess__case"
        )
        .prefetch_related(
            "process__caseprocess__case__cooperative",
            "process__caseprocess__case__area",
            "process__followupprocess__case__cooperative",
            "process__followupprocess__case__area",
        )
        .order_by("created", "id")
    )


def _case_column(name: str) -> Coalesce:
    """A column of the task's case, through whichever process carries it."""
    return Coalesce(
        f"process__caseprocess__case__{name}", f"process__followupprocess__case__{name}"
    )


def with_case_read_state(tasks: QuerySet[Task], user) -> QuerySet[Task]:
    """Tasks with their case's `case_last_activity_at` and `case_unread` for `user`.

    Read through the same joins as `with_case`, in the list's one query (no query per row).
    """
    return tasks.annotate(
        case_pk=_case_column("id"), case_last_activity_at=_case_column("last_activity_at")
    ).annotate(
        case_unread=~read_since_activity(
            user, case="case_pk", last_activity="case_last_activity_at"
        )
    )


def by_case_due(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """The case due soonest first (the due time that matters: the first response while it is
    pending or came late, else the resolution, as `casework.sla.clocks.due_that_matters`);
    cases with no due time last, then the oldest task."""
    tasks = tasks.annotate(
        case_fr_due=_case_column("first_response_due_at"),
        case_fr_at=_case_column("first_response_at"),
        case_res_due=_case_column("resolution_due_at"),
    ).annotate(
        case_due_at=Case(
            When(
                Q(case_fr_due__isnull=False)
                & (Q(case_fr_at__isnull=True) | Q(case_fr_at__gt=F("case_fr_due"))),
                then=F("case_fr_due"),
            ),
            default=F("case_res_due"),
            output_field=DateTimeField(),
        )
    )
    return tasks.order_by(F("case_due_at").asc(nulls_last=True), "created", "id")


def by_case_activity(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Newest activity on the case first (after `with_case_read_state`)."""
    return tasks.order_by(F("case_last_activity_at").desc(nulls_last=True), "-id")


def case_of(task: Task):
    """The case a task is about, from the joins `with_case` made."""
    process = task.process
    for child in ("caseprocess", "followupprocess"):
        holder = getattr(process, child, None)
        if holder is not None:
            return holder.case
    return None


def _held_by(user_id: int | None) -> Q:
    return Q(owner_id=user_id, status=STATUS.ASSIGNED)


def _queues_of(roles: Roles) -> Q:
    """The tasks of a user's queues, whatever their state: what they may claim when it is free.

    Consultants: the work on cases of their areas. Supervisors: triage, manual assignment, work
    and follow-up review of the areas they supervise (or of all). The area is the one each task
    carries (flows.QueueView), so a queue is one partial index, not a join per task.
    """
    condition = Q(pk__in=[])
    if roles.consultant_area_ids:
        condition |= Q(flow_task=CaseFlow.work, **_in_areas(roles.consultant_area_ids))
    if roles.supervises_all:
        condition |= Q(flow_task__in=SUPERVISED_STEPS)
    elif roles.supervised_area_ids:
        condition |= Q(flow_task__in=SUPERVISED_STEPS, **_in_areas(roles.supervised_area_ids))
    return condition


def _in_areas(area_ids) -> dict:
    return {f"data__{AREA_KEY}__in": sorted(area_ids)}


def my_tasks(user) -> QuerySet[Task]:
    return with_case(Task.objects.filter(_held_by(user.pk), flow_task__in=HUMAN_STEPS))


def available_tasks(user) -> QuerySet[Task]:
    """Unclaimed tasks of my queues: work for consultants, triage and assignment for supervisors."""
    roles = roles_of(user)
    if not roles.is_staff_role:
        return Task.objects.none()
    return with_case(Task.objects.filter(_queues_of(roles), UNCLAIMED))


def tasks_reachable_by(user) -> QuerySet[Task]:
    """Every human task a user may look up by id: theirs, and any of their queues' (claimed or not).

    Broader than `open_tasks_of` on purpose: a colleague's claimed task is visible, so claiming
    it again is a 409 (a state conflict), not a 404.
    """
    roles = roles_of(user)
    if roles.user_id is None:
        return Task.objects.none()
    condition = Q(owner_id=roles.user_id)
    if roles.is_staff_role:
        condition |= _queues_of(roles)
    return with_case(Task.objects.filter(condition, flow_task__in=HUMAN_STEPS))


def open_tasks_of(user) -> QuerySet[Task]:
    """My claimed tasks and the unclaimed ones of my queues: `my_tasks` ∪ `available_tasks`."""
    return tasks_reachable_by(user).filter(_held_by(roles_of(user).user_id) | UNCLAIMED)
