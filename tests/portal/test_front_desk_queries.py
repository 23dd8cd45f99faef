"""The front desk's pages (issue 21) run as many queries for 3 cases as for 30: the portal's list
for an ordinary member (their own cases and those they follow, with unread markers), the
dashboard with its filters and a cooperative's report for a period."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework.models import CaseParticipant, CaseRead
from tests.portal.conftest import make_case, make_mixed_cases

pytestmark = pytest.mark.django_db


def _queries(client, path) -> tuple[int, bytes]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured), response.content


def _members_cases(n, *, cooperative, area, consultant, plain_member, member):
    """`n` cases the ordinary member sees: two in three opened by them, one in three opened by
    the legal representative and followed by them; every other one read since it moved."""
    now = timezone.now()
    for index in range(n):
        follows = index % 3 == 2
        case = make_case(
            cooperative=cooperative,
            area=area,
            assignee=consultant,
            status=("assigned", "waiting", "resolved")[index % 3],
            requester=member if follows else plain_member,
            last_activity_at=now - timedelta(hours=1),
        )
        if follows:
            CaseParticipant.objects.create(case=case, user=plain_member, added_by=member)
        if index % 2:
            CaseRead.objects.create(case=case, user=plain_member, read_at=now)


@pytest.mark.parametrize("path", ["/cases/", "/cases/?unread=1", "/cases/?sort=activity"])
def test_an_ordinary_members_list_costs_the_same_queries_for_3_or_30_cases(
    client, cooperative, area, consultant, plain_member, member, path
):
    client.force_login(plain_member)

    def add(n):
        _members_cases(
            n,
            cooperative=cooperative,
            area=area,
            consultant=consultant,
            plain_member=plain_member,
            member=member,
        )

    add(3)
    client.get(path)  # warm what is not per request (content types, the session)
    few, _html = _queries(client, path)
    add(27)
    many, html = _queries(client, path)

    assert few == many, f"{path}: {few} queries with 3 cases, {many} with 30"
    if path != "/cases/?unread=1":
        assert html.count(b'<tr class="unread"') == 10  # the 20 newest: one in two read


@pytest.mark.parametrize(
    "query",
    [
        "area=legal&office=BO&period=quarter",
        "area=legal&period=30d",
        "office=BO&since=2020-01-01&until=2099-12-31",
    ],
)
def test_the_filtered_dashboard_costs_the_same_queries_for_3_or_30_cases(
    client, supervisor, cooperative, area, consultant, outcome, member, query
):
    client.force_login(supervisor)
    path = f"/dashboard/?{query}"

    def add(n):
        make_mixed_cases(
            n,
            cooperative=cooperative,
            area=area,
            consultant=consultant,
            outcome=outcome,
            rater=member,
        )

    add(3)
    client.get(path)
    few, _html = _queries(client, path)
    add(27)
    many, _html = _queries(client, path)

    assert few == many, f"{path}: {few} queries with 3 cases, {many} with 30"


@pytest.mark.parametrize("who", ["supervisor", "member"])
@pytest.mark.parametrize("export", ["", "export.csv"])
def test_a_report_for_a_period_costs_the_same_queries_for_3_or_30_cases(
    client, request, cooperative, area, consultant, outcome, member, who, export
):
    today = timezone.localdate()
    period = f"since={today - timedelta(days=365)}&until={today}"
    path = f"/reports/cooperatives/{cooperative.pk}/{export}?{period}"
    client.force_login(request.getfixturevalue(who))

    def add(n):
        make_mixed_cases(
            n,
            cooperative=cooperative,
            area=area,
            consultant=consultant,
            outcome=outcome,
            rater=member,
        )

    add(3)
    client.get(path)
    few, _body = _queries(client, path)
    add(27)
    many, _body = _queries(client, path)

    assert few == many, f"{path}: {few} queries with 3 cases, {many} with 30"
