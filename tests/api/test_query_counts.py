"""Every list endpoint runs as many SQL queries for 5 rows as for 50: no N+1 can creep in."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.models import Case
from tests import factories
from workflows import process
from workflows.flows import CaseFlow
from workflows.process import case_attach

pytestmark = pytest.mark.django_db

ROWS = 8


def count_queries(client, url, **params) -> tuple[int, int]:
    """(queries, rows) of one list request."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(captured), len(response.json()["results"])


def assert_constant(client, url, **params):
    small, small_rows = count_queries(client, url, page_size=5, **params)
    large, large_rows = count_queries(client, url, page_size=50, **params)
    assert small_rows == 5 and large_rows > 5, (small_rows, large_rows)
    assert small == large, f"{url}: {small} queries for 5 rows, {large} for {large_rows}"
    return small


@pytest.fixture
def busy(open_case, consultant, member, supervisor, other_case):
    """Several cases, one of them with many messages (and documents) and a long timeline."""
    cases = [open_case(specialty=None) for _ in range(ROWS)]
    case = cases[0]
    for n in range(ROWS):
        message = process.case_post_message(case=case, author=member, body=f"Messaggio {n}")
        case_attach(
            case=case,
            uploaded_by=member,
            file=SimpleUploadedFile(f"doc{n}.pdf", b"%PDF-1.4 doc"),
            message=message,
        )
        process.case_post_message(case=case, author=consultant, body=f"Nota {n}", internal=True)
        process.case_record_time(case=case, actor=consultant, minutes=5)
    Case.objects.filter(pk__in=[c.pk for c in cases[1:4]]).update(sla_state="at_risk")
    return cases


@pytest.mark.parametrize("who", ["member", "consultant", "supervisor"])
def test_case_list(request, api, busy, who):
    client = api(request.getfixturevalue(who))

    assert_constant(client, "/api/v1/cases/")
    assert_constant(client, "/api/v1/cases/", ordering="-priority_rank", status="assigned")


@pytest.mark.parametrize("who", ["member", "consultant"])
def test_case_children(request, api, busy, who):
    client = api(request.getfixturevalue(who))
    case = busy[0]

    assert_constant(client, f"/api/v1/cases/{case.pk}/messages/")
    assert_constant(client, f"/api/v1/cases/{case.pk}/attachments/")
    assert_constant(client, f"/api/v1/cases/{case.pk}/events/")


def test_task_lists(api, busy, consultant, area_supervisor, consultant2):
    client = api(consultant)
    assert_constant(client, "/api/v1/tasks/", scope="mine")
    assert_constant(client, "/api/v1/tasks/")

    for case in busy:
        process.task_release(task=process.active_task(case, CaseFlow.work), actor=consultant)
    assert_constant(api(consultant2), "/api/v1/tasks/", scope="available")
    assert_constant(api(area_supervisor), "/api/v1/tasks/", scope="available", step="work")


def test_sla_cases(api, busy, supervisor):
    Case.objects.update(sla_state="at_risk")

    assert_constant(api(supervisor), "/api/v1/sla/cases/")
    assert_constant(api(supervisor), "/api/v1/sla/cases/", state="at_risk")


def test_areas(api, member, process_setup):
    for n in range(ROWS):
        area = factories.AreaFactory(code=f"area{n}", reference_prefix=f"AR{chr(65 + n)}")
        factories.SpecialtyFactory(area=area)
        factories.OutcomeFactory(area=area)

    assert_constant(api(member), "/api/v1/areas/")


def _statements(captured) -> list[str]:
    """What the database did, without the savepoints Django's nested atomic blocks add."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.mark.parametrize("rules_decide", [True, False], ids=["routed", "to_triage"])
def test_an_intake_is_a_bounded_number_of_statements(
    api, member, cooperative, consultant, process_setup, rules_decide
):
    """Intake, rules, routing and the process start in at most 30 statements (issue 7)."""
    if not rules_decide:
        process_setup.default_priority = ""
        process_setup.save()
    client = api(member)
    body = {
        "cooperative": cooperative.pk,
        "area": "legal",
        "subject": "Assemblea",
        "description": "Come convocarla?",
    }
    client.post("/api/v1/cases/", body, format="json")  # the first one creates the counter row

    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/cases/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == ("assigned" if rules_decide else "triage")
    statements = _statements(captured)
    assert len(statements) <= 30, "\n".join(statements)
    # The one savepoint is the intake's own transaction inside the test's: viewflow's start
    # takes none (it would be three, two round trips each).
    savepoints = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1, savepoints
