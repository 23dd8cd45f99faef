"""Every role's actions on a case over the API: allowed, refused (403), out of state (409)."""

import pytest
from viewflow.workflow.models import Task

from casework.models import Case, CaseEvent, Rating
from workflows import process
from workflows.flows import CaseFlow

pytestmark = pytest.mark.django_db


def act(client, case, name, data=None):
    return client.post(f"/api/v1/cases/{case.pk}/{name}/", data or {}, format="json")


def test_the_whole_story_over_the_api(api, member, consultant, assigned_case, outcome):
    """Consultant acknowledges, asks, the member answers, resolved, confirmed, rated."""
    expert, coop = api(consultant), api(member)

    response = act(expert, assigned_case, "acknowledge", {"body": "Ci penso io."})
    assert response.status_code == 200, response.content
    assert response.json()["sla"]["first_response_at"] is not None

    response = act(expert, assigned_case, "request-info", {"question": "Il verbale?"})
    assert response.json()["status"] == "waiting"
    assert response.json()["sla"]["paused"] is True

    response = act(coop, assigned_case, "provide-info", {"body": "Eccolo."})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "assigned"

    response = act(expert, assigned_case, "record-time", {"minutes": 30, "note": "Lettura"})
    assert response.json()["staff"]["minutes_spent"] == 30

    response = act(
        expert,
        assigned_case,
        "resolve",
        {"outcome": "opinion_issued", "summary": "Parere inviato.", "minutes_spent": 15},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "resolved"
    assert body["outcome"] == {"code": "opinion_issued", "label": "Parere rilasciato"}
    assert body["staff"]["minutes_spent"] == 45

    response = act(coop, assigned_case, "confirm")
    assert response.json()["status"] == "closed"

    response = act(coop, assigned_case, "rate", {"score": 5, "comment": "Ottimo"})
    assert response.status_code == 200
    assert Rating.objects.get(case=assigned_case).score == 5
    assigned_case.refresh_from_db()
    assert assigned_case.process.status == "DONE"


def test_member_answer_as_a_message_resumes_the_case(api, member, consultant, assigned_case):
    act(api(consultant), assigned_case, "request-info", {"question": "Il verbale?"})

    response = api(member).post(
        f"/api/v1/cases/{assigned_case.pk}/messages/", {"body": "Eccolo"}, format="json"
    )

    assert response.status_code == 201
    assigned_case.refresh_from_db()
    assert assigned_case.status == "assigned"


def test_reopen(api, member, consultant, assigned_case, outcome):
    process.case_resolve(case=assigned_case, actor=consultant, outcome=outcome, summary="Fatto")

    response = act(api(member), assigned_case, "reopen", {"reason": "Non basta"})

    assert response.status_code == 200
    assert response.json()["status"] == "assigned"


def test_hand_back(api, consultant, assigned_case):
    response = act(api(consultant), assigned_case, "hand-back", {"reason": "Conflitto"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "unassigned"
    assert process.active_task(assigned_case, CaseFlow.assign_manually) is not None


# --- Refusals: the role may see the case but not do this ------------------------------------


@pytest.mark.parametrize(
    "name, data",
    [
        ("acknowledge", {}),
        ("request-info", {"question": "?"}),
        ("resolve", {"outcome": "opinion_issued", "summary": "x"}),
        ("record-time", {"minutes": 5}),
        ("hand-back", {"reason": "x"}),
        ("assign", {"consultant": "consulente"}),
        ("priority", {"priority": "high"}),
        ("cancel", {"reason": "x"}),
        ("triage", {"priority": "high"}),
        ("reject", {"reason": "duplicate", "explanation": "x"}),
    ],
)
def test_member_may_not_do_staff_actions(api, member, assigned_case, outcome, name, data):
    response = act(api(member), assigned_case, name, data)

    assert response.status_code == 403, response.content
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "name, data",
    [
        ("confirm", {}),
        ("reopen", {"reason": "x"}),
        ("rate", {"score": 3}),
        ("provide-info", {"body": "x"}),
    ],
)
def test_consultant_may_not_answer_for_the_cooperative(api, consultant, assigned_case, name, data):
    response = act(api(consultant), assigned_case, name, data)

    assert response.status_code == 403


@pytest.mark.parametrize(
    "name, data",
    [
        ("assign", {"consultant": "consulente2"}),
        ("priority", {"priority": "high"}),
        ("cancel", {"reason": "x"}),
    ],
)
def test_consultant_may_not_supervise(api, consultant, consultant2, assigned_case, name, data):
    response = act(api(consultant), assigned_case, name, data)

    assert response.status_code == 403


def test_other_consultant_of_the_area_may_not_resolve(api, consultant2, assigned_case, outcome):
    response = act(
        api(consultant2), assigned_case, "resolve", {"outcome": "opinion_issued", "summary": "x"}
    )

    assert response.status_code == 403


def test_supervisor_of_another_area_cannot_even_see_it(api, fiscal_supervisor, assigned_case):
    response = act(api(fiscal_supervisor), assigned_case, "priority", {"priority": "high"})

    assert response.status_code == 404


# --- Supervision -----------------------------------------------------------------------------


def test_supervisor_changes_priority_assigns_and_cancels(
    api, area_supervisor, consultant, consultant2, assigned_case
):
    client = api(area_supervisor)

    response = act(client, assigned_case, "priority", {"priority": "urgent"})
    assert response.status_code == 200 and response.json()["priority"] == "urgent"

    response = act(client, assigned_case, "assign", {"consultant": "consulente2"})
    assert response.status_code == 200, response.content
    assert response.json()["assignee"]["username"] == "consulente2"
    assert process.active_task(assigned_case, CaseFlow.work).owner == consultant2

    response = act(client, assigned_case, "assign", {"consultant": str(consultant.pk)})
    assert response.json()["assignee"]["username"] == "consulente"

    response = act(client, assigned_case, "cancel", {"reason": "Doppione"})
    assert response.json()["status"] == "cancelled"


def test_triage(api, area_supervisor, consultant, triage_case, fiscal_area):
    response = act(api(area_supervisor), triage_case, "triage", {"priority": "high"})

    assert response.status_code == 200, response.content
    assert response.json()["priority"] == "high"
    assert response.json()["status"] == "assigned"


def test_triage_into_an_area_one_does_not_supervise_is_403(
    api, area_supervisor, triage_case, fiscal_area
):
    response = act(
        api(area_supervisor), triage_case, "triage", {"priority": "high", "area": "fiscal"}
    )

    assert response.status_code == 403


def test_reject(api, supervisor, member, triage_case):
    response = act(
        api(supervisor),
        triage_case,
        "reject",
        {"reason": "out_of_scope", "explanation": "Non di nostra competenza"},
    )

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["rejection_reason"] == "out_of_scope"


# --- State conflicts and bad input -------------------------------------------------------------


def test_conflicts_are_409(api, member, consultant, assigned_case, outcome):
    expert, coop = api(consultant), api(member)

    assert act(coop, assigned_case, "confirm").status_code == 409
    assert act(coop, assigned_case, "provide-info", {"body": "x"}).status_code == 409
    assert act(coop, assigned_case, "rate", {"score": 4}).status_code == 409
    act(expert, assigned_case, "acknowledge")
    assert act(expert, assigned_case, "acknowledge").status_code == 409
    act(expert, assigned_case, "resolve", {"outcome": "opinion_issued", "summary": "x"})
    response = act(expert, assigned_case, "resolve", {"outcome": "opinion_issued", "summary": "x"})
    assert response.status_code == 409
    assert response.json()["code"]


def test_cannot_claim_a_triage_task_as_a_consultant(api, triage_case, consultant):
    task = Task.objects.get(process=triage_case.process, flow_task=CaseFlow.triage)

    response = api(consultant).post(f"/api/v1/tasks/{task.pk}/claim/")

    assert response.status_code == 404


@pytest.mark.parametrize(
    "name, data",
    [
        ("resolve", {"outcome": "opinion_issued", "summary": "x", "minutes_spent": "abc"}),
        ("resolve", {"outcome": "opinion_issued", "summary": "x", "minutes_spent": -1}),
        ("resolve", {"outcome": "opinion_issued", "summary": ""}),
        ("resolve", {"outcome": "no_such_outcome", "summary": "x"}),
        ("resolve", {"outcome": ["a"], "summary": {"x": 1}}),
        ("record-time", {"minutes": "abc"}),
        ("record-time", {"minutes": 0}),
        ("record-time", {"minutes": 10**12}),
        ("request-info", {}),
        ("hand-back", {"reason": "   "}),
    ],
)
def test_bad_input_is_400(api, consultant, assigned_case, outcome, name, data):
    response = act(api(consultant), assigned_case, name, data)

    assert response.status_code == 400, response.content


@pytest.mark.parametrize(
    "name, data",
    [
        ("priority", {"priority": "asap"}),
        ("assign", {"consultant": "nobody"}),
        ("assign", {"consultant": "99999"}),
        ("reject", {"reason": "because", "explanation": "x"}),
        ("triage", {"priority": "high", "specialty": "nope"}),
        ("triage", {"priority": "high", "area": "nope"}),
    ],
)
def test_bad_supervisor_input_is_400(api, supervisor, assigned_case, name, data):
    response = act(api(supervisor), assigned_case, name, data)

    assert response.status_code == 400, response.content


def test_a_field_error_is_a_list_of_messages(api, supervisor, triage_case):
    """As the schema documents it, also for the specialty checked once the area is known."""
    response = act(api(supervisor), triage_case, "triage", {"priority": "high", "specialty": "x"})

    assert response.status_code == 400
    [message] = response.json()["specialty"]
    assert isinstance(message, str) and message


def test_assigning_a_consultant_of_another_area_is_400(
    api, supervisor, assigned_case, fiscal_consultant
):
    response = act(api(supervisor), assigned_case, "assign", {"consultant": "consulente.fiscale"})

    assert response.status_code == 400
    assert response.json()["code"] == "not_in_area"


def test_non_json_body_is_400_or_415(api, consultant, assigned_case):
    client = api(consultant)
    url = f"/api/v1/cases/{assigned_case.pk}/record-time/"

    broken = client.post(url, "{not json", content_type="application/json")
    xml = client.post(url, "<minutes>5</minutes>", content_type="application/xml")

    assert broken.status_code == 400
    assert xml.status_code == 415


def test_actions_are_recorded_as_events(api, consultant, assigned_case):
    act(api(consultant), assigned_case, "record-time", {"minutes": 20})

    assert CaseEvent.objects.filter(case=assigned_case, kind="time_recorded").exists()
    assert Case.objects.get(pk=assigned_case.pk).minutes_spent == 20
