"""The one path to a change of a case: pages, API and tasks call these, never the services.

Each function is named as the service it calls (`case_resolve` here calls
`casework.services.case_resolve`), locks the case row once, lets the service decide and record,
then moves the viewflow process (completes the human task, or runs the handle that was waiting),
all in one transaction. Lock order is always case row, then process row; the services expect the
lock and do not take it again.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework import services
from casework.errors import ConflictError, ForbiddenError, NotFoundError
from casework.hours import waits_on_estimate
from casework.models import Case, CaseStatus, Estimate
from casework.roles import roles_of

from .flows import CaseFlow, FollowUpFlow
from .models import CaseProcess, FollowUpProcess

ACTIVE = (STATUS.NEW, STATUS.ASSIGNED)


def _lock_case(case: Case | int) -> Case:
    """Re-read the case under its row lock, with what every service reads of it."""
    pk = case.pk if isinstance(case, Case) else case
    try:
        return (
            Case.objects.select_for_update(of=("self",))
            .select_related("cooperative__office", "area", "assignee")
            .get(pk=pk)
        )
    except Case.DoesNotExist as missing:
        raise NotFoundError(_("No such case.")) from missing


def _process_of(case: Case) -> CaseProcess:
    process = CaseProcess.objects.filter(case=case).first()
    if process is None:
        raise ConflictError(_("The case has no process."), code="no_process")
    return process


def active_task(case: Case, node) -> Task | None:
    return (
        Task.objects.filter(process__caseprocess__case=case, flow_task=node, status__in=ACTIVE)
        .order_by("-created")
        .first()
    )


@contextmanager
def _activation(task: Task):
    """The task's activation under viewflow's lock of its process row.

    The lock is taken with NOWAIT and a few retries: whoever still finds it held is told to try
    again (a 409), as any other conflict.
    """
    try:
        with task.activation() as activation:
            yield activation
    except FlowLockFailed as busy:
        raise ConflictError(_("The case is busy, try again."), code="busy") from busy


def _complete(task: Task, user) -> None:
    """Finish a human task programmatically: the service has already checked who may do it."""
    with _activation(task) as activation:
        if activation.task.status == STATUS.NEW:
            activation.assign(user)
        activation.start(None)
        activation.execute()


# What a missing human task means, per step.
_NOT_AT_STEP = {
    "triage": (gettext_lazy("The case is not in triage."), "not_triage"),
    "work": (gettext_lazy("The case is not being worked on."), "not_assigned"),
}


def _decide_then_complete(case, node, actor, decide) -> Case:
    """Lock the case, let the service decide (its refusal comes first), then finish the task."""
    case = _lock_case(case)
    task = active_task(case, node)
    decide(case)
    if task is None:
        message, code = _NOT_AT_STEP[node.name]
        raise ConflictError(message, code=code)
    _complete(task, actor)
    case.refresh_from_db()
    return case


def _run_handle(case: Case, node) -> None:
    task = active_task(case, node)
    if task is None:
        raise ConflictError(_("The process is not waiting for this step."), code="not_waiting")
    node.run(task)


# --- Intake and triage ---------------------------------------------------------------------


@contextmanager
def _without_savepoints():
    """Nested atomic blocks inside, viewflow's own, take no savepoint (two round trips each).

    For a step whose every failure must undo the whole transaction anyway: an error inside
    marks the enclosing transaction for rollback instead of rolling back to a savepoint.
    Django's atomic blocks ask the connection whether a savepoint may be taken (the private
    `_savepoint_allowed`, a per-thread connection's own attribute here, restored on leaving).
    """
    connection = transaction.get_connection()
    connection._savepoint_allowed = lambda: False
    try:
        yield
    finally:
        del connection._savepoint_allowed


@transaction.atomic
def case_open(**kwargs) -> Case:
    """Intake (triaged and routed when the rules allow), then the process starts from it.

    The start's three savepoints (its activation, its lock, the gateway after it) would guard
    nothing: the process row is new, so no other transaction can hold its lock, and a failed
    start must not leave the case it was started for.
    """
    case = services.case_open(**kwargs)
    with _without_savepoints():
        CaseFlow.start.run(case=case)
    return case


@transaction.atomic
def case_triage(*, case, actor, priority, area=None, specialty=None, at=None) -> Case:
    return _decide_then_complete(
        case,
        CaseFlow.triage,
        actor,
        lambda locked: services.case_triage(
            case=locked, actor=actor, area=area, specialty=specialty, priority=priority, at=at
        ),
    )


@transaction.atomic
def case_reject(*, case, actor, reason, explanation, at=None) -> Case:
    return _decide_then_complete(
        case,
        CaseFlow.triage,
        actor,
        lambda locked: services.case_reject(
            case=locked, actor=actor, reason=reason, explanation=explanation, at=at
        ),
    )


# --- Assignment and the task queue ---------------------------------------------------------


@transaction.atomic
def case_assign(*, case, actor, consultant, at=None) -> Case:
    """A supervisor assigns or reassigns; the open work task follows the new assignee."""
    case = _lock_case(case)
    services.case_assign(case=case, actor=actor, consultant=consultant, at=at)
    manual = active_task(case, CaseFlow.assign_manually)
    work = active_task(case, CaseFlow.work)
    if manual is not None:
        _complete(manual, actor)
    elif work is not None:
        with _activation(work) as activation:
            if activation.task.status == STATUS.NEW:
                activation.assign(consultant)
            else:
                activation.reassign(user=consultant)
    case.refresh_from_db()
    return case


def _lock_task(task: Task | int) -> tuple[Task, Case | None]:
    """Lock the task's case, then read the task: its status is then final until we commit.

    Both the case's own process and the follow-up of a low rating carry a case. Without the
    case's lock, two claims of a follow-up both read it unclaimed and raced for viewflow's lock
    of the process row (a 500 for the loser).
    """
    pk = task.pk if isinstance(task, Task) else task
    process_id = Task.objects.filter(pk=pk).values_list("process_id", flat=True).first()
    if process_id is None:
        raise NotFoundError(_("No such task."))
    case_id = _case_id_of_process(process_id)
    case = _lock_case(case_id) if case_id else None
    return Task.objects.select_related("process").get(pk=pk), case


def _case_id_of_process(process_id: int) -> int | None:
    for process_class in (CaseProcess, FollowUpProcess):
        case_id = (
            process_class.objects.filter(pk=process_id).values_list("case_id", flat=True).first()
        )
        if case_id:
            return case_id
    return None


def _task_case(task: Task) -> Case | None:
    process = task.process.coerced
    return getattr(process, "case", None)


@transaction.atomic
def task_claim(*, task, actor) -> Task:
    """Take a task from a queue; of two people claiming at once, exactly one gets it."""
    task, case = _lock_task(task)
    if task.status != STATUS.NEW or task.owner_id is not None:
        raise ConflictError(_("This task has already been claimed."), code="already_claimed")
    case = case or _task_case(task)
    if case is None:
        raise NotFoundError(_("No such task."))
    roles = roles_of(actor)
    if task.flow_task is CaseFlow.work:
        services.case_claim(case=case, actor=actor)
    elif not roles.supervises_area(case.area_id):
        raise ForbiddenError(_("Only a supervisor of this area may take this task."))
    with _activation(task) as activation:
        activation.assign(actor)
    task.refresh_from_db()
    return task


@transaction.atomic
def task_release(*, task, actor) -> Task:
    """Put a task one holds back in its queue."""
    task, case = _lock_task(task)
    if task.status != STATUS.ASSIGNED or task.owner_id is None:
        raise ConflictError(_("This task is not claimed."), code="not_claimed")
    roles = roles_of(actor)
    case = case or _task_case(task)
    if task.owner_id != actor.pk and not (case and roles.supervises_area(case.area_id)):
        raise ForbiddenError(_("Only whoever holds the task may release it."))
    if task.flow_task is CaseFlow.work:
        services.case_release(case=case, actor=actor)
    with _activation(task) as activation:
        activation.unassign()
    task.refresh_from_db()
    return task


@transaction.atomic
def case_hand_back(*, case, actor, reason, at=None) -> Case:
    """The consultant returns the case to a supervisor for reassignment."""
    return _decide_then_complete(
        case,
        CaseFlow.work,
        actor,
        lambda locked: services.case_hand_back(case=locked, actor=actor, reason=reason, at=at),
    )


# --- Expert work ---------------------------------------------------------------------------


@transaction.atomic
def case_post_message(*, case, author, body, internal=False, at=None):
    """A message; a member's answer to a request for information brings the case back."""
    case = _lock_case(case)
    roles = roles_of(author)
    if (
        not internal
        and case.status == CaseStatus.WAITING
        and roles.is_member_of(case.cooperative_id)
        and not roles.is_staff_role
        # A case waiting on an estimate takes messages; only accepting or declining answers it.
        and not waits_on_estimate(case)
    ):
        message = services.case_provide_info(case=case, actor=author, body=body, at=at)
        _run_handle(case, CaseFlow.await_information)
        return message
    return services.case_post_message(case=case, author=author, body=body, internal=internal, at=at)


@transaction.atomic
def case_provide_info(*, case, actor, body, at=None):
    case = _lock_case(case)
    message = services.case_provide_info(case=case, actor=actor, body=body, at=at)
    _run_handle(case, CaseFlow.await_information)
    return message


@transaction.atomic
def case_acknowledge(*, case, actor, body="", at=None):
    case = _lock_case(case)
    return services.case_acknowledge(case=case, actor=actor, body=body, at=at)


@transaction.atomic
def case_record_time(*, case, actor, minutes, note="", day=None, billable=True, at=None):
    """Time spent on the case: its time entries (one, or two across the plan's end)."""
    case = _lock_case(case)
    return services.case_record_time(
        case=case, actor=actor, minutes=minutes, note=note, day=day, billable=billable, at=at
    )


@transaction.atomic
def time_entry_change(*, case, entry, actor, minutes=None, note=None, billable=None, at=None):
    case = _lock_case(case)
    return services.time_entry_change(
        case=case, entry=entry, actor=actor, minutes=minutes, note=note, billable=billable, at=at
    )


@transaction.atomic
def time_entry_delete(*, case, entry, actor, at=None) -> None:
    case = _lock_case(case)
    services.time_entry_delete(case=case, entry=entry, actor=actor, at=at)


@transaction.atomic
def case_propose_estimate(*, case, actor, minutes, note, at=None):
    """An estimate of work beyond the plan: the work step ends, the case waits on it."""
    estimate = None

    def decide(locked):
        nonlocal estimate
        estimate = services.case_propose_estimate(
            case=locked, actor=actor, minutes=minutes, note=note, at=at
        )

    _decide_then_complete(case, CaseFlow.work, actor, decide)
    return estimate


def _estimate_case(estimate) -> int:
    pk = estimate.pk if isinstance(estimate, Estimate) else estimate
    case_id = Estimate.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotFoundError(_("No such estimate."))
    return case_id


@transaction.atomic
def case_accept_estimate(*, estimate, actor, note="", at=None):
    """The cooperative's yes: the case is back in its consultant's work step."""
    case = _lock_case(_estimate_case(estimate))
    answered = services.case_accept_estimate(
        case=case, estimate=estimate, actor=actor, note=note, at=at
    )
    _run_handle(case, CaseFlow.await_estimate)
    return answered


@transaction.atomic
def case_decline_estimate(*, estimate, actor, note="", at=None):
    """The cooperative's no: the case is back in its consultant's work step all the same."""
    case = _lock_case(_estimate_case(estimate))
    answered = services.case_decline_estimate(
        case=case, estimate=estimate, actor=actor, note=note, at=at
    )
    _run_handle(case, CaseFlow.await_estimate)
    return answered


@transaction.atomic
def case_attach(*, case, uploaded_by, file, internal=False, message=None):
    """A document on the case (or on one of its messages), after the upload checks."""
    case = _lock_case(case)
    return services.case_attach(
        case=case, uploaded_by=uploaded_by, file=file, internal=internal, message=message
    )


@transaction.atomic
def case_attach_email(*, case, raw, name, uploaded_by=None, message=None):
    """The whole original of an e-mail that came in, kept on its case for the staff only."""
    case = _lock_case(case)
    return services.case_attach_email(
        case=case, raw=raw, name=name, uploaded_by=uploaded_by, message=message
    )


@transaction.atomic
def case_request_info(*, case, actor, question, at=None) -> Case:
    return _decide_then_complete(
        case,
        CaseFlow.work,
        actor,
        lambda locked: services.case_request_info(
            case=locked, actor=actor, question=question, at=at
        ),
    )


@transaction.atomic
def case_resolve(*, case, actor, outcome, summary, minutes_spent=0, at=None) -> Case:
    return _decide_then_complete(
        case,
        CaseFlow.work,
        actor,
        lambda locked: services.case_resolve(
            case=locked,
            actor=actor,
            outcome=outcome,
            summary=summary,
            minutes_spent=minutes_spent,
            at=at,
        ),
    )


# --- The cooperative's answer --------------------------------------------------------------


@transaction.atomic
def case_confirm(*, case, actor, at=None) -> Case:
    case = _lock_case(case)
    services.case_confirm(case=case, actor=actor, at=at)
    _run_handle(case, CaseFlow.await_confirmation)
    case.refresh_from_db()
    return case


@transaction.atomic
def case_reopen(*, case, actor, reason, at=None) -> Case:
    case = _lock_case(case)
    services.case_reopen(case=case, actor=actor, reason=reason, at=at)
    _run_handle(case, CaseFlow.await_confirmation)
    case.refresh_from_db()
    return case


@transaction.atomic
def case_auto_close(*, case, at=None) -> Case | None:
    case = _lock_case(case)
    closed = services.case_auto_close(case=case, at=at)
    if closed is None:
        return None
    _run_handle(case, CaseFlow.await_confirmation)
    return closed


@transaction.atomic
def case_rate(*, case, actor, score, comment="", at=None):
    case = _lock_case(case)
    rating = services.case_rate(case=case, actor=actor, score=score, comment=comment, at=at)
    if rating.score <= settings.SPORTELLO_LOW_RATING:
        FollowUpFlow.start.run(case=case)
    return rating


# --- Supervision ---------------------------------------------------------------------------


@transaction.atomic
def case_set_confidential(*, case, actor, confidential, at=None) -> Case:
    case = _lock_case(case)
    return services.case_set_confidential(case=case, actor=actor, confidential=confidential, at=at)


@transaction.atomic
def case_add_participant(*, case, actor, person, at=None):
    case = _lock_case(case)
    return services.case_add_participant(case=case, actor=actor, person=person, at=at)


@transaction.atomic
def case_remove_participant(*, case, actor, person, at=None) -> None:
    case = _lock_case(case)
    services.case_remove_participant(case=case, actor=actor, person=person, at=at)


@transaction.atomic
def case_change_priority(*, case, actor, priority, at=None) -> Case:
    case = _lock_case(case)
    return services.case_change_priority(case=case, actor=actor, priority=priority, at=at)


@transaction.atomic
def case_cancel(*, case, actor, reason, at=None) -> Case:
    case = _lock_case(case)
    services.case_cancel(case=case, actor=actor, reason=reason, at=at)
    process = _process_of(case)
    CaseFlow.instance.cancel(process)
    case.refresh_from_db()
    return case


@transaction.atomic
def case_follow_up(*, task, actor, note) -> Task:
    """A supervisor's review of a low rating: recorded on the case, the follow-up task done."""
    task, case = _lock_task(task)
    if task.flow_task is not FollowUpFlow.review or task.status not in ACTIVE:
        raise ConflictError(_("This follow-up is already done."), code="done")
    process = task.process.coerced
    process.note = services.case_follow_up(case=case or process.case, actor=actor, note=note)
    process.save(update_fields=["note"])
    _complete(task, actor)
    return task
