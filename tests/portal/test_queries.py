"""The list pages, the dashboard and the report run as many queries for 3 cases as for 30."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.portal.conftest import make_mixed_cases

pytestmark = pytest.mark.django_db


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured)


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("member", "/cases/"),
        ("member", "/cases/?status=open"),
        ("supervisor", "/dashboard/"),
        ("supervisor", "/reports/cooperatives/"),
        ("member", "/reports/cooperatives/{coop}/"),
        ("member", "/reports/cooperatives/{coop}/export.csv"),
    ],
)
def test_query_count_does_not_grow_with_cases(
    client, request, cooperative, area, consultant, outcome, member, who, path
):
    path = path.format(coop=cooperative.pk)
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
    client.get(path)  # warm caches that are not per request (content types, sessions)
    few = _queries(client, path)
    add(27)
    many = _queries(client, path)
    assert few == many, f"{path}: {few} queries with 3 cases, {many} with 30"


def test_case_page_query_count_does_not_grow_with_messages(client, member, member_case, consultant):
    from workflows import process

    client.force_login(member)
    path = f"/cases/{member_case.pk}/"
    process.case_post_message(case=member_case, author=consultant, body="Uno")
    client.get(path)
    few = _queries(client, path)
    for n in range(10):
        process.case_post_message(case=member_case, author=consultant, body=f"Messaggio {n}")
    assert _queries(client, path) == few
