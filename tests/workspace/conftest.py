"""Fixtures for the staff pages: English pages, a colleague, a consultant of the other area and
cases further along (released, rated). The process, `open_case` and the first states of a case
are in tests/conftest.py."""

import pytest
from viewflow.workflow.models import Task

from tests import factories
from workflows import process
from workflows.flows import CaseFlow, FollowUpFlow


@pytest.fixture(autouse=True)
def english_accept_language(client):
    """The assertions read the English texts; the pages default to Italian otherwise."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def colleague(area, office):
    """A second consultant of the same area, who must not act on the first one's cases."""
    return factories.ConsultantFactory(
        user__username="consulente2", office=office, areas=[area], capacity=100
    ).user


@pytest.fixture
def other_area_consultant(other_area, office):
    return factories.ConsultantFactory(
        user__username="consulente.fiscale", office=office, areas=[other_area]
    ).user


@pytest.fixture
def released_case(assigned_case, consultant):
    """A case whose consultant put it back in the area's queue: its work task is claimable."""
    process.task_release(task=work_task_of(assigned_case), actor=consultant)
    assigned_case.refresh_from_db()
    assert assigned_case.status == "unassigned"
    return assigned_case


@pytest.fixture
def rated_case(open_case, consultant, member, outcome):
    """A closed case the cooperative rated 1 of 5: a follow-up waits for a supervisor."""
    case = open_case(subject="Caso valutato male")
    process.case_resolve(
        case=case, actor=consultant, outcome=outcome, summary="Fatto", minutes_spent=10
    )
    process.case_confirm(case=case, actor=member)
    process.case_rate(case=case, actor=member, score=1, comment="Troppo lento")
    case.refresh_from_db()
    return case


@pytest.fixture
def follow_up_task(rated_case):
    return Task.objects.get(
        process__followupprocess__case=rated_case, flow_task=FollowUpFlow.review
    )


def work_task_of(case):
    return process.active_task(case, CaseFlow.work)
