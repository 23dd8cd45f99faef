"""The supervisor dashboard: its numbers are the database's, scoped to the supervisor's areas."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework import reports
from casework.models import Case, CaseStatus
from tests import factories
from tests.portal.conftest import make_case, make_mixed_cases

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(cooperative, area, consultant, outcome, member):
    return make_mixed_cases(
        10, cooperative=cooperative, area=area, consultant=consultant, outcome=outcome, rater=member
    )


def _figure(page: str, name: str) -> int:
    marker = f'data-figure="{name}">'
    start = page.index(marker) + len(marker)
    return int(page[start : page.index("<", start)])


def test_dashboard_numbers_follow_a_breach(client, supervisor, member_case, open_case, member):
    other = open_case(member, member_case.cooperative, subject="Secondo caso")
    client.force_login(supervisor)
    before = client.get("/dashboard/").content.decode()
    assert _figure(before, "breached") == 0
    assert _figure(before, "open") == 2

    # Given the first-response due instant passed and the SLA sweep marked the breach
    past = timezone.now() - timedelta(hours=1)
    Case.objects.filter(pk=member_case.pk).update(
        first_response_due_at=past,
        first_response_warn_at=past - timedelta(hours=1),
        first_response_breached_at=past,
        sla_state="breached",
    )
    Case.objects.filter(pk=other.pk).update(sla_state="at_risk")

    response = client.get("/dashboard/")
    page = response.content.decode()
    data = response.context["data"]
    open_cases = Case.objects.filter(status__in=CaseStatus.OPEN)
    assert _figure(page, "breached") == open_cases.filter(sla_state="breached").count() == 1
    assert _figure(page, "at_risk") == open_cases.filter(sla_state="at_risk").count() == 1
    assert _figure(page, "open") == open_cases.count()
    assert [row["reference"] for row in data["breached"]["cases"]] == [member_case.reference]
    assert data["breached"]["cases"][0]["clock"] == "first_response"
    assert f'href="/work/cases/{member_case.pk}/"' in page
    assert [row["reference"] for row in data["at_risk"]["cases"]] == [other.reference]
    by_area = {row["name"]: row for row in data["by_area"]}
    assert by_area[member_case.area.name]["breached"] == 1
    assert by_area[member_case.area.name]["open"] == 2
    consultant_row = data["consultants"][0]
    assert consultant_row["breached"] == 1 and consultant_row["at_risk"] == 1
    assert consultant_row["active_cases"] == 2


def test_breached_list_is_oldest_due_first(client, supervisor, cooperative, area):
    now = timezone.now()
    recent = make_case(
        cooperative=cooperative,
        area=area,
        sla_state="breached",
        first_response_due_at=now - timedelta(hours=1),
    )
    oldest = make_case(
        cooperative=cooperative,
        area=area,
        sla_state="breached",
        first_response_due_at=now - timedelta(days=2),
    )
    client.force_login(supervisor)
    listed = client.get("/dashboard/").context["data"]["breached"]["cases"]
    assert [row["reference"] for row in listed] == [oldest.reference, recent.reference]


def test_dashboard_is_scoped_to_the_supervisors_areas(client, cooperative, area, other_area):
    make_case(cooperative=cooperative, area=area, sla_state="breached")
    make_case(cooperative=cooperative, area=other_area, sla_state="breached")
    make_case(cooperative=cooperative, area=other_area)
    legal_only = factories.SupervisorFactory(
        user__username="sup.legale", all_areas=False, areas=[area]
    ).user
    client.force_login(legal_only)
    data = client.get("/dashboard/").context["data"]
    assert data["counts"]["open"] == 1 and data["counts"]["breached"] == 1
    assert [row["name"] for row in data["by_area"]] == [area.name]


def test_queues_and_backlog(client, supervisor, mixed, cooperative, area):
    make_case(cooperative=cooperative, area=area, status="triage")
    client.force_login(supervisor)
    response = client.get("/dashboard/")
    data = response.context["data"]
    assert data["counts"]["triage"] == Case.objects.filter(status="triage").count() == 1
    assert data["counts"]["unassigned"] == Case.objects.filter(status="unassigned").count()
    page = response.content.decode()
    assert 'href="/work/queue/"' in page
    open_now = Case.objects.filter(status__in=CaseStatus.OPEN).count()
    assert data["backlog_history"][-1]["backlog"] == open_now
    assert len(data["backlog_history"]) == 30 and len(data["week"]) == 7
    today = data["week"][-1]
    assert today["day"] == timezone.localdate()
    assert today["closed"] == Case.objects.filter(closed_at__isnull=False).count()
    by_office = {row["code"]: row["open"] for row in data["by_office"]}
    assert by_office == {cooperative.office.code: open_now}


def test_backlog_history_counts_cases_open_at_each_days_end(supervisor, cooperative, area):
    today = timezone.localdate()
    noon = timezone.make_aware(
        timezone.datetime.combine(today, timezone.datetime.min.time())
    ) + timedelta(hours=12)
    make_case(cooperative=cooperative, area=area, created_at=noon - timedelta(days=40))
    make_case(
        cooperative=cooperative,
        area=area,
        status="closed",
        created_at=noon - timedelta(days=10),
        closed_at=noon - timedelta(days=3),
    )
    flow = reports.daily_flow(supervisor, days=30, today=today)
    by_day = {row["day"]: row for row in flow}
    assert by_day[today - timedelta(days=11)]["backlog"] == 1
    assert by_day[today - timedelta(days=10)]["backlog"] == 2
    assert by_day[today - timedelta(days=10)]["opened"] == 1
    assert by_day[today - timedelta(days=3)]["closed"] == 1
    assert by_day[today - timedelta(days=3)]["backlog"] == 1
    assert by_day[today]["backlog"] == 1


def test_compliance_and_outcomes_charts(client, supervisor, mixed, cooperative, area, outcome):
    late = make_case(
        cooperative=cooperative,
        area=area,
        assignee=mixed[2].assignee,
        status="resolved",
        outcome=outcome,
        resolved_at=timezone.now() - timedelta(hours=1),
        resolution_due_at=timezone.now() - timedelta(days=1),
        confirmation_due_at=timezone.now() + timedelta(days=3),
    )
    client.force_login(supervisor)
    response = client.get("/dashboard/")
    data = response.context["data"]
    resolved = Case.objects.filter(status__in=["resolved", "closed"], resolved_at__isnull=False)
    due = Case.objects.filter(
        resolution_due_at__gte=timezone.now() - timedelta(days=90),
        resolution_due_at__lt=timezone.now(),
    ).exclude(status__in=["cancelled", "rejected"])
    compliance = data["compliance"]["resolution"]
    # every case due in the period counts, the late one as missed
    assert compliance["due"] == due.count() >= 1
    assert compliance["late"] >= 1
    assert compliance["met"] + compliance["late"] + compliance["open"] == compliance["due"]
    assert late.pk in resolved.values_list("pk", flat=True)
    assert data["outcomes"]["outcomes"] == [outcome.label]
    assert data["outcomes"]["rows"][0]["values"] == [resolved.count()]
    page = response.content.decode()
    # week, backlog, weekly trends, first response, compliance by area, outcomes
    assert page.count("<svg") == 6
    assert page.count("<title id=") == 6 and page.count("<desc id=") == 6
    assert "Show the data as a table" in page
    assert cooperative.name in page
