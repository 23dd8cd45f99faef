"""Query counts of the staff pages do not grow with the number of tasks or timeline entries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from workflows import process

from .conftest import work_task_of

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_inbox_query_count_does_not_grow_with_tasks(client, consultant, open_case):
    client.force_login(consultant)
    for n in range(2):
        open_case(subject=f"Caso {n}")
    with_two = _queries(client, reverse("work:inbox"))

    for n in range(2, 20):
        open_case(subject=f"Caso {n}")
    with_twenty = _queries(client, reverse("work:inbox"))

    assert with_twenty == with_two
    assert with_two <= 12


def test_the_queue_query_count_does_not_grow_with_tasks(client, colleague, consultant, open_case):
    client.force_login(colleague)

    def release_one(n):
        case = open_case(subject=f"Caso {n}")
        process.task_release(task=work_task_of(case), actor=consultant)

    for n in range(2):
        release_one(n)
    with_two = _queries(client, reverse("work:queue"))
    for n in range(2, 12):
        release_one(n)
    with_twelve = _queries(client, reverse("work:queue"))

    assert with_twelve == with_two


def test_the_case_page_query_count_does_not_grow_with_the_timeline(
    client, area_supervisor, consultant, assigned_case, django_assert_max_num_queries
):
    client.force_login(area_supervisor)
    url = reverse("work:case", args=[assigned_case.pk])
    process.case_post_message(case=assigned_case, author=consultant, body="Prima")
    short = _queries(client, url)

    for n in range(15):
        process.case_post_message(
            case=assigned_case, author=consultant, body=f"Nota {n}", internal=True
        )
        process.case_record_time(case=assigned_case, actor=consultant, minutes=5)
    process.case_change_priority(case=assigned_case, actor=area_supervisor, priority="high")
    long = _queries(client, url)

    assert long == short
    with django_assert_max_num_queries(30):
        client.get(url)
