"""Cases over the API: who sees which, intake with and without an Idempotency-Key, filters."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from casework.models import Case, IdempotencyKey
from tests import factories

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"


def intake(cooperative, **extra):
    return {
        "cooperative": cooperative.pk,
        "area": "legal",
        "subject": "Assemblea dei soci",
        "description": "Come convocare l'assemblea straordinaria?",
        **extra,
    }


# --- Reading -------------------------------------------------------------------------------


def test_anonymous_gets_401(api, assigned_case):
    assert api().get(CASES).status_code == 401
    assert api().get(f"{CASES}{assigned_case.pk}/").status_code == 401


def test_member_sees_only_their_cooperatives_cases(api, member, assigned_case, other_case):
    response = api(member).get(CASES)

    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [assigned_case.pk]


@pytest.mark.parametrize(
    "who, sees_other",
    [
        ("consultant", True),
        ("supervisor", True),
        ("area_supervisor", True),
        ("admin_user", True),
        ("fiscal_consultant", False),
        ("fiscal_supervisor", False),
        ("outsider", False),
    ],
)
def test_staff_see_their_areas_cases(request, api, who, sees_other, assigned_case, other_case):
    user = request.getfixturevalue(who)

    ids = {c["id"] for c in api(user).get(CASES).json()["results"]}

    expected = {assigned_case.pk, other_case.pk} if sees_other else set()
    assert ids == expected


def test_case_representation(api, member, consultant, assigned_case):
    body = api(member).get(f"{CASES}{assigned_case.pk}/").json()

    assert body["reference"].startswith("LEG-")
    assert body["cooperative"] == {"id": assigned_case.cooperative_id, "name": "Cooperativa Alfa"}
    assert body["area"] == "legal"
    assert body["status"] == "assigned" and body["priority"] == "normal"
    assert body["assignee"]["username"] == "consulente"
    assert body["outcome"] is None
    assert set(body["sla"]) == {
        "state",
        "first_response_due_at",
        "resolution_due_at",
        "first_response_at",
        "resolved_at",
        "paused",
        "clocks",
    }
    assert body["sla"]["state"] == "on_track" and body["sla"]["paused"] is False
    assert body["sla"]["clocks"]["first_response"]["state"] == "on_track"


def test_staff_only_fields(api, member, consultant, assigned_case):
    from workflows import process

    process.case_post_message(case=assigned_case, author=consultant, body="Nota", internal=True)

    as_member = api(member).get(f"{CASES}{assigned_case.pk}/").json()
    as_staff = api(consultant).get(f"{CASES}{assigned_case.pk}/").json()

    assert as_member["staff"] is None
    assert as_staff["staff"]["internal_notes_count"] == 1
    assert as_staff["staff"]["minutes_spent"] == 0


@pytest.mark.parametrize("case_id", ["abc", "999999", "1.5", "-1"])
def test_unknown_or_malformed_id_is_404(api, member, assigned_case, case_id):
    response = api(member).get(f"{CASES}{case_id}/")

    assert response.status_code == 404
    assert "detail" in response.json()


def test_filters(api, supervisor, open_case, assigned_case, fiscal_area, member, cooperative):
    urgent = open_case(priority="urgent", subject="Urgente")
    Case.objects.filter(pk=urgent.pk).update(priority="urgent", sla_state="at_risk")
    client = api(supervisor)

    def ids(**params):
        response = client.get(CASES, params)
        assert response.status_code == 200, response.content
        return {c["id"] for c in response.json()["results"]}

    assert ids(priority="urgent") == {urgent.pk}
    assert ids(sla="at_risk") == {urgent.pk}
    assert ids(status="assigned") == {urgent.pk, assigned_case.pk}
    assert ids(area="fiscal") == set()
    assert ids(cooperative=cooperative.pk) == {urgent.pk, assigned_case.pk}
    assert ids(assignee="consulente") == {urgent.pk, assigned_case.pk}
    assert ids(assignee=str(assigned_case.assignee_id)) == {urgent.pk, assigned_case.pk}


@pytest.mark.parametrize(
    "params", [{"status": "nope"}, {"cooperative": "abc"}, {"sla": "late"}, {"ordering": "x"}]
)
def test_bad_filter_values_are_400_or_ignored_never_500(api, supervisor, assigned_case, params):
    response = api(supervisor).get(CASES, params)

    assert response.status_code in (200, 400)


def test_ordering_by_priority(api, supervisor, open_case):
    low = open_case(priority="low")
    high = open_case(priority="high")
    Case.objects.filter(pk=low.pk).update(priority="low")
    Case.objects.filter(pk=high.pk).update(priority="high")

    results = api(supervisor).get(CASES, {"ordering": "-priority_rank"}).json()["results"]

    assert [c["id"] for c in results] == [high.pk, low.pk]


def test_bad_page_is_404(api, member, assigned_case):
    assert api(member).get(CASES, {"page": "abc"}).status_code == 404
    assert api(member).get(CASES, {"page": "99"}).status_code == 404
    assert api(member).get(CASES, {"page_size": "abc"}).status_code == 200


# --- Intake --------------------------------------------------------------------------------


def test_member_opens_a_case(api, member, cooperative, process_setup, consultant):
    response = api(member).post(CASES, intake(cooperative), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "assigned"
    assert body["assignee"]["username"] == "consulente"
    assert Case.objects.get(pk=body["id"]).requester == member


def test_intake_with_specialty_by_code_or_id(api, member, cooperative, process_setup):
    specialty = factories.SpecialtyFactory(area=process_setup, code="statuto")
    client = api(member)

    by_code = client.post(CASES, intake(cooperative, specialty="statuto"), format="json")
    by_id = client.post(CASES, intake(cooperative, specialty=str(specialty.pk)), format="json")
    unknown = client.post(CASES, intake(cooperative, specialty="nope"), format="json")

    assert by_code.json()["specialty"]["code"] == "statuto"
    assert by_id.json()["specialty"]["id"] == specialty.pk
    assert unknown.status_code == 400 and "specialty" in unknown.json()


def test_intake_for_someone_elses_cooperative_is_400(api, member, other_cooperative, process_setup):
    response = api(member).post(CASES, intake(other_cooperative), format="json")

    assert response.status_code == 400
    assert "cooperative" in response.json()
    assert not Case.objects.exists()


def test_intake_for_a_cooperative_that_does_not_exist_says_the_same(api, member, process_setup):
    response = api(member).post(CASES, {**intake(factories.CooperativeFactory())}, format="json")
    missing = api(member).post(CASES, {**intake(member), "cooperative": 987654}, format="json")

    assert response.json()["cooperative"] == missing.json()["cooperative"]


def test_non_members_may_not_open_cases(api, outsider, cooperative, process_setup):
    response = api(outsider).post(CASES, intake(cooperative), format="json")

    assert response.status_code == 403


@pytest.mark.parametrize("who", ["consultant", "supervisor"])
def test_staff_open_cases_only_for_someone_of_the_cooperative(
    request, api, who, cooperative, process_setup
):
    """Staff are not members: a case they open names its requester (tests/api/test_staff_intake)."""
    user = request.getfixturevalue(who)

    response = api(user).post(CASES, intake(cooperative), format="json")

    assert response.status_code == 400
    assert {"requester", "channel"} <= set(response.json())
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"area": "nope"},
        {"subject": ""},
        {"subject": "x" * 201},
        {"priority": "asap"},
        {"cooperative": "abc"},
        {"cooperative": None},
        {"description": ["a", "b"]},
    ],
)
def test_intake_bad_input_is_400(api, member, cooperative, process_setup, change):
    response = api(member).post(CASES, {**intake(cooperative), **change}, format="json")

    assert response.status_code == 400


def test_idempotent_retry_returns_the_first_case(api, member, cooperative, process_setup):
    client = api(member)
    headers = {"HTTP_IDEMPOTENCY_KEY": "4b8e-retry"}

    first = client.post(CASES, intake(cooperative), format="json", **headers)
    again = client.post(CASES, intake(cooperative), format="json", **headers)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1


def test_same_key_different_body_is_409(api, member, cooperative, process_setup):
    client = api(member)
    headers = {"HTTP_IDEMPOTENCY_KEY": "4b8e-conflict"}
    client.post(CASES, intake(cooperative), format="json", **headers)

    response = client.post(CASES, intake(cooperative, subject="Altro"), format="json", **headers)

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


def test_keys_are_per_user(api, member, cooperative, process_setup):
    colleague = factories.MembershipFactory(cooperative=cooperative).user
    headers = {"HTTP_IDEMPOTENCY_KEY": "shared"}

    first = api(member).post(CASES, intake(cooperative), format="json", **headers)
    second = api(colleague).post(CASES, intake(cooperative), format="json", **headers)

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_overlong_key_is_400(api, member, cooperative, process_setup):
    response = api(member).post(
        CASES, intake(cooperative), format="json", HTTP_IDEMPOTENCY_KEY="k" * 201
    )

    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_simultaneous_identical_intakes_open_one_case(process_setup, member, cooperative):
    """Two requests with the same key at the same instant: one case, both answers name it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    barrier = threading.Barrier(4)
    answers = []

    def post():
        try:
            client = APIClient()
            client.force_authenticate(member)
            barrier.wait()
            response = client.post(
                CASES, intake(cooperative), format="json", HTTP_IDEMPOTENCY_KEY="race"
            )
            answers.append((response.status_code, response.json().get("id")))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Case.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert sorted(code for code, _ in answers) == [200, 200, 200, 201]
    assert {case_id for _, case_id in answers} == {Case.objects.get().pk}
