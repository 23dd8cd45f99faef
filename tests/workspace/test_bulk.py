"""Bulk assignment and change of priority from the staff case list: supervisors only, each case
through the same guarded process call, with a summary of what was done and what was refused."""

import pytest
from django.test import Client
from django.urls import reverse

from casework.models import Case, CaseEvent
from workflows import process

from .case_listing import URL

pytestmark = pytest.mark.django_db

BULK = "/work/cases/bulk/"


@pytest.fixture
def legal_cases(open_case, consultant):
    """Three legal cases of Cooperativa Alfa, each assigned to `consultant`."""
    return [open_case(subject=f"Statuto {n}") for n in range(3)]


@pytest.fixture
def cancelled_case(open_case, consultant, area_supervisor):
    case = open_case(subject="Non serve più")
    return process.case_cancel(case=case, actor=area_supervisor, reason="Ritirata")


@pytest.fixture
def fiscal_assigned(other_area, other_area_consultant, member, cooperative, process_setup):
    case = process.case_open(
        requester=member,
        cooperative=cooperative,
        area=other_area,
        subject="IVA",
        description="Dichiarazione annuale.",
    )
    assert case.assignee == other_area_consultant
    return case


def bulk(client, cases, **data):
    ids = [case if isinstance(case, str) else str(case.pk) for case in cases]
    return client.post(BULK, {"case": ids, "next": f"{URL}?status=assigned", **data}, follow=True)


def message_of(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


def test_a_supervisor_assigns_in_bulk_and_reads_what_was_refused_and_why(
    client, supervisor, colleague, legal_cases, cancelled_case, fiscal_assigned
):
    client.force_login(supervisor)
    first, second, _third = legal_cases

    response = bulk(
        client,
        [first, second, cancelled_case, fiscal_assigned],
        action="assign",
        consultant=colleague.pk,
    )

    assert response.redirect_chain[-1][0] == f"{URL}?status=assigned"
    text = message_of(response)
    assert text.startswith("2 cases assigned; 2 refused: ")
    assert f"{cancelled_case.reference}: A case that is" in text
    assert f"{fiscal_assigned.reference}: consulente2 is not a consultant of the area" in text
    for case in (first, second):
        case.refresh_from_db()
        assert case.assignee == colleague
    fiscal_assigned.refresh_from_db()
    assert fiscal_assigned.assignee.username == "consulente.fiscale"
    assert CaseEvent.objects.filter(kind="assigned", actor=supervisor).count() == 2


def test_a_supervisor_changes_the_priority_in_bulk(
    client, area_supervisor, legal_cases, cancelled_case
):
    client.force_login(area_supervisor)

    response = bulk(client, [*legal_cases, cancelled_case], action="priority", priority="urgent")

    text = message_of(response)
    assert text == (
        "Priority changed on 3 cases; 1 refused: "
        f"{cancelled_case.reference}: The priority of a finished case cannot change."
    )
    assert set(
        Case.objects.filter(pk__in=[c.pk for c in legal_cases]).values_list("priority", flat=True)
    ) == {"urgent"}
    assert Case.objects.get(pk=cancelled_case.pk).priority == "normal"


def test_all_done_is_a_plain_success(client, area_supervisor, colleague, legal_cases):
    client.force_login(area_supervisor)

    response = bulk(client, legal_cases[:1], action="assign", consultant=colleague.pk)

    assert message_of(response) == "1 case assigned."
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_cases_already_as_asked_are_left_alone(client, area_supervisor, consultant, legal_cases):
    client.force_login(area_supervisor)

    response = bulk(client, legal_cases[:2], action="assign", consultant=consultant.pk)
    again = bulk(client, legal_cases, action="priority", priority="normal")

    assert message_of(response) == "0 cases assigned; 2 already assigned to them."
    assert message_of(again) == "Priority changed on 0 cases; 3 already had this priority."
    assert not CaseEvent.objects.filter(actor=area_supervisor).exists()


def test_a_case_of_another_area_is_not_touched_nor_named(
    client, area_supervisor, colleague, legal_cases, fiscal_assigned
):
    client.force_login(area_supervisor)

    response = bulk(client, [legal_cases[0], fiscal_assigned], action="priority", priority="high")

    text = message_of(response)
    assert text == "Priority changed on 1 case; 1 not found among the cases you see."
    assert fiscal_assigned.reference not in text
    assert Case.objects.get(pk=fiscal_assigned.pk).priority == "normal"


def test_one_may_assign_only_to_a_consultant_of_the_areas_one_supervises(
    client, area_supervisor, other_area_consultant, legal_cases
):
    client.force_login(area_supervisor)

    response = bulk(client, legal_cases, action="assign", consultant=other_area_consultant.pk)

    assert "is not one of the available choices" in message_of(response)
    assert {case.assignee.username for case in Case.objects.all()} == {"consulente"}


def test_a_consultant_sees_no_bulk_form_and_may_not_post_one(
    client, consultant, colleague, legal_cases
):
    client.force_login(consultant)

    page = client.get(URL).content.decode()
    response = client.post(
        BULK, {"case": [legal_cases[0].pk], "action": "priority", "priority": "urgent"}
    )

    assert 'id="bulk-actions"' not in page and 'name="case"' not in page
    assert response.status_code == 403
    assert Case.objects.get(pk=legal_cases[0].pk).priority == "normal"


def test_a_supervisor_sees_a_checkbox_on_every_row(client, area_supervisor, legal_cases):
    client.force_login(area_supervisor)

    page = client.get(URL).content.decode()

    assert 'id="bulk-actions"' in page
    for case in legal_cases:
        assert f'name="case" value="{case.pk}" form="bulk-actions"' in page


@pytest.mark.parametrize(
    "cases, data, message",
    [
        ([], {"action": "priority", "priority": "high"}, "Select at least one case."),
        (["abc"], {"action": "priority", "priority": "high"}, "“abc” is not a case."),
        (
            [str(n) for n in range(1, 202)],
            {"action": "priority", "priority": "high"},
            ("At most 200 cases at a time; 201 were selected."),
        ),
        (None, {"action": "assign"}, "Choose the consultant to assign the cases to."),
        (None, {"action": "priority"}, "Choose the new priority."),
        (None, {"action": "close"}, "close is not one of the available choices"),
        (None, {"action": "priority", "priority": "huge"}, "huge is not one of the"),
    ],
)
def test_a_bulk_request_that_does_not_make_sense_changes_nothing(
    client, area_supervisor, legal_cases, cases, data, message
):
    client.force_login(area_supervisor)

    response = bulk(client, legal_cases if cases is None else cases, **data)

    assert response.status_code == 200
    assert message in message_of(response)
    assert not CaseEvent.objects.filter(actor=area_supervisor).exists()


def test_a_bulk_post_needs_the_csrf_token(area_supervisor, legal_cases):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(area_supervisor)

    response = client.post(
        BULK, {"case": [legal_cases[0].pk], "action": "priority", "priority": "urgent"}
    )

    assert response.status_code == 403
    assert Case.objects.get(pk=legal_cases[0].pk).priority == "normal"


def test_the_list_names_the_bulk_url(client, area_supervisor, legal_cases):
    client.force_login(area_supervisor)

    page = client.get(URL).content.decode()

    assert f'action="{reverse("work:cases_bulk")}"' in page
