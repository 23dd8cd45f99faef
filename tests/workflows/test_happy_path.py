import pytest
from viewflow.workflow.models import Task

from casework.models import CaseEvent
from workflows import process
from workflows.flows import CaseFlow

pytestmark = pytest.mark.django_db


def test_member_to_confirmation(process_setup, member, cooperative, consultant, outcome):
    case = process.case_open(
        requester=member,
        cooperative=cooperative,
        area=process_setup,
        subject="Statuto",
        description="Modifica",
    )
    assert case.status == "assigned"
    assert case.assignee == consultant
    work = process.active_task(case, CaseFlow.work)
    assert work.owner == consultant
    process.case_request_info(case=case, actor=consultant, question="Serve il verbale")
    case.refresh_from_db()
    assert case.status == "waiting" and case.sla_state == "paused"
    process.case_post_message(case=case, author=member, body="Ecco il verbale")
    case.refresh_from_db()
    assert case.status == "assigned"
    assert process.active_task(case, CaseFlow.work).owner == consultant
    process.case_resolve(
        case=case, actor=consultant, outcome=outcome, summary="Fatto", minutes_spent=30
    )
    process.case_confirm(case=case, actor=member)
    case.refresh_from_db()
    assert case.status == "closed"
    assert case.process.status == "DONE"
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds[:3] == ["opened", "triaged", "routed"]
    assert "confirmed" in kinds
    assert not Task.objects.filter(process=case.process, status__in=["NEW", "ASSIGNED"]).exists()


def test_a_process_start_that_fails_leaves_no_case_and_the_next_intake_works(
    process_setup, member, cooperative, consultant
):
    """The start takes no savepoints of its own: its failure still undoes the whole intake."""
    from viewflow.workflow.signals import flow_started

    from casework.models import Case, Notification

    def refuse(**_kwargs):
        raise RuntimeError("the start failed")

    opening = {
        "requester": member,
        "cooperative": cooperative,
        "area": process_setup,
        "subject": "Statuto",
        "description": "Modifica",
    }
    flow_started.connect(refuse, sender=CaseFlow, dispatch_uid="refuse-start")
    try:
        with pytest.raises(RuntimeError, match="the start failed"):
            process.case_open(**opening)
    finally:
        flow_started.disconnect(dispatch_uid="refuse-start", sender=CaseFlow)

    assert not Case.objects.exists()
    assert not Notification.objects.exists()
    assert not Task.objects.exists()
    consultant.consultant.refresh_from_db()
    assert consultant.consultant.active_cases == 0  # the routing's load counter went back too
    case = process.case_open(**opening)
    assert case.reference.endswith("-000001")  # the failed intake's number was given back
    assert process.active_task(case, CaseFlow.work).owner == consultant
