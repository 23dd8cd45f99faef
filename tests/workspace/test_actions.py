"""Each action of the case page through the page: the case changes and the event is recorded.

These are the forms besides the composer (the one-click acknowledgement, supervision, the task
queue); what the composer sends (reply, note, request for information, resolution, hand-back,
time) and its refusals are in test_composer.py.
"""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from viewflow.workflow.models import Task

from casework.models import Case, CaseEvent, Consultant, Message
from workflows import process
from workflows.flows import CaseFlow

from .conftest import work_task_of

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _events(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))


@pytest.fixture
def act(client):
    """POST one action of the case page as someone; returns the response."""

    def act(user, case, slug, **data):
        client.force_login(user)
        fields = {f"{slug}-{name}": value for name, value in data.items()}
        return client.post(reverse(f"work:{slug.replace('-', '_')}", args=[case.pk]), fields)

    return act


def _redirects_to_case(response, case):
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("work:case", args=[case.pk])


# --- The consultant's work -----------------------------------------------------------------


def test_acknowledge(act, consultant, assigned_case):
    response = act(consultant, assigned_case, "acknowledge", body="")

    _redirects_to_case(response, assigned_case)
    assigned_case.refresh_from_db()
    assert assigned_case.first_response_at is not None
    assert "acknowledged" in _events(assigned_case)
    assert _messages(response) == [f"First response sent on {assigned_case.reference}."]
    [message] = Message.objects.filter(case=assigned_case)
    assert message.internal is False and message.body.startswith("Hello, I have taken charge")


def test_acknowledging_a_case_assigned_to_someone_else_is_refused(act, colleague, assigned_case):
    before = _events(assigned_case)

    response = act(colleague, assigned_case, "acknowledge", body="")

    _redirects_to_case(response, assigned_case)
    assert _messages(response) == ["Only the consultant assigned to the case may do this."]
    assigned_case.refresh_from_db()
    assert assigned_case.first_response_at is None
    assert _events(assigned_case) == before


def test_the_refusal_is_shown_on_the_case_page(client, colleague, assigned_case):
    client.force_login(colleague)

    response = client.post(
        reverse("work:acknowledge", args=[assigned_case.pk]), {"acknowledge-body": ""}, follow=True
    )

    assert response.status_code == 200
    assert "Only the consultant assigned to the case may do this." in response.content.decode()


# --- Supervision ---------------------------------------------------------------------------


def test_triage(act, area_supervisor, triage_case, consultant):
    response = act(
        area_supervisor,
        triage_case,
        "triage",
        area=triage_case.area_id,
        specialty="",
        priority="urgent",
    )

    _redirects_to_case(response, triage_case)
    triage_case.refresh_from_db()
    assert triage_case.priority == "urgent"
    assert triage_case.status == "assigned" and triage_case.assignee == consultant
    assert CaseEvent.objects.filter(
        case=triage_case, kind="triaged", actor=area_supervisor
    ).exists()


def test_reject(act, area_supervisor, triage_case):
    response = act(
        area_supervisor, triage_case, "reject", reason="duplicate", explanation="Vedi LEG-1"
    )

    _redirects_to_case(response, triage_case)
    triage_case.refresh_from_db()
    assert triage_case.status == "rejected" and triage_case.rejection_reason == "duplicate"
    assert "rejected" in _events(triage_case)


def test_reassign(act, area_supervisor, assigned_case, colleague):
    profile = Consultant.objects.get(user=colleague)

    response = act(area_supervisor, assigned_case, "assign", consultant=profile.pk)

    _redirects_to_case(response, assigned_case)
    assigned_case.refresh_from_db()
    assert assigned_case.assignee == colleague
    assert "assigned" in _events(assigned_case)
    assert work_task_of(assigned_case).owner == colleague


def test_assign_from_the_manual_queue(act, area_supervisor, open_case, consultant, colleague):
    # Routing skips absent consultants; a supervisor may still assign one of them.
    Consultant.objects.filter(user__in=[consultant, colleague]).update(absent_until="2099-12-31")
    case = open_case()
    assert case.status == "unassigned"

    response = act(
        area_supervisor, case, "assign", consultant=Consultant.objects.get(user=colleague).pk
    )

    _redirects_to_case(response, case)
    case.refresh_from_db()
    assert case.status == "assigned" and case.assignee == colleague
    assert work_task_of(case).owner == colleague


def test_change_priority(act, area_supervisor, assigned_case):
    response = act(area_supervisor, assigned_case, "priority", priority="high")

    _redirects_to_case(response, assigned_case)
    assigned_case.refresh_from_db()
    assert assigned_case.priority == "high"
    assert "priority_changed" in _events(assigned_case)


def test_cancel(act, area_supervisor, assigned_case):
    response = act(area_supervisor, assigned_case, "cancel", reason="Richiesta ritirata")

    _redirects_to_case(response, assigned_case)
    assigned_case.refresh_from_db()
    assert assigned_case.status == "cancelled"
    assert "cancelled" in _events(assigned_case)
    assert not Task.objects.filter(
        process__caseprocess__case=assigned_case, status__in=["NEW", "ASSIGNED"]
    ).exists()


def test_complete_a_follow_up(client, area_supervisor, follow_up_task, rated_case):
    client.force_login(area_supervisor)

    response = client.post(
        reverse("work:follow_up", args=[follow_up_task.pk]),
        {"follow-up-note": "Chiamato il presidente"},
    )

    assert response.status_code == 302
    follow_up_task.refresh_from_db()
    assert follow_up_task.status == "DONE"
    event = CaseEvent.objects.get(case=rated_case, kind="follow_up")
    assert event.actor == area_supervisor and event.note == "Chiamato il presidente"


# --- The task queue ------------------------------------------------------------------------


def test_claim_and_release(client, colleague, released_case):
    task = work_task_of(released_case)
    client.force_login(colleague)

    claimed = client.post(reverse("work:claim", args=[task.pk]))

    assert claimed["Location"] == reverse("work:case", args=[released_case.pk])
    released_case.refresh_from_db()
    assert released_case.assignee == colleague
    assert "claimed" in _events(released_case)

    released = client.post(reverse("work:release", args=[task.pk]))

    assert released["Location"] == reverse("work:inbox")
    released_case.refresh_from_db()
    assert released_case.status == "unassigned" and released_case.assignee is None
    task.refresh_from_db()
    assert task.owner is None


def test_a_supervisor_claims_a_triage_task(client, area_supervisor, triage_case):
    task = process.active_task(triage_case, CaseFlow.triage)
    client.force_login(area_supervisor)

    client.post(reverse("work:claim", args=[task.pk]))

    task.refresh_from_db()
    assert task.owner == area_supervisor
    inbox = client.get(reverse("work:inbox")).content.decode()
    assert triage_case.reference in inbox


# --- Refused moves -------------------------------------------------------------------------


def test_claiming_an_already_claimed_task_is_refused(client, consultant, colleague, released_case):
    task = work_task_of(released_case)
    process.task_claim(task=task, actor=consultant)
    client.force_login(colleague)

    response = client.post(reverse("work:claim", args=[task.pk]), {"next": reverse("work:queue")})

    assert response["Location"] == reverse("work:queue")
    assert _messages(response) == [
        "This task has already been claimed by someone else; nothing was changed."
    ]
    task.refresh_from_db()
    assert task.owner == consultant
    released_case.refresh_from_db()
    assert released_case.assignee == consultant


def test_claim_does_not_follow_an_outside_next(client, colleague, released_case):
    client.force_login(colleague)
    process.task_claim(task=work_task_of(released_case), actor=colleague)

    response = client.post(
        reverse("work:claim", args=[work_task_of(released_case).pk]),
        {"next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("work:queue")


def test_triage_into_an_area_not_supervised_is_refused_on_the_form(
    act, area_supervisor, triage_case, other_area
):
    response = act(
        area_supervisor, triage_case, "triage", area=other_area.pk, specialty="", priority="low"
    )

    assert response.status_code == 400
    assert "id_triage-area_errors" in response.content.decode()
    triage_case.refresh_from_db()
    assert triage_case.status == "triage"


def test_claiming_a_task_of_a_cancelled_case_is_refused(
    client, colleague, area_supervisor, released_case
):
    task = work_task_of(released_case)
    process.case_cancel(case=released_case, actor=area_supervisor, reason="Ritirata")
    client.force_login(colleague)

    response = client.post(reverse("work:claim", args=[task.pk]))

    assert _messages(response) == ["This task is already finished; nothing was changed."]
    task.refresh_from_db()
    assert task.owner is None


def test_a_consultant_cannot_cancel(act, consultant, assigned_case):
    response = act(consultant, assigned_case, "cancel", reason="Non mi piace")

    _redirects_to_case(response, assigned_case)
    assert _messages(response) == ["Only a supervisor of this area may do this."]
    assert Case.objects.get(pk=assigned_case.pk).status == "assigned"


def test_a_done_follow_up_cannot_be_completed_twice(client, area_supervisor, follow_up_task):
    process.case_follow_up(task=follow_up_task, actor=area_supervisor, note="Fatto")
    client.force_login(area_supervisor)

    page = client.get(reverse("work:follow_up", args=[follow_up_task.pk]))
    response = client.post(
        reverse("work:follow_up", args=[follow_up_task.pk]), {"follow-up-note": "Ancora"}
    )

    assert "Fatto" in page.content.decode()
    assert _messages(response) == ["This follow-up is already done."]
    assert CaseEvent.objects.filter(kind="follow_up").count() == 1
