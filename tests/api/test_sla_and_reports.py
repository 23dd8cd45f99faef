"""SLA counts and lists for staff, and the cooperative report, with figures checked by hand."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework import reports
from casework.models import Case, Rating

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/sla/summary/"
SLA_CASES = "/api/v1/sla/cases/"


def report_url(cooperative):
    return f"/api/v1/reports/cooperatives/{cooperative.pk}/"


@pytest.fixture
def sla_cases(open_case, other_member, other_cooperative, fiscal_area, fiscal_consultant):
    """Legal cases of Alfa (Bologna) in each state, a fiscal case of Beta (Modena), a closed one."""
    now = timezone.now()
    cases = {
        "on_track": open_case(),
        "on_track2": open_case(),
        "at_risk": open_case(),
        "breached": open_case(),
        "fiscal_at_risk": open_case(
            requester=other_member, cooperative=other_cooperative, area=fiscal_area
        ),
        "closed": open_case(),
    }
    updates = {
        "at_risk": {"sla_state": "at_risk", "first_response_due_at": now + timedelta(hours=2)},
        "breached": {"sla_state": "breached", "first_response_due_at": now - timedelta(hours=1)},
        "fiscal_at_risk": {
            "sla_state": "at_risk",
            "first_response_due_at": now + timedelta(hours=1),
        },
        "closed": {"status": "closed", "sla_state": "met"},
    }
    for name, fields in updates.items():
        Case.objects.filter(pk=cases[name].pk).update(**fields)
    return cases


def test_summary_for_a_supervisor_of_every_area(api, supervisor, sla_cases):
    response = api(supervisor).get(SUMMARY)

    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {
        "on_track": 2,
        "at_risk": 2,
        "breached": 1,
        "paused": 0,
        "met": 0,
        "total": 5,
    }
    by_area = {row["area"]: row["counts"] for row in body["by_area"]}
    assert by_area["legal"]["total"] == 4 and by_area["legal"]["breached"] == 1
    assert by_area["fiscal"] == {
        "on_track": 0,
        "at_risk": 1,
        "breached": 0,
        "paused": 0,
        "met": 0,
        "total": 1,
    }
    by_office = {row["office"]: row["counts"]["total"] for row in body["by_office"]}
    assert by_office == {"BO": 4, "MO": 1}


def test_summary_is_scoped_to_my_areas(api, consultant, fiscal_supervisor, sla_cases):
    assert api(consultant).get(SUMMARY).json()["counts"]["total"] == 4
    assert api(fiscal_supervisor).get(SUMMARY).json()["counts"]["total"] == 1


def test_summary_is_for_staff_only(api, member, outsider, sla_cases):
    assert api(member).get(SUMMARY).status_code == 403
    assert api(outsider).get(SUMMARY).status_code == 403
    assert api().get(SUMMARY).status_code == 401


def queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


def test_summary_counts_in_the_database(api, supervisor, sla_cases, open_case):
    """Grouped counts: the same few queries whatever the number of cases."""
    client = api(supervisor)
    before = queries(client, SUMMARY)
    for _ in range(5):
        open_case()

    assert queries(client, SUMMARY) == before <= 10


def test_sla_cases_most_urgent_first(api, supervisor, sla_cases):
    response = api(supervisor).get(SLA_CASES, {"state": "at_risk"})

    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [
        sla_cases["fiscal_at_risk"].pk,
        sla_cases["at_risk"].pk,
    ]
    everything = api(supervisor).get(SLA_CASES).json()["results"]
    assert everything[0]["id"] == sla_cases["breached"].pk
    assert sla_cases["closed"].pk not in {c["id"] for c in everything}


def test_sla_cases_scoped_and_filtered(api, consultant, supervisor, sla_cases):
    assert [
        c["id"] for c in api(consultant).get(SLA_CASES, {"state": "at_risk"}).json()["results"]
    ] == [sla_cases["at_risk"].pk]
    office = api(supervisor).get(SLA_CASES, {"office": "MO"}).json()["results"]
    assert [c["id"] for c in office] == [sla_cases["fiscal_at_risk"].pk]
    assert api(supervisor).get(SLA_CASES, {"state": "late"}).status_code == 400


def test_sla_cases_for_staff_only(api, member, sla_cases):
    assert api(member).get(SLA_CASES).status_code == 403


# --- The cooperative report ------------------------------------------------------------------


@pytest.fixture
def four_known_cases(open_case, outcome, member, consultant):
    """Four cases of Alfa with known times, outcomes, ratings and minutes."""
    now = timezone.now()
    cases = [open_case() for _ in range(4)]
    base = {"outcome": outcome, "first_response_due_at": now}
    rows = [
        # status, resolved late?, first response late?, fr seconds, resolution seconds, minutes
        ("closed", False, False, 60, 600, 30),
        ("closed", True, False, 120, 6000, 60),
        ("resolved", False, False, 180, 1200, 0),
        ("assigned", None, True, 240, 0, 0),
    ]
    for case, (status, late, fr_late, fr_seconds, res_seconds, minutes) in zip(
        cases, rows, strict=True
    ):
        fields = {
            **base,
            "status": status,
            "first_response_at": now + timedelta(minutes=5 if fr_late else -5),
            "first_response_elapsed_seconds": fr_seconds,
            "resolution_elapsed_seconds": res_seconds,
            "minutes_spent": minutes,
        }
        if late is not None:
            fields["resolved_at"] = now
            fields["resolution_due_at"] = now + timedelta(hours=-1 if late else 1)
        else:
            fields["outcome"] = None
        Case.objects.filter(pk=case.pk).update(**fields)
    Rating.objects.create(case=cases[0], score=5, rated_by=member)
    Rating.objects.create(case=cases[1], score=2, rated_by=member)
    return cases


def test_report_figures(api, member, cooperative, four_known_cases):
    response = api(member).get(report_url(cooperative))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["cooperative"] == {"id": cooperative.pk, "name": "Cooperativa Alfa"}
    assert body["cases"]["total"] == 4
    assert body["cases"]["by_status"]["closed"] == 2
    assert body["cases"]["by_status"]["resolved"] == 1
    assert body["cases"]["by_status"]["cancelled"] == 0
    [legal] = body["cases"]["by_area"]
    assert legal["area"] == "legal" and legal["total"] == 4
    assert legal["outcomes"] == [
        {"code": "opinion_issued", "label": "Parere rilasciato", "count": 3}
    ]
    assert body["sla"] == {
        "responded": 4,
        "responded_on_time": 3,
        "first_response_compliance": 0.75,
        "resolved": 3,
        "resolved_on_time": 2,
        "resolution_compliance": 0.6667,
    }
    assert body["times"] == {
        "median_first_response_minutes": 2.5,
        "median_resolution_minutes": 20.0,
    }
    assert body["satisfaction"] == {
        "ratings": 2,
        "average": 3.5,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
    }
    assert body["minutes_delivered"] == 90


def test_a_case_cancelled_after_its_resolution_has_no_outcome(
    api, member, cooperative, four_known_cases, outcome
):
    """An outcome counts once the case is resolved or closed with it, on the API and the page."""
    Case.objects.filter(pk=four_known_cases[2].pk).update(status="cancelled")

    body = api(member).get(report_url(cooperative)).json()
    page = reports.cooperative_report(cooperative)

    [legal] = body["cases"]["by_area"]
    assert legal["outcomes"] == [
        {"code": "opinion_issued", "label": "Parere rilasciato", "count": 2}
    ]
    assert page["by_outcome"] == [
        {"area_name": outcome.area.name, "outcome_label": "Parere rilasciato", "n": 2}
    ]
    assert body["sla"]["resolved"] == page["resolved"] == 2


def test_report_period(api, member, cooperative, four_known_cases):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    empty = api(member).get(report_url(cooperative), {"since": tomorrow}).json()

    assert empty["cases"]["total"] == 0
    assert empty["times"]["median_resolution_minutes"] is None
    assert empty["sla"]["resolution_compliance"] is None
    assert empty["satisfaction"]["average"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"until": "2026-13-01"},
        {"since": "2026-02-01", "until": "2026-01-01"},
    ],
)
def test_report_bad_period_is_400(api, member, cooperative, params):
    assert api(member).get(report_url(cooperative), params).status_code == 400


def test_report_visibility(
    api, member, other_member, outsider, consultant, supervisor, cooperative, other_cooperative
):
    assert api(member).get(report_url(cooperative)).status_code == 200
    assert api(member).get(report_url(other_cooperative)).status_code == 404
    assert api(other_member).get(report_url(cooperative)).status_code == 404
    assert api(outsider).get(report_url(cooperative)).status_code == 404
    assert api(consultant).get(report_url(other_cooperative)).status_code == 200
    assert api(supervisor).get(report_url(other_cooperative)).status_code == 200
    assert api(member).get("/api/v1/reports/cooperatives/abc/").status_code == 404
    assert api().get(report_url(cooperative)).status_code == 401


def test_staff_report_counts_only_their_areas(
    api, fiscal_consultant, cooperative, four_known_cases, fiscal_area
):
    body = api(fiscal_consultant).get(report_url(cooperative)).json()

    assert body["cases"]["total"] == 0


def test_report_is_computed_in_the_database(
    api, member, cooperative, four_known_cases, open_case, outcome
):
    client = api(member)
    before = queries(client, report_url(cooperative))
    for case in [open_case() for _ in range(5)]:
        Case.objects.filter(pk=case.pk).update(
            status="closed", resolved_at=timezone.now(), outcome=outcome
        )
        Rating.objects.create(case=case, score=4, rated_by=member)

    assert queries(client, report_url(cooperative)) == before <= 15


@pytest.mark.parametrize(
    "values, expected",
    [([], None), ([7], 7), ([1, 3], 2), ([5, 1, 3], 3), ([10, 1, 4, 3], 3.5)],
)
def test_median_both_ways(open_case, values, expected):
    cases = [open_case() for _ in values]
    for case, value in zip(cases, values, strict=True):
        Case.objects.filter(pk=case.pk).update(resolution_elapsed_seconds=value)
    queryset = Case.objects.filter(Q(pk__in=[c.pk for c in cases]))

    medians = reports.medians_in_seconds(queryset, {"resolution_elapsed_seconds": Q()})
    assert medians["resolution_elapsed_seconds"] == expected
    assert reports.median_by_offset(queryset, "resolution_elapsed_seconds") == expected
