"""The case's JSON is written by hand for speed; it must stay exactly what its fields declare."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from api.serializers import CaseSerializer
from casework.models import Case
from tests import factories
from workflows import process

pytestmark = pytest.mark.django_db


def both(case, user):
    """(hand-written, DRF's walk over the declared fields) for one reader."""
    request = APIRequestFactory().get("/")
    request.user = user
    serializer = CaseSerializer(context={"request": request})
    declared = serializers.ModelSerializer.to_representation(serializer, case)
    return serializer.to_representation(case), dict(declared)


@pytest.fixture
def cases(open_case, consultant, member, outcome, process_setup):
    """Cases in every shape the JSON has: assigned, unassigned (nobody has the specialty) with a
    specialty, waiting, resolved, closed."""
    fresh = open_case()
    specialty = factories.SpecialtyFactory(area=process_setup, code="statuto")
    with_specialty = open_case(specialty=specialty)
    waiting = open_case()
    process.request_info(case=waiting, actor=consultant, question="Il verbale?")
    resolved = open_case()
    process.resolve(
        case=resolved, actor=consultant, outcome=outcome, summary="Fatto.", minutes_spent=20
    )
    closed = open_case()
    process.resolve(case=closed, actor=consultant, outcome=outcome, summary="Fatto.")
    process.confirm(case=closed, actor=member)
    pks = [c.pk for c in (fresh, with_specialty, waiting, resolved, closed)]
    return list(Case.objects.filter(pk__in=pks).order_by("pk"))


@pytest.mark.parametrize("reader", ["member", "consultant", "supervisor"])
def test_the_hand_written_case_is_the_declared_one(request, cases, reader):
    user = request.getfixturevalue(reader)
    for case in cases:
        fast, declared = both(case, user)
        assert fast == declared, case.status
    assert {c.status for c in cases} == {"assigned", "unassigned", "waiting", "resolved", "closed"}
