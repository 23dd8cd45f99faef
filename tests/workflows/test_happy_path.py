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
