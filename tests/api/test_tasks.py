"""Task queues over the API: mine and available, claim (once, even under a race) and release."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from casework.models import Case
from tests import factories
from workflows import process
from workflows.flows import CaseFlow

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks/"


@pytest.fixture
def released_task(assigned_case, consultant):
    """A work task back in the area's queue, unclaimed."""
    work = process.active_task(assigned_case, CaseFlow.work)
    process.task_release(task=work, actor=consultant)
    work.refresh_from_db()
    assert work.owner is None and work.status == "NEW"
    return work


def ids(response):
    assert response.status_code == 200, response.content
    return [t["id"] for t in response.json()["results"]]


def test_my_tasks(api, consultant, assigned_case):
    work = process.active_task(assigned_case, CaseFlow.work)

    response = api(consultant).get(TASKS, {"scope": "mine"})

    assert ids(response) == [work.pk]
    task = response.json()["results"][0]
    assert task["step"] == "work" and task["step_title"]
    assert task["status"] == "assigned"
    assert task["owner"]["username"] == "consulente"
    assert task["case"]["id"] == assigned_case.pk
    assert task["case"]["reference"] == assigned_case.reference
    assert task["case"]["area"] == "legal"
    assert task["case"]["cooperative"]["name"] == "Cooperativa Alfa"
    assert task["case"]["sla"]["state"] == "on_track"


def test_available_tasks(api, consultant, consultant2, fiscal_consultant, released_task):
    assert ids(api(consultant2).get(TASKS, {"scope": "available"})) == [released_task.pk]
    assert ids(api(consultant2).get(TASKS, {"scope": "mine"})) == []
    assert ids(api(consultant2).get(TASKS)) == [released_task.pk]
    assert ids(api(fiscal_consultant).get(TASKS, {"scope": "available"})) == []


def test_supervisor_queue_has_triage(api, area_supervisor, open_case, process_setup):
    process_setup.default_priority = ""
    process_setup.save()
    case = open_case()

    response = api(area_supervisor).get(TASKS, {"scope": "available", "step": "triage"})

    assert ids(response) == [process.active_task(case, CaseFlow.triage).pk]
    assert response.json()["results"][0]["step"] == "triage"


def test_a_case_triaged_into_another_area_queues_there(
    api,
    area,
    supervisor,
    area_supervisor,
    consultant,
    fiscal_consultant,
    fiscal_supervisor,
    open_case,
    fiscal_area,
):
    """The queues follow the area triage gave the case, not the one it was opened in."""
    fiscal_area.default_priority = ""  # no rule decides: the case waits for triage
    fiscal_area.save()
    case = open_case(area=fiscal_area)
    assert case.status == "triage"

    process.case_triage(case=case, actor=supervisor, priority="high", area=area)
    work = process.active_task(case, CaseFlow.work)
    assert work.owner == consultant
    process.task_release(task=work, actor=consultant)

    assert ids(api(area_supervisor).get(TASKS, {"scope": "available"})) == [work.pk]
    assert ids(api(fiscal_supervisor).get(TASKS, {"scope": "available"})) == []
    assert ids(api(fiscal_consultant).get(TASKS, {"scope": "available"})) == []


def test_a_queue_pages_in_order_without_losing_a_task(api, consultant, open_case):
    """Pages are cut from the ordered queue, then filled in: every task once, in order."""
    cases = [open_case(subject=f"Pratica {n}") for n in range(7)]
    expected = [process.active_task(case, CaseFlow.work).pk for case in cases]
    client = api(consultant)

    for ordering, order in (("created", expected), ("-created", expected[::-1])):
        seen = []
        for page in (1, 2, 3):
            response = client.get(
                TASKS, {"scope": "mine", "page_size": 3, "page": page, "ordering": ordering}
            )
            seen += ids(response)
            assert response.json()["count"] == 7
        assert seen == order


def test_members_have_no_tasks(api, member, assigned_case, released_task):
    assert ids(api(member).get(TASKS)) == []
    assert api(member).get(f"{TASKS}{released_task.pk}/").status_code == 404
    assert api(member).post(f"{TASKS}{released_task.pk}/claim/").status_code == 404


@pytest.mark.parametrize("params", [{"scope": "everything"}, {"step": "lunch"}])
def test_bad_task_filters_are_400(api, consultant, params):
    assert api(consultant).get(TASKS, params).status_code == 400


def test_claim_then_claim_again_is_409(api, consultant, consultant2, released_task):
    first = api(consultant2).post(f"{TASKS}{released_task.pk}/claim/")
    second = api(consultant).post(f"{TASKS}{released_task.pk}/claim/")

    assert first.status_code == 200, first.content
    assert first.json()["owner"]["username"] == "consulente2"
    assert first.json()["status"] == "assigned"
    assert Case.objects.get(pk=released_task.process.caseprocess.case_id).assignee == consultant2
    assert second.status_code == 409
    assert second.json()["code"] == "already_claimed"


def test_release(api, consultant, consultant2, assigned_case):
    work = process.active_task(assigned_case, CaseFlow.work)

    refused = api(consultant2).post(f"{TASKS}{work.pk}/release/")
    released = api(consultant).post(f"{TASKS}{work.pk}/release/")
    again = api(consultant).post(f"{TASKS}{work.pk}/release/")

    assert refused.status_code == 403
    assert released.status_code == 200 and released.json()["owner"] is None
    assert released.json()["status"] == "new"
    assert again.status_code == 409


def test_task_detail_and_unknown_ids(api, consultant, assigned_case):
    work = process.active_task(assigned_case, CaseFlow.work)
    client = api(consultant)

    assert client.get(f"{TASKS}{work.pk}/").json()["id"] == work.pk
    for task_id in ("abc", "99999999", "1.5"):
        assert client.get(f"{TASKS}{task_id}/").status_code == 404
        assert client.post(f"{TASKS}{task_id}/claim/").status_code == 404


def test_other_areas_tasks_are_404(api, fiscal_consultant, fiscal_supervisor, released_task):
    for user in (fiscal_consultant, fiscal_supervisor):
        assert api(user).get(f"{TASKS}{released_task.pk}/").status_code == 404
        assert api(user).post(f"{TASKS}{released_task.pk}/claim/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_exactly_one_wins(process_setup, member, cooperative, office):
    """Many consultants claim the same task at once, each on their own connection."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    consultants = [
        factories.ConsultantFactory(
            user__username=f"rivale{n}", office=office, areas=[process_setup], capacity=50
        ).user
        for n in range(6)
    ]
    case = process.case_open(
        requester=member, cooperative=cooperative, area=process_setup, subject="S", description="D"
    )
    work = process.active_task(case, CaseFlow.work)
    process.task_release(task=work, actor=case.assignee)
    barrier = threading.Barrier(len(consultants))
    answers = []

    def claim(user):
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait()
            response = client.post(f"{TASKS}{work.pk}/claim/")
            answers.append((response.status_code, user.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(user,)) for user in consultants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    codes = sorted(code for code, _ in answers)
    assert codes == [200] + [409] * (len(consultants) - 1)
    winner = next(user_id for code, user_id in answers if code == 200)
    work = Task.objects.get(pk=work.pk)
    assert work.owner_id == winner
    assert Case.objects.get(pk=case.pk).assignee_id == winner
