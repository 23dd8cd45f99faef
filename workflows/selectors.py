"""Task queues, each scoped to who is asking: my tasks, and the tasks I may claim."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework.roles import roles_of

from .flows import CaseFlow, FollowUpFlow

SUPERVISOR_STEPS = (CaseFlow.triage, CaseFlow.assign_manually)
HUMAN_STEPS = (CaseFlow.work, *SUPERVISOR_STEPS, FollowUpFlow.review)


def _with_case(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.select_related(
        "owner",
        "process__caseprocess__case__cooperative",
        "process__caseprocess__case__area",
        "process__followupprocess__case__cooperative",
        "process__followupprocess__case__area",
    )


def case_of(task: Task):
    """The case a task is about, from the joins `_with_case` made."""
    process = task.process
    for child in ("caseprocess", "followupprocess"):
        holder = getattr(process, child, None)
        if holder is not None:
            return holder.case
    return None


def my_tasks(user) -> QuerySet[Task]:
    return _with_case(
        Task.objects.filter(owner=user, status=STATUS.ASSIGNED, flow_task__in=HUMAN_STEPS)
    ).order_by("created", "id")


def available_tasks(user) -> QuerySet[Task]:
    """Unclaimed tasks of my areas: work for consultants, triage and assignment for supervisors."""
    roles = roles_of(user)
    if not roles.is_staff_role:
        return Task.objects.none()
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
    return _with_case(
        Task.objects.filter(condition, status=STATUS.NEW, owner__isnull=True)
    ).order_by("created", "id")


def tasks_visible_to(user) -> QuerySet[Task]:
    """Every open task the user may see by id (mine or claimable)."""
    return (my_tasks(user) | available_tasks(user)).distinct()
