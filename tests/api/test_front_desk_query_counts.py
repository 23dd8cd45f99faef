"""The front desk's API (issue 21) runs as many statements for few rows as for many: an ordinary
member's case list with its unread state, a cooperative's report for a period, and a
consultant's public reply to a case however many people of the cooperative read it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework.models import CaseParticipant, Membership, Notification
from tests import factories
from workflows import process

pytestmark = pytest.mark.django_db


def _count(client, url, params=None) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(captured), response.json()


def _statements(captured) -> list[str]:
    """What the database did, without the savepoints of nested atomic blocks."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_an_ordinary_members_case_list_costs_the_same_for_3_or_30_cases(
    api, open_case, plain_member, member, consultant
):
    client = api(plain_member)

    def add(n):
        for index in range(n):
            if index % 3 == 2:  # opened by the legal representative, followed by the member
                case = open_case(member, subject=f"Pratica seguita {index}")
                CaseParticipant.objects.create(case=case, user=plain_member, added_by=member)
            else:  # opened by them: read (what one did oneself is no news)
                open_case(plain_member, subject=f"Pratica {index}")

    add(3)
    few, _body = _count(client, "/api/v1/cases/", {"page_size": 50})
    add(27)
    many, body = _count(client, "/api/v1/cases/", {"page_size": 50})

    assert body["count"] == 30
    # Unread: the 1 + 9 cases they follow, which someone else opened.
    assert sum(row["unread"] for row in body["results"]) == 10
    assert few == many, f"{few} queries for 3 cases, {many} for 30"


@pytest.mark.parametrize("who", ["supervisor", "member"])
def test_a_report_for_a_period_costs_the_same_for_3_or_30_cases(
    api, request, cooperative, open_case, consultant, who
):
    client = api(request.getfixturevalue(who))
    today = timezone.localdate()
    period = {"since": (today - timedelta(days=365)).isoformat(), "until": today.isoformat()}
    url = f"/api/v1/reports/cooperatives/{cooperative.pk}/"

    for _ in range(3):
        open_case()
    few, _body = _count(client, url, period)
    for _ in range(27):
        open_case()
    many, body = _count(client, url, period)

    assert body["cases"]["total"] == 30
    assert few == many <= 15, f"{few} queries for 3 cases, {many} for 30"


def test_a_consultants_reply_costs_the_same_however_many_people_read_the_case(
    api, open_case, consultant, member, cooperative
):
    """The reply, its events, its e-mails to the cooperative (one INSERT for all readers) and
    the search document (a trigger inside the message's INSERT)."""
    client = api(consultant)
    quiet = open_case(subject="Pochi lettori")
    busy = open_case(subject="Molti lettori")
    for n in range(4):
        follower = factories.MembershipFactory(
            cooperative=cooperative,
            user__username=f"socio.lettore{n}",
            role=Membership.Role.MEMBER,
        ).user
        CaseParticipant.objects.create(case=busy, user=follower, added_by=member)
        process.case_post_message(case=busy, author=follower, body=f"Domanda {n}")
    for n in range(6):
        process.case_post_message(case=busy, author=member, body=f"Integrazione {n}")

    def reply(case) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                f"/api/v1/cases/{case.pk}/messages/", {"body": "Ecco il parere."}, format="json"
            )
        assert response.status_code == 201, response.content
        assert Notification.objects.filter(message_id=response.json()["id"]).exists()
        return _statements(captured)

    reply(quiet)  # the first reply of each case differs (its first response): both had theirs
    reply(busy)
    few = reply(quiet)
    many = reply(busy)

    last = Notification.objects.filter(message__case=busy).order_by("-id").first().message_id
    assert Notification.objects.filter(message_id=last).count() == 5
    assert len(few) == len(many), "\n".join(many)
