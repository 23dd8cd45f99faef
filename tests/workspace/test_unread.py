"""Unread cases in the inbox and the queue: the marker, the last activity column, the order by
activity, and the case page marking a case read for the one who opens it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from workflows import process

from .conftest import work_task_of

pytestmark = pytest.mark.django_db


def later(time_machine, minutes=5):
    """Move the clock forward, so that each step happens strictly after the one before."""
    time_machine.move_to(timezone.now() + timedelta(minutes=minutes), tick=False)


def _page(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return ["<tr" + chunk for chunk in body.split("<tr")[1:]]


def unread_references(html: str, cases) -> set[str]:
    """The references of `cases` whose row is marked unread (the class and the hidden text)."""
    marked = set()
    for row in _rows(html):
        for case in cases:
            if case.reference in row and 'class="unread"' in row:
                assert '<span class="visually-hidden">Unread: </span>' in row
                assert 'class="unread-dot"' in row
                marked.add(case.reference)
    return marked


def order_of(html: str, cases) -> list[str]:
    return sorted((c.reference for c in cases), key=html.index)


def test_the_inbox_marks_a_new_case_unread_until_its_page_is_opened(client, consultant, open_case):
    first, second = open_case(subject="Primo"), open_case(subject="Secondo")
    client.force_login(consultant)

    before = _page(client, reverse("work:inbox"))
    client.get(reverse("work:case", args=[first.pk]))
    after = _page(client, reverse("work:inbox"))

    assert "Last activity" in before
    assert unread_references(before, [first, second]) == {first.reference, second.reference}
    assert unread_references(after, [first, second]) == {second.reference}


def test_a_members_answer_brings_the_case_back_unread(
    client, time_machine, consultant, member, assigned_case
):
    client.force_login(consultant)
    client.get(reverse("work:case", args=[assigned_case.pk]))
    later(time_machine)

    process.case_post_message(case=assigned_case, author=member, body="Ecco il verbale.")

    html = _page(client, reverse("work:inbox"))
    assert unread_references(html, [assigned_case]) == {assigned_case.reference}


def test_an_internal_note_or_my_own_reply_is_no_news(
    client, time_machine, consultant, area_supervisor, assigned_case
):
    client.force_login(consultant)
    client.get(reverse("work:case", args=[assigned_case.pk]))
    later(time_machine)
    process.case_post_message(
        case=assigned_case, author=area_supervisor, body="Vedi il parere 2023.", internal=True
    )
    later(time_machine)
    process.case_post_message(case=assigned_case, author=consultant, body="Ci sentiamo domani.")

    html = _page(client, reverse("work:inbox"))

    assert unread_references(html, [assigned_case]) == set()


def test_a_change_of_status_by_a_supervisor_is_news(
    client, time_machine, consultant, colleague, area_supervisor, assigned_case
):
    client.force_login(consultant)
    client.get(reverse("work:case", args=[assigned_case.pk]))
    later(time_machine)

    process.case_assign(case=assigned_case, actor=area_supervisor, consultant=colleague)
    process.case_assign(case=assigned_case, actor=area_supervisor, consultant=consultant)

    html = _page(client, reverse("work:inbox"))
    assert unread_references(html, [assigned_case]) == {assigned_case.reference}


def test_sorting_by_activity_puts_the_newest_activity_first(
    client, time_machine, consultant, member, open_case
):
    oldest, middle, newest = (open_case(subject=f"Caso {n}") for n in range(3))
    later(time_machine)
    process.case_post_message(case=oldest, author=member, body="Una domanda")
    client.force_login(consultant)

    by_default = _page(client, reverse("work:inbox"))
    by_activity = _page(client, reverse("work:inbox"), sort="activity")

    cases = [oldest, middle, newest]
    assert order_of(by_default, cases) == [oldest.reference, middle.reference, newest.reference]
    assert order_of(by_activity, cases) == [oldest.reference, newest.reference, middle.reference]
    assert "newest activity first" in by_activity
    assert 'aria-sort="descending">Last activity' in by_activity


def test_the_queue_marks_unread_and_its_sort_links_keep_the_step(
    client, time_machine, colleague, consultant, area_supervisor, open_case
):
    released = []
    for n in range(2):
        case = open_case(subject=f"Caso {n}")
        process.task_release(task=work_task_of(case), actor=consultant)
        released.append(case)
        later(time_machine)
    client.force_login(area_supervisor)
    client.get(reverse("work:case", args=[released[0].pk]))

    html = _page(client, reverse("work:queue"), step="work", page="1")
    by_activity = _page(client, reverse("work:queue"), step="work", sort="activity")

    assert unread_references(html, released) == {released[1].reference}
    assert 'href="?step=work&amp;sort=activity"' in html  # the step stays, the page restarts
    assert order_of(by_activity, released) == [released[1].reference, released[0].reference]
    assert '<input type="hidden" name="sort" value="activity">' in by_activity


def _queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("sort", ["", "activity"])
def test_the_inbox_read_state_costs_no_query_per_row(client, consultant, open_case, sort):
    client.force_login(consultant)
    cases = [open_case(subject=f"Caso {n}") for n in range(3)]
    client.get(reverse("work:case", args=[cases[0].pk]))
    three = _queries(client, reverse("work:inbox"), sort=sort)

    cases += [open_case(subject=f"Caso {n}") for n in range(3, 12)]
    client.get(reverse("work:case", args=[cases[5].pk]))
    twelve = _queries(client, reverse("work:inbox"), sort=sort)

    assert twelve == three
