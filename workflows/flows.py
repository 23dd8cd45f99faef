"""The case process as a graph: it declares the steps, the casework services decide."""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from casework.hours import waits_on_estimate
from casework.models import CaseStatus

from .models import CaseProcess, FollowUpProcess
from .workspace.task_link import task_page

# The process layer (workflows.process) lets the service write the case before it moves the
# process, so the case the process reads (loaded on first use, or the very instance intake wrote)
# is where the case stands. Nothing inside the flow changes a case.


# The key of a human task's `data` that holds the id of its case's area.
AREA_KEY = "area"


def _status_is(*statuses):
    return lambda activation: activation.process.case.status in statuses


def _waits_on_estimate(activation):
    """The case waits on the cooperative's answer to an estimate, not to a question."""
    case = activation.process.case
    return case.status == CaseStatus.WAITING and waits_on_estimate(case)


def _assignee(activation):
    return activation.process.case.assignee


class QueueView(flow.View):
    """A human step of a case: its task carries the case's area, which the queues filter on.

    The area is written with the task (no extra statement), so a queue reads one partial index
    of the task table instead of joining every unclaimed task to its process and case
    (workflows.selectors). A case changes area only in triage, whose task is then finished.
    """

    def _create(self, prev_activation, token, data=None, seed=None):
        data = {**(data or {}), AREA_KEY: prev_activation.process.case.area_id}
        return super()._create(prev_activation, token, data=data, seed=seed)


class CaseFlow(flow.Flow):
    process_class = CaseProcess
    lock_impl = lock.select_for_update_lock
    process_title = _("Assistance case")
    process_description = _("From a cooperative's request to a confirmed resolution.")

    # Intake and triage decide, and route at once (casework.services): the gateways only look
    # at where the case stands.
    start = flow.StartHandle(this.start_case).Next(this.after_intake)
    after_intake = (
        flow.Switch()
        .Case(this.triage, _status_is(CaseStatus.TRIAGE))
        .Case(this.work, _status_is(CaseStatus.ASSIGNED))
        .Default(this.assign_manually)
    )
    triage = (
        QueueView(task_page)
        .Annotation(title=_("Triage"), summary_template="{{ process.case.reference }}")
        .Next(this.after_triage)
    )
    after_triage = (
        flow.Switch()
        .Case(this.rejected, _status_is(CaseStatus.REJECTED))
        .Case(this.work, _status_is(CaseStatus.ASSIGNED))
        .Default(this.assign_manually)
    )
    assign_manually = QueueView(task_page).Annotation(title=_("Assign manually")).Next(this.work)

    work = (
        QueueView(task_page)
        .Annotation(title=_("Work on the case"))
        .Assign(_assignee)
        .Next(this.after_work)
    )
    after_work = (
        flow.Switch()
        .Case(this.await_estimate, _waits_on_estimate)
        .Case(this.await_information, _status_is(CaseStatus.WAITING))
        .Case(this.await_confirmation, _status_is(CaseStatus.RESOLVED))
        .Case(this.assign_manually, _status_is(CaseStatus.UNASSIGNED))
        .Default(this.cancelled)
    )
    await_information = (
        flow.Handle(this.noop).Annotation(title=_("Waiting for the cooperative")).Next(this.work)
    )
    # An estimate of work beyond the cooperative's plan, until it is accepted or declined.
    await_estimate = (
        flow.Handle(this.noop)
        .Annotation(title=_("Waiting for the cooperative to answer an estimate"))
        .Next(this.work)
    )
    await_confirmation = (
        flow.Handle(this.noop)
        .Annotation(title=_("Waiting for confirmation"))
        .Next(this.after_confirmation)
    )
    after_confirmation = flow.If(_status_is(CaseStatus.CLOSED)).Then(this.closed).Else(this.work)

    closed = flow.End()
    rejected = flow.End()
    cancelled = flow.End()

    def start_case(self, activation, case):
        activation.process.case = case
        return activation.process

    def noop(self, activation, **kwargs):
        """The service already changed the case; the handle only moves the process on."""


class FollowUpFlow(flow.Flow):
    """A low rating asks a supervisor of the area to look into the case."""

    process_class = FollowUpProcess
    lock_impl = lock.select_for_update_lock
    process_title = _("Follow-up of a low rating")

    start = flow.StartHandle(this.start_follow_up).Next(this.review)
    review = QueueView(task_page).Annotation(title=_("Follow up a low rating")).Next(this.done)
    done = flow.End()

    def start_follow_up(self, activation, case):
        activation.process.case = case
        return activation.process
