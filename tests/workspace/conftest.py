"""Fixtures for the staff pages: the process set up, cases in each state, staff of two areas."""

import pytest
from viewflow.workflow.models import Task

from casework.models import Consultant
from tests import factories
from workflows import process
from workflows.flows import CaseFlow, FollowUpFlow


@pytest.fixture(autouse=True)
def english(client):
    """The assertions read the English texts; the pages default to Italian otherwise."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def process_setup(calendar, policies, outcome, area, consultant):
    area.default_priority = "normal"
    area.save()
    # Room for many cases: the query-count tests route twenty cases to the same consultant.
    Consultant.objects.filter(user=consultant).update(capacity=100)
    return area


@pytest.fixture
def colleague(area, office):
    """A second consultant of the same area, who must not act on the first one's cases."""
    return factories.ConsultantFactory(
        user__username="consulente2", office=office, areas=[area], capacity=100
    ).user


@pytest.fixture
def other_area():
    return factories.AreaFactory(
        code="fiscal", name="Fiscale", reference_prefix="FIS", default_priority="normal"
    )


@pytest.fixture
def other_area_consultant(other_area, office):
    return factories.ConsultantFactory(
        user__username="consulente.fiscale", office=office, areas=[other_area]
    ).user


@pytest.fixture
def area_supervisor(area):
    return factories.SupervisorFactory(
        user__username="supervisore.legale", all_areas=False, areas=[area]
    ).user


@pytest.fixture
def open_case(process_setup, member, cooperative):
    def open_case(subject="Modifica dello statuto", **kwargs):
        kwargs.setdefault("area", process_setup)
        return process.open_case(
            requester=member,
            cooperative=cooperative,
            subject=subject,
            description="Dobbiamo modificare lo statuto.",
            **kwargs,
        )

    return open_case


@pytest.fixture
def assigned_case(open_case, consultant):
    case = open_case()
    assert case.status == "assigned" and case.assignee == consultant
    return case


@pytest.fixture
def triage_case(open_case, process_setup):
    process_setup.default_priority = ""
    process_setup.save()
    case = open_case(subject="Richiesta da valutare")
    process_setup.default_priority = "normal"
    process_setup.save()
    assert case.status == "triage"
    return case


@pytest.fixture
def released_case(assigned_case, consultant):
    """A case whose consultant put it back in the area's queue: its work task is claimable."""
    process.release_task(task=work_task_of(assigned_case), actor=consultant)
    assigned_case.refresh_from_db()
    assert assigned_case.status == "unassigned"
    return assigned_case


@pytest.fixture
def rated_case(open_case, consultant, member, outcome):
    """A closed case the cooperative rated 1 of 5: a follow-up waits for a supervisor."""
    case = open_case(subject="Caso valutato male")
    process.resolve(case=case, actor=consultant, outcome=outcome, summary="Fatto", minutes_spent=10)
    process.confirm(case=case, actor=member)
    process.rate(case=case, actor=member, score=1, comment="Troppo lento")
    case.refresh_from_db()
    return case


@pytest.fixture
def follow_up_task(rated_case):
    return Task.objects.get(
        process__followupprocess__case=rated_case, flow_task=FollowUpFlow.review
    )


def work_task_of(case):
    return process.active_task(case, CaseFlow.work)
