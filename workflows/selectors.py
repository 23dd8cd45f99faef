"""Task queues, each scoped to who is asking: my tasks, the tasks I may claim, and both."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework.roles import Roles, roles_of

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
