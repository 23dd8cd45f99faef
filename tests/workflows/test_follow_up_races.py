"""Simultaneous claims and completions of a follow-up task: one winner, a 409 for the others.

A low rating opens a follow-up (FollowUpFlow.review) for the area's supervisors; a double-click
is enough to race for it. Each racer is a thread with its own database connection, released
together at a barrier, as two requests of two workers are.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from casework.errors import ConflictError
from casework.models import CaseEvent
from tests import factories
from workflows import process
from workflows.flows import FollowUpFlow

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 4


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")


@pytest.fixture
def supervisors(process_setup):
    return [
        factories.SupervisorFactory(
            user__username=f"supervisore{n}", all_areas=False, areas=[process_setup]
        ).user
        for n in range(RACERS)
    ]


@pytest.fixture
def follow_up(process_setup, member, cooperative, consultant, outcome) -> Task:
    """The follow-up task of a case its cooperative rated 1 of 5."""
    case = process.case_open(
        requester=member, cooperative=cooperative, area=process_setup, subject="S", description="D"
    )
    process.case_resolve(
        case=case, actor=consultant, outcome=outcome, summary="Fatto", minutes_spent=5
    )
    process.case_confirm(case=case, actor=member)
    process.case_rate(case=case, actor=member, score=1, comment="Lenti")
    return Task.objects.get(process__followupprocess__case=case, flow_task=FollowUpFlow.review)


def _race(actors, act):
    """`act(actor)` for every actor at once, each in a thread of its own; results in order."""
    barrier = threading.Barrier(len(actors))
    results = [None] * len(actors)

    def run(index, actor):
        try:
            barrier.wait()
            results[index] = act(actor)
        except Exception as error:  # noqa: BLE001 - the test looks at every outcome
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _one_winner(results):
    winners = [r for r in results if not isinstance(r, Exception)]
    refusals = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, ConflictError) for r in refusals), results
    return winners[0]


def test_simultaneous_claims_of_a_follow_up_one_wins(supervisors, follow_up):
    results = _race(supervisors, lambda user: process.task_claim(task=follow_up.pk, actor=user))

    winner = _one_winner(results)
    assert {r.code for r in results if isinstance(r, ConflictError)} == {"already_claimed"}
    task = Task.objects.get(pk=follow_up.pk)
    assert (task.status, task.owner_id) == ("ASSIGNED", winner.owner_id)


def test_simultaneous_completions_of_a_follow_up_one_wins(supervisors, follow_up):
    results = _race(
        supervisors,
        lambda user: process.case_follow_up(
            task=follow_up.pk, actor=user, note=f"Chiamato da {user.username}"
        ),
    )

    _one_winner(results)
    assert {r.code for r in results if isinstance(r, ConflictError)} == {"done"}
    assert Task.objects.get(pk=follow_up.pk).status == "DONE"
    assert CaseEvent.objects.filter(kind="follow_up").count() == 1


def test_a_claim_and_a_completion_at_once_leave_one_consistent_state(supervisors, follow_up):
    claimer, completer = supervisors[:2]

    def act(user):
        if user == claimer:
            return process.task_claim(task=follow_up.pk, actor=user)
        return process.case_follow_up(task=follow_up.pk, actor=user, note="Fatto")

    results = _race([claimer, completer], act)

    assert not [r for r in results if not isinstance(r, ConflictError | Task)], results
    assert Task.objects.get(pk=follow_up.pk).status in ("ASSIGNED", "DONE")
    assert CaseEvent.objects.filter(kind="follow_up").count() == (
        1 if Task.objects.get(pk=follow_up.pk).status == "DONE" else 0
    )


def test_double_click_on_claim_through_the_api(supervisors, follow_up):
    url = f"/api/v1/tasks/{follow_up.pk}/claim/"

    def claim(user):
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(user)
        response = client.post(url)
        # The connection is still usable afterwards: no transaction was left aborted.
        after = client.get(f"/api/v1/tasks/{follow_up.pk}/")
        return response.status_code, response.json(), after.status_code

    results = _race([supervisors[0]] * 2 + supervisors[1:], claim)

    assert sorted(code for code, _body, _after in results) == [200] + [409] * (len(results) - 1)
    assert all(body.get("detail") for code, body, _after in results if code == 409)
    assert all(after == 200 for _code, _body, after in results)


def test_double_click_on_the_follow_up_page(supervisors, follow_up):
    url = reverse("work:follow_up", args=[follow_up.pk])

    def submit(user):
        browser = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
        browser.force_login(user)
        response = browser.post(url, {"follow-up-note": "Chiamato il presidente"})
        messages = [str(m) for m in get_messages(response.wsgi_request)]
        return response.status_code, response.get("Location"), messages

    results = _race([supervisors[0]] * 2, submit)

    assert [code for code, _where, _messages in results] == [302, 302], results
    case_page = reverse("work:case", args=[follow_up.process.coerced.case_id])
    recorded = [r for r in results if r[1] == case_page]
    refused = [r for r in results if r[1] == url]
    assert len(recorded) == 1 and len(refused) == 1, results
    assert refused[0][2] == ["This follow-up is already done."]
    assert CaseEvent.objects.filter(kind="follow_up").count() == 1
