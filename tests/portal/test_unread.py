"""Unread cases in the portal's list: the marker, the last activity column, "only unread", the
order by activity, and the case page marking a case read for the member who opens it (only)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.portal.conftest import make_mixed_cases
from workflows import process

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_member(cooperative):
    """Another member of Cooperativa Alfa, who keeps their own read state."""
    return factories.MembershipFactory(cooperative=cooperative, user__username="socio.bis").user


def later(time_machine, minutes=5):
    """Move the clock forward, so that each step happens strictly after the one before."""
    time_machine.move_to(timezone.now() + timedelta(minutes=minutes), tick=False)


def _list(client, **params) -> str:
    response = client.get("/cases/", params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _rows(html: str) -> list[str]:
    if "<tbody>" not in html:
        return []
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return ["<tr" + chunk for chunk in body.split("<tr")[1:]]


def unread_references(html: str) -> set[str]:
    """References of the rows marked unread (the class, the dot and the hidden text)."""
    marked = set()
    for row in _rows(html):
        if 'class="unread"' in row:
            assert 'class="unread-dot"' in row
            assert '<span class="visually-hidden">Unread: </span>' in row
            hidden = '<span class="visually-hidden">Unread: </span>'
            marked.add(row.split(hidden, 1)[1].split("</a>", 1)[0].rsplit(">", 1)[-1])
    return marked


def listed_references(html: str, cases) -> list[str]:
    return sorted((c.reference for c in cases if c.reference in html), key=html.index)


def test_a_consultants_reply_is_unread_until_the_member_opens_the_case(
    client, time_machine, member, consultant, member_case
):
    client.force_login(member)
    assert unread_references(_list(client)) == set()  # the member opened it themselves
    later(time_machine)

    process.case_post_message(case=member_case, author=consultant, body="Serve il verbale.")
    before = _list(client)
    client.get(f"/cases/{member_case.pk}/")
    after = _list(client)

    assert unread_references(before) == {member_case.reference}
    assert "Last activity" in before
    assert unread_references(after) == set()


def test_one_member_opening_the_case_leaves_it_unread_for_the_other(
    client, time_machine, member, second_member, consultant, member_case
):
    later(time_machine)
    process.case_request_info(case=member_case, actor=consultant, question="Il verbale?")

    client.force_login(member)
    client.get(f"/cases/{member_case.pk}/")
    mine = _list(client)
    client.force_login(second_member)
    theirs = _list(client)

    assert unread_references(mine) == set()
    assert unread_references(theirs) == {member_case.reference}


def test_an_internal_note_is_no_news_for_the_member(
    client, time_machine, member, consultant, member_case
):
    later(time_machine)
    process.case_post_message(
        case=member_case, author=consultant, body="Solo per noi.", internal=True
    )
    client.force_login(member)

    assert unread_references(_list(client)) == set()


def test_my_own_message_is_no_news_to_me(client, time_machine, member, second_member, member_case):
    later(time_machine)
    client.force_login(member)
    sent = client.post(f"/cases/{member_case.pk}/reply/", {"body": "Ecco il verbale."})

    assert sent.status_code == 302

    assert unread_references(_list(client)) == set()
    client.force_login(second_member)
    assert unread_references(_list(client)) == {member_case.reference}


def test_only_unread_and_sort_by_activity(client, time_machine, member, consultant, open_case):
    oldest, middle, newest = (open_case(subject=f"Caso {n}") for n in range(3))
    later(time_machine)
    process.case_post_message(case=oldest, author=consultant, body="Una risposta")
    later(time_machine)
    process.case_post_message(case=middle, author=member, body="Una domanda")
    client.force_login(member)
    cases = [oldest, middle, newest]

    by_default = _list(client)
    by_activity = _list(client, sort="activity")
    only_unread = _list(client, unread="1", sort="activity")

    assert listed_references(by_default, cases) == [r.reference for r in (newest, middle, oldest)]
    assert listed_references(by_activity, cases) == [r.reference for r in (middle, oldest, newest)]
    assert listed_references(only_unread, cases) == [oldest.reference]
    assert "Only unread" in by_default and "All cases" in only_unread
    # The filter form and the links keep the other choices.
    assert '<input type="hidden" name="unread" value="1">' in only_unread
    assert 'href="?sort=activity&amp;unread=1"' in _list(client, sort="activity", page="1")


def test_nothing_unread_says_so(client, member, member_case):
    client.force_login(member)

    html = _list(client, unread="1")

    assert "No case matches this filter." in html


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured)


@pytest.mark.parametrize("path", ["/cases/?sort=activity", "/cases/?unread=1"])
def test_the_read_state_costs_no_query_per_row(
    client, cooperative, area, consultant, outcome, member, path
):
    client.force_login(member)

    def add(n):
        return make_mixed_cases(
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
    add(9)
    many = _queries(client, path)

    assert few == many
