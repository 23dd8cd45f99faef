"""Read state per person and case in the API: `unread`, `last_activity_at`, `?unread=`, ordering
by activity, and opening a case (`GET /cases/{id}/`) marking it read for that reader only."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from workflows import process

pytestmark = pytest.mark.django_db


@pytest.fixture
def fellow_member(cooperative):
    """A second member of Cooperativa Alfa, who reads its cases on their own."""
    return factories.MembershipFactory(cooperative=cooperative, user__username="socio.due").user


def later(time_machine, minutes=5):
    """Move the clock forward, so that each step happens strictly after the one before."""
    time_machine.move_to(timezone.now() + timedelta(minutes=minutes), tick=False)


def listed(client, **params) -> dict[int, dict]:
    response = client.get("/api/v1/cases/", params)
    assert response.status_code == 200, response.content
    return {row["id"]: row for row in response.json()["results"]}


def unread_for(client, case) -> bool:
    return listed(client)[case.pk]["unread"]


def test_a_new_case_is_unread_for_the_consultant_and_not_for_the_member_who_opened_it(
    api, member, consultant, assigned_case
):
    mine = listed(api(member))[assigned_case.pk]
    theirs = listed(api(consultant))[assigned_case.pk]

    assert mine["unread"] is False
    assert theirs["unread"] is True
    assert mine["last_activity_at"] == theirs["last_activity_at"] is not None


def test_opening_the_case_marks_it_read_for_that_reader(api, consultant, assigned_case):
    client = api(consultant)
    assert unread_for(client, assigned_case) is True

    opened = client.get(f"/api/v1/cases/{assigned_case.pk}/")

    assert opened.status_code == 200
    assert opened.json()["unread"] is False
    assert unread_for(client, assigned_case) is False


def test_a_public_message_by_the_member_is_news_for_the_consultant_only(
    api, time_machine, member, consultant, assigned_case
):
    api(consultant).get(f"/api/v1/cases/{assigned_case.pk}/")
    later(time_machine)

    response = api(member).post(
        f"/api/v1/cases/{assigned_case.pk}/messages/", {"body": "Ecco il verbale."}
    )

    assert response.status_code == 201, response.content
    assert unread_for(api(consultant), assigned_case) is True
    assert unread_for(api(member), assigned_case) is False


def test_an_internal_note_is_no_news_for_the_member(
    api, time_machine, member, consultant, assigned_case
):
    later(time_machine)
    process.case_post_message(
        case=assigned_case, author=consultant, body="Da verificare.", internal=True
    )

    row = listed(api(member))[assigned_case.pk]
    assert row["unread"] is False
    assert row["last_activity_at"] == listed(api(consultant))[assigned_case.pk]["last_activity_at"]


def test_a_change_of_status_by_someone_else_is_news(
    api, time_machine, member, consultant, supervisor, assigned_case
):
    api(consultant).get(f"/api/v1/cases/{assigned_case.pk}/")
    later(time_machine)

    asked = api(consultant).post(
        f"/api/v1/cases/{assigned_case.pk}/request-info/", {"question": "Il verbale?"}
    )

    assert asked.status_code == 200
    assert asked.json()["unread"] is False  # the consultant knows what they just did
    assert unread_for(api(member), assigned_case) is True
    api(member).get(f"/api/v1/cases/{assigned_case.pk}/")
    later(time_machine)
    process.case_cancel(case=assigned_case, actor=supervisor, reason="Doppione")

    assert unread_for(api(member), assigned_case) is True
    assert unread_for(api(consultant), assigned_case) is True
    assert unread_for(api(supervisor), assigned_case) is False


def test_one_member_opening_the_case_does_not_read_it_for_the_other(
    api, time_machine, member, fellow_member, consultant, assigned_case
):
    later(time_machine)
    process.case_post_message(case=assigned_case, author=consultant, body="Risposta")
    assert unread_for(api(member), assigned_case) is True
    assert unread_for(api(fellow_member), assigned_case) is True

    api(member).get(f"/api/v1/cases/{assigned_case.pk}/")

    assert unread_for(api(member), assigned_case) is False
    assert unread_for(api(fellow_member), assigned_case) is True


def test_unread_filters_the_list(api, time_machine, consultant, open_case):
    first, second, third = (open_case(subject=f"Caso {n}") for n in range(3))
    client = api(consultant)
    client.get(f"/api/v1/cases/{second.pk}/")

    assert set(listed(client, unread="true")) == {first.pk, third.pk}
    assert set(listed(client, unread="false")) == {second.pk}
    assert set(listed(client)) == {first.pk, second.pk, third.pk}


@pytest.mark.parametrize("value", ["maybe", "yes", "2"])
def test_a_bad_unread_value_is_a_400_that_names_the_filter(api, consultant, assigned_case, value):
    response = api(consultant).get("/api/v1/cases/", {"unread": value}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json()["unread"] == [f"“{value}” is not a valid value: use true or false."]


def test_ordering_by_activity_puts_the_newest_activity_first(
    api, time_machine, member, consultant, open_case
):
    oldest, middle, newest = (open_case(subject=f"Caso {n}") for n in range(3))
    # Activity in another order than opening: the first case opened is the latest to move.
    later(time_machine)
    process.case_post_message(case=middle, author=member, body="Una domanda")
    later(time_machine)
    process.case_post_message(case=oldest, author=member, body="Un'altra domanda")
    client = api(consultant)

    by_activity = client.get("/api/v1/cases/", {"ordering": "-last_activity_at"}).json()
    by_default = client.get("/api/v1/cases/").json()
    oldest_activity_first = client.get("/api/v1/cases/", {"ordering": "last_activity_at"}).json()

    assert [row["id"] for row in by_activity["results"]] == [oldest.pk, middle.pk, newest.pk]
    assert [row["id"] for row in by_default["results"]] == [newest.pk, middle.pk, oldest.pk]
    assert [row["id"] for row in oldest_activity_first["results"]] == [
        newest.pk,
        middle.pk,
        oldest.pk,
    ]


def test_the_task_list_carries_the_cases_read_state(api, consultant, assigned_case):
    client = api(consultant)

    before = client.get("/api/v1/tasks/", {"scope": "mine"}).json()["results"]
    client.get(f"/api/v1/cases/{assigned_case.pk}/")
    after = client.get("/api/v1/tasks/", {"scope": "mine"}).json()["results"]

    assert [t["case"]["unread"] for t in before if t["case"]["id"] == assigned_case.pk] == [True]
    assert [t["case"]["unread"] for t in after if t["case"]["id"] == assigned_case.pk] == [False]
    assert after[0]["case"]["last_activity_at"] is not None


def _list_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/cases/", params)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "params",
    [{}, {"unread": "true"}, {"unread": "false"}, {"ordering": "-last_activity_at"}],
    ids=["plain", "unread", "read", "by_activity"],
)
def test_the_read_state_costs_no_query_per_row(api, consultant, open_case, params):
    client = api(consultant)
    cases = [open_case(subject=f"Caso {n}") for n in range(12)]
    for case in cases[::2]:
        client.get(f"/api/v1/cases/{case.pk}/")

    few = _list_queries(client, page_size=3, **params)
    many = _list_queries(client, page_size=12, **params)

    assert few == many
