"""The hours API: time entries for staff only, estimates through the process, plan usage."""

import pytest
from django.utils import timezone

from casework.models import Estimate, Membership, TimeEntry
from tests import factories
from workflows import process
from workflows.flows import CaseFlow

pytestmark = pytest.mark.django_db


def _entries_url(case):
    return f"/api/v1/cases/{case.pk}/time-entries/"


def test_staff_record_and_list_time_entries(hours_api, consultant, assigned_case):
    client = hours_api(consultant)

    created = client.post(
        _entries_url(assigned_case), {"minutes": 45, "note": "Telefonata"}, format="json"
    )

    assert created.status_code == 201, created.content
    [entry] = created.json()
    assert entry["minutes"] == 45 and entry["note"] == "Telefonata" and entry["billable"]
    assert entry["consultant"]["username"] == "consulente"
    assert entry["day"] == timezone.localdate().isoformat() and entry["beyond_plan"] is False
    listed = client.get(_entries_url(assigned_case)).json()
    assert [row["id"] for row in listed["results"]] == [entry["id"]]
    case = client.get(f"/api/v1/cases/{assigned_case.pk}/").json()
    assert case["staff"]["minutes_spent"] == 45


@pytest.mark.parametrize(
    "body, field",
    [
        ({"minutes": 0}, "minutes"),
        ({"minutes": 1441}, "minutes"),
        ({"minutes": "abc"}, "minutes"),
        ({"minutes": 30, "day": "2026-02-30"}, "day"),
        ({"minutes": 30, "note": "x" * 501}, "note"),
        ({}, "minutes"),
    ],
)
def test_bad_entries_are_400_with_the_field(hours_api, consultant, assigned_case, body, field):
    response = hours_api(consultant).post(_entries_url(assigned_case), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not TimeEntry.objects.exists()


def test_a_day_in_the_future_is_400_with_a_message(hours_api, consultant, assigned_case):
    tomorrow = (timezone.localdate() + timezone.timedelta(days=1)).isoformat()

    response = hours_api(consultant).post(
        _entries_url(assigned_case), {"minutes": 30, "day": tomorrow}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "day_in_future"
    assert "still to come" in response.json()["detail"]


def test_members_get_404_for_time_entries(hours_api, member, assigned_case, consultant):
    process.case_record_time(case=assigned_case, actor=consultant, minutes=30)
    client = hours_api(member)

    assert client.get(_entries_url(assigned_case)).status_code == 404
    assert (
        client.post(_entries_url(assigned_case), {"minutes": 5}, format="json").status_code == 404
    )
    entry = TimeEntry.objects.get()
    assert client.delete(f"{_entries_url(assigned_case)}{entry.pk}/").status_code == 404
    assert TimeEntry.objects.filter(pk=entry.pk).exists()


def test_staff_of_another_area_get_404(hours_api, assigned_case, other_area):
    stranger = factories.ConsultantFactory(
        user__username="consulente.altra.area", areas=[other_area]
    ).user

    assert hours_api(stranger).get(_entries_url(assigned_case)).status_code == 404


def test_a_closed_case_still_takes_the_time_of_its_last_work(
    hours_api, consultant, member, assigned_case, outcome
):
    process.case_resolve(case=assigned_case, actor=consultant, outcome=outcome, summary="Ok")
    process.case_confirm(case=assigned_case, actor=member)

    response = hours_api(consultant).post(
        _entries_url(assigned_case), {"minutes": 5, "note": "Lettera finale"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert list(assigned_case.time_entries.values_list("minutes", "note")) == [
        (5, "Lettera finale")
    ]


def test_a_cancelled_case_takes_no_time(hours_api, consultant, supervisor, assigned_case):
    process.case_cancel(case=assigned_case, actor=supervisor, reason="Ritirata")

    response = hours_api(consultant).post(
        _entries_url(assigned_case), {"minutes": 5}, format="json"
    )

    assert response.status_code == 409 and response.json()["code"] == "case_final"


def test_correcting_and_deleting_an_entry(hours_api, consultant, assigned_case):
    client = hours_api(consultant)
    [entry] = client.post(_entries_url(assigned_case), {"minutes": 45}, format="json").json()

    changed = client.patch(
        f"{_entries_url(assigned_case)}{entry['id']}/",
        {"minutes": 30, "billable": False},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["minutes"] == 30 and changed.json()["billable"] is False

    deleted = client.delete(f"{_entries_url(assigned_case)}{entry['id']}/")
    assert deleted.status_code == 204
    assigned_case.refresh_from_db()
    assert assigned_case.minutes_spent == 0


def test_the_estimate_step_through_the_api(
    hours_api, consultant, member, assigned_case, hours_plan
):
    staff, cooperative_side = hours_api(consultant), hours_api(member)

    proposed = staff.post(
        f"/api/v1/cases/{assigned_case.pk}/estimates/",
        {"hours": "3", "note": "Ricorso"},
        format="json",
    )
    assert proposed.status_code == 201, proposed.content
    estimate = proposed.json()
    assert estimate["minutes"] == 180 and estimate["status"] == "pending"
    case = cooperative_side.get(f"/api/v1/cases/{assigned_case.pk}/").json()
    assert case["status"] == "waiting" and case["sla"]["paused"] is True
    seen = cooperative_side.get(f"/api/v1/estimates/{estimate['id']}/").json()
    assert seen["answerable"] is True and seen["used_minutes"] is None
    listed = cooperative_side.get(f"/api/v1/cases/{assigned_case.pk}/estimates/").json()
    assert [row["id"] for row in listed["results"]] == [estimate["id"]]

    accepted = cooperative_side.post(
        f"/api/v1/estimates/{estimate['id']}/accept/", {"note": "Procedete"}, format="json"
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted" and accepted.json()["answerable"] is False
    case = cooperative_side.get(f"/api/v1/cases/{assigned_case.pk}/").json()
    assert case["status"] == "assigned" and case["sla"]["paused"] is False
    assert process.active_task(assigned_case, CaseFlow.work) is not None

    again = cooperative_side.post(f"/api/v1/estimates/{estimate['id']}/decline/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "estimate_answered"


def test_an_estimate_without_a_plan_is_400(hours_api, consultant, assigned_case):
    response = hours_api(consultant).post(
        f"/api/v1/cases/{assigned_case.pk}/estimates/",
        {"minutes": 180, "note": "Ricorso"},
        format="json",
    )

    assert response.status_code == 400 and response.json()["code"] == "no_plan"
    assert not Estimate.objects.exists()


@pytest.mark.parametrize(
    "body", [{"note": "x"}, {"minutes": 60, "hours": 1, "note": "x"}, {"minutes": 60}]
)
def test_bad_estimates_are_400(hours_api, consultant, assigned_case, hours_plan, body):
    response = hours_api(consultant).post(
        f"/api/v1/cases/{assigned_case.pk}/estimates/", body, format="json"
    )
    assert response.status_code == 400


def test_a_member_may_not_propose(hours_api, member, assigned_case, hours_plan):
    response = hours_api(member).post(
        f"/api/v1/cases/{assigned_case.pk}/estimates/", {"minutes": 60, "note": "x"}, format="json"
    )
    assert response.status_code == 403


def test_another_cooperatives_member_gets_404_for_an_estimate(
    hours_api, consultant, other_member, assigned_case, hours_plan
):
    estimate = process.case_propose_estimate(
        case=assigned_case, actor=consultant, minutes=60, note="x"
    )
    client = hours_api(other_member)

    assert client.get(f"/api/v1/estimates/{estimate.pk}/").status_code == 404
    assert client.post(f"/api/v1/estimates/{estimate.pk}/accept/").status_code == 404
    assert client.get(f"/api/v1/cases/{assigned_case.pk}/estimates/").status_code == 404
    assert client.post("/api/v1/estimates/abc/accept/").status_code == 404


def test_staff_may_not_answer_for_the_cooperative(hours_api, consultant, assigned_case, hours_plan):
    estimate = process.case_propose_estimate(
        case=assigned_case, actor=consultant, minutes=60, note="x"
    )

    response = hours_api(consultant).post(f"/api/v1/estimates/{estimate.pk}/accept/")

    assert response.status_code == 403


# --- Plan usage ---------------------------------------------------------------------------------


def test_usage_for_the_legal_representative_and_staff(
    hours_api, consultant, legal_rep, assigned_case, hours_plan, cooperative
):
    process.case_record_time(case=assigned_case, actor=consultant, minutes=420)

    for who in (legal_rep, consultant):
        response = hours_api(who).get(f"/api/v1/cooperatives/{cooperative.pk}/hours/")
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["included_minutes"], body["used_minutes"], body["remaining_minutes"]) == (
            600,
            420,
            180,
        )
        assert body["text"] == f"hours used 7 of 10 in {hours_plan.year}"
        assert body["plan"]["hours_included"] == 10
        assert body["areas"] == [
            {
                "area": "legal",
                "name": "Legale",
                "included_minutes": None,
                "used_minutes": 420,
                "beyond_plan_minutes": 0,
            }
        ]


def test_usage_of_a_year_without_a_plan(hours_api, legal_rep, cooperative, hours_plan):
    body = hours_api(legal_rep).get(f"/api/v1/cooperatives/{cooperative.pk}/hours/?year=2001")

    assert body.status_code == 200
    assert body.json()["plan"] is None and body.json()["used_minutes"] == 0


@pytest.mark.parametrize("year", ["abc", "1999", "2101", "2026.5"])
def test_a_bad_year_is_400(hours_api, legal_rep, cooperative, year):
    response = hours_api(legal_rep).get(f"/api/v1/cooperatives/{cooperative.pk}/hours/?year={year}")
    assert response.status_code == 400 and "year" in response.json()


def test_usage_is_404_for_ordinary_members_and_other_cooperatives(
    hours_api, plain_member, other_member, cooperative, other_cooperative, hours_plan
):
    assert (
        hours_api(plain_member).get(f"/api/v1/cooperatives/{cooperative.pk}/hours/").status_code
        == 404
    )
    rep_of_beta = factories.MembershipFactory(
        cooperative=other_cooperative, role=Membership.Role.LEGAL_REPRESENTATIVE
    ).user
    assert (
        hours_api(rep_of_beta).get(f"/api/v1/cooperatives/{cooperative.pk}/hours/").status_code
        == 404
    )
    assert hours_api(other_member).get("/api/v1/cooperatives/abc/hours/").status_code == 404


def test_usage_in_a_fixed_number_of_queries(
    hours_api, consultant, open_case, hours_plan, cooperative, django_assert_max_num_queries
):
    for number in range(6):
        case = open_case(subject=f"Caso {number}")
        process.case_record_time(case=case, actor=consultant, minutes=20)
    client = hours_api(consultant)
    client.get(f"/api/v1/cooperatives/{cooperative.pk}/hours/")  # warm the token and roles

    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/cooperatives/{cooperative.pk}/hours/")

    assert response.json()["used_minutes"] == 120
