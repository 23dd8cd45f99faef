"""Cases, events and tasks are written out by hand for speed; the JSON must stay exactly what
their declared fields produce (what the schema documents)."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory
from viewflow.workflow.models import Task

from api.serializers import CaseSerializer, EventSerializer, TaskSerializer
from casework.models import Case
from tests import factories
from workflows import process
from workflows.selectors import with_case

pytestmark = pytest.mark.django_db


def both(case, user):
    """(hand-written, DRF's walk over the declared fields) for one reader."""
    request = APIRequestFactory().get("/")
    request.user = user
    serializer = CaseSerializer(context={"request": request})
    declared = serializers.ModelSerializer.to_representation(serializer, case)
    return serializer.to_representation(case), dict(declared)


@pytest.fixture
def cases_of_every_shape(open_case, consultant, member, outcome, process_setup):
    """Cases in every shape the JSON has: assigned, unassigned (nobody has the specialty) with a
    specialty, waiting, resolved, closed."""
    fresh = open_case()
    specialty = factories.SpecialtyFactory(area=process_setup, code="statuto")
    with_specialty = open_case(specialty=specialty)
    waiting = open_case()
    process.case_request_info(case=waiting, actor=consultant, question="Il verbale?")
    resolved = open_case()
    process.case_resolve(
        case=resolved, actor=consultant, outcome=outcome, summary="Fatto.", minutes_spent=20
    )
    closed = open_case()
    process.case_resolve(case=closed, actor=consultant, outcome=outcome, summary="Fatto.")
    process.case_confirm(case=closed, actor=member)
    pks = [c.pk for c in (fresh, with_specialty, waiting, resolved, closed)]
    return list(Case.objects.filter(pk__in=pks).order_by("pk"))


@pytest.mark.parametrize("reader", ["member", "consultant", "supervisor"])
def test_the_hand_written_case_is_the_declared_one(request, cases_of_every_shape, reader):
    user = request.getfixturevalue(reader)
    for case in cases_of_every_shape:
        fast, declared = both(case, user)
        assert fast == declared, case.status
    assert {c.status for c in cases_of_every_shape} == {
        "assigned",
        "unassigned",
        "waiting",
        "resolved",
        "closed",
    }


@pytest.mark.parametrize("staff", [True, False], ids=["staff", "member"])
def test_the_hand_written_event_is_the_declared_one(cases_of_every_shape, staff):
    events = [
        event for case in cases_of_every_shape for event in case.events.select_related("actor")
    ]
    serializer = EventSerializer(context={"staff": staff})
    for event in events:
        declared = dict(serializers.ModelSerializer.to_representation(serializer, event))
        assert serializer.to_representation(event) == declared, event.kind
    assert {e.kind for e in events} >= {"opened", "routed", "info_requested", "resolved"}
    assert any(e.actor is None for e in events) and any(e.actor for e in events)


def test_the_hand_written_task_is_the_declared_one(cases_of_every_shape, consultant, supervisor):
    tasks = list(
        with_case(Task.objects.filter(process__caseprocess__case__in=cases_of_every_shape))
    )
    serializer = TaskSerializer()
    for task in tasks:
        declared = dict(serializers.Serializer.to_representation(serializer, task))
        assert serializer.to_representation(task) == declared, task.flow_task
    assert {t.status for t in tasks} >= {"DONE", "ASSIGNED"}
