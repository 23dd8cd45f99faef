"""The staff case list (/work/cases/): who sees which cases, each filter, sorting, pages that keep
the filters, bad filter values, the CSV of the filtered rows and the list's query count."""

import csv
import io
import re
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, CaseStatus
from workflows import process
from workflows.workspace import cases as case_list

from .case_listing import URL, listed, references
from .conftest import work_task_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def fiscal_case(other_area, other_area_consultant, member, cooperative, process_setup):
    """A case of the fiscal area, assigned to the fiscal consultant."""
    case = process.case_open(
        requester=member,
        cooperative=cooperative,
        area=other_area,
        subject="Dichiarazione IVA annuale",
        description="Scadenza della dichiarazione.",
    )
    assert case.assignee == other_area_consultant
    return case


@pytest.fixture
def beta_case(open_case, other_member, other_cooperative, consultant):
    """A legal case of Cooperativa Beta (office of Modena), released to the queue: nobody's."""
    case = open_case(other_member, other_cooperative, subject="Contratto di lavoro")
    process.task_release(task=work_task_of(case), actor=consultant)
    case.refresh_from_db()
    assert case.status == CaseStatus.UNASSIGNED and case.assignee is None
    return case


# --- Who sees what -------------------------------------------------------------------------


def test_the_staff_nav_links_to_the_list(client, consultant):
    client.force_login(consultant)

    page = client.get(reverse("work:inbox")).content.decode()

    assert f'href="{URL}"' in page
    assert ">Cases</a>" in page


def test_a_consultant_sees_their_areas_cases_not_another_areas(
    client, consultant, assigned_case, fiscal_case, beta_case
):
    client.force_login(consultant)

    shown = listed(client)

    assert sorted(shown) == sorted([assigned_case.reference, beta_case.reference])
    assert listed(client, {"q": fiscal_case.reference}) == []


def test_a_consultant_keeps_seeing_the_case_they_hold_after_leaving_its_area(
    client, consultant, assigned_case, beta_case, fiscal_case, other_area
):
    consultant.consultant.areas.set([other_area])
    client.force_login(consultant)

    shown = listed(client)

    assert sorted(shown) == sorted([assigned_case.reference, fiscal_case.reference])


def test_a_supervisor_of_every_area_sees_every_case(
    client, supervisor, assigned_case, fiscal_case, beta_case
):
    client.force_login(supervisor)

    assert len(listed(client)) == 3


def test_a_member_may_not_open_the_staff_list(client, member, assigned_case):
    client.force_login(member)

    assert client.get(URL).status_code == 403
    assert client.get(reverse("work:cases_csv")).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302 and "login" in response["Location"]


# --- Filters -------------------------------------------------------------------------------


def test_filter_by_status_takes_several(client, supervisor, assigned_case, beta_case, triage_case):
    client.force_login(supervisor)

    assert listed(client, {"status": "unassigned"}) == [beta_case.reference]
    both = listed(client, {"status": ["assigned", "triage"]})
    assert sorted(both) == sorted([assigned_case.reference, triage_case.reference])


def test_filter_by_area_and_office(client, supervisor, assigned_case, beta_case, fiscal_case):
    client.force_login(supervisor)

    assert listed(client, {"area": "fiscal"}) == [fiscal_case.reference]
    assert listed(client, {"office": "MO"}) == [beta_case.reference]
    assert sorted(listed(client, {"office": "BO", "area": "legal"})) == [assigned_case.reference]


def test_filter_by_cooperative(client, supervisor, assigned_case, beta_case, other_cooperative):
    client.force_login(supervisor)

    assert listed(client, {"cooperative": other_cooperative.pk}) == [beta_case.reference]


def test_each_rows_cooperative_filters_the_list_by_it_keeping_the_other_filters(
    client, supervisor, assigned_case, beta_case, other_cooperative
):
    client.force_login(supervisor)

    page = client.get(URL, {"status": "unassigned"}).content.decode()

    assert f"cooperative={other_cooperative.pk}" in page
    assert re.search(rf"status=unassigned&amp;cooperative={other_cooperative.pk}", page)


def test_filter_by_assignee_by_username_nobody_or_me(
    client, consultant, assigned_case, beta_case, colleague
):
    client.force_login(consultant)

    assert listed(client, {"assignee": "consulente"}) == [assigned_case.reference]
    assert listed(client, {"assignee": "me"}) == [assigned_case.reference]
    assert listed(client, {"assignee": "nobody"}) == [beta_case.reference]
    assert listed(client, {"assignee": "consulente2"}) == []


def test_filter_by_priority_sla_state_and_channel(
    client, supervisor, area_supervisor, assigned_case, beta_case, fiscal_case
):
    process.case_change_priority(case=assigned_case, actor=area_supervisor, priority="urgent")
    Case.objects.filter(pk=beta_case.pk).update(sla_state="breached", channel="phone")
    client.force_login(supervisor)

    assert listed(client, {"priority": "urgent"}) == [assigned_case.reference]
    assert listed(client, {"sla": "breached"}) == [beta_case.reference]
    assert listed(client, {"channel": "phone"}) == [beta_case.reference]
    portal = listed(client, {"channel": ["portal", "email"]})
    assert sorted(portal) == sorted([assigned_case.reference, fiscal_case.reference])


def test_filter_by_read_state_of_the_reader(client, consultant, member, assigned_case, beta_case):
    client.force_login(consultant)
    client.get(reverse("work:case", args=[assigned_case.pk]))  # opening it reads it
    client.get(reverse("work:case", args=[beta_case.pk]))
    process.case_post_message(case=assigned_case, author=member, body="Avete novità?")

    assert listed(client, {"unread": "true"}) == [assigned_case.reference]
    assert listed(client, {"unread": "false"}) == [beta_case.reference]
    page = client.get(URL).content.decode()
    assert page.count('<span class="unread-dot" aria-hidden="true"></span>') == 1


def test_filter_by_opening_dates_includes_both_days(client, supervisor, assigned_case, beta_case):
    at = timezone.make_aware(datetime(2024, 3, 10, 23, 30))  # late evening, Rome time
    Case.objects.filter(pk=assigned_case.pk).update(created_at=at)
    client.force_login(supervisor)

    assert listed(client, {"opened_from": "2024-03-10", "opened_to": "2024-03-10"}) == [
        assigned_case.reference
    ]
    assert listed(client, {"opened_to": "2024-03-09"}) == []
    assert listed(client, {"opened_from": "2024-03-11"}) == [beta_case.reference]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"opened_to": "9999-12-31"}, 2),
        ({"opened_from": "9999-12-31"}, 0),
        ({"opened_from": "0001-01-01"}, 2),
        ({"opened_from": "0001-01-01", "opened_to": "9999-12-31"}, 2),
    ],
)
def test_the_first_and_last_days_of_the_calendar_are_answered(
    client, supervisor, assigned_case, beta_case, params, expected
):
    client.force_login(supervisor)

    assert len(listed(client, params)) == expected


def test_a_search_narrows_the_list(client, supervisor, assigned_case, fiscal_case):
    client.force_login(supervisor)

    response = client.get(URL, {"q": "dichiarazioni"})

    assert references(response) == [fiscal_case.reference]
    assert "<mark>Dichiarazione</mark>" in response.content.decode()
    assert listed(client, {"q": "dichiarazione", "area": "legal"}) == []


@pytest.mark.parametrize(
    "query", ["a & | !b", ":*", '"unbalanced', "!!!", "il la di", "'; drop table x; --"]
)
def test_odd_searches_answer_without_an_error(client, supervisor, assigned_case, query):
    client.force_login(supervisor)

    response = client.get(URL, {"q": query})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "params, message",
    [
        ({"status": "archived"}, "archived is not one of the available choices"),
        ({"area": "tributi"}, "tributi is not one of the available choices"),
        ({"office": "XX"}, "XX is not one of the available choices"),
        ({"cooperative": "999999"}, "999999 is not one of the available choices"),
        ({"cooperative": "alfa"}, "alfa is not one of the available choices"),
        ({"assignee": "ghost"}, "ghost is not one of the available choices"),
        ({"priority": "huge"}, "huge is not one of the available choices"),
        ({"sla": "late"}, "late is not one of the available choices"),
        ({"channel": "fax"}, "fax is not one of the available choices"),
        ({"unread": "maybe"}, "maybe is not one of the available choices"),
        ({"opened_from": "2024-13-01"}, "Enter a valid date"),
        ({"opened_to": "10000-01-01"}, "Enter a valid date"),
        ({"sort": "colour"}, "colour is not one of the available choices"),
        ({"q": "x" * 10_000}, "A search can be at most 200 characters long"),
        ({"q": "a\x00b"}, "Null characters are not allowed."),
        (
            {"opened_from": "2024-05-02", "opened_to": "2024-05-01"},
            "The end date is before the start date.",
        ),
    ],
)
def test_an_unknown_filter_value_is_a_400_that_says_what_is_wrong(
    client, supervisor, assigned_case, params, message
):
    client.force_login(supervisor)

    response = client.get(URL, params)

    assert response.status_code == 400
    page = response.content.decode()
    assert "The list cannot be shown with these filters" in page
    assert message in page
    assert references(response) == []


def test_an_unknown_value_for_the_csv_is_a_400_too(client, supervisor, assigned_case):
    client.force_login(supervisor)

    response = client.get(reverse("work:cases_csv"), {"status": "archived"})

    assert response.status_code == 400
    assert "archived is not one of the available choices" in response.content.decode()


def test_the_cooperative_filter_offers_only_the_cooperative_chosen(
    client, supervisor, beta_case, assigned_case, other_cooperative
):
    client.force_login(supervisor)

    chosen = client.get(URL, {"cooperative": other_cooperative.pk}).content.decode()
    unchosen = client.get(URL).content.decode()

    assert f'<option value="{other_cooperative.pk}" selected>Cooperativa Beta</option>' in chosen
    assert "Cooperativa Alfa</option>" not in chosen
    assert '<input type="hidden" name="cooperative" id="id_cooperative">' in unchosen
    assert "</option>" not in unchosen.split('id="id_cooperative"')[1].split("</div>")[0]


# --- Sorting -------------------------------------------------------------------------------


@pytest.mark.parametrize("column", [column.key for column in case_list.COLUMNS])
@pytest.mark.parametrize("descending", [False, True])
def test_every_column_sorts_both_ways_and_says_so(
    client, supervisor, assigned_case, beta_case, fiscal_case, column, descending
):
    client.force_login(supervisor)
    sort = f"-{column}" if descending else column

    response = client.get(URL, {"sort": sort, "status": ["assigned", "unassigned"]})

    assert response.status_code == 200
    assert len(references(response)) == 3
    page = response.content.decode()
    direction = "descending" if descending else "ascending"
    assert page.count("aria-sort=") == 1
    header = re.search(r'<th scope="col" aria-sort="(\w+)"><a href="([^"]+)">([^<]+)<', page)
    assert header.group(1) == direction
    # The header's link turns the order round and keeps the filters.
    assert f"sort={column if descending else '-' + column}" in header.group(2)
    assert "status=assigned&amp;status=unassigned" in header.group(2)


def test_sorting_by_reference_and_by_priority(
    client, supervisor, area_supervisor, open_case, consultant
):
    first, second, third = (open_case(subject=f"Caso {n}") for n in range(3))
    process.case_change_priority(case=second, actor=area_supervisor, priority="urgent")
    process.case_change_priority(case=third, actor=area_supervisor, priority="low")
    client.force_login(supervisor)

    by_reference = [first.reference, second.reference, third.reference]
    assert listed(client, {"sort": "reference"}) == sorted(by_reference)
    assert listed(client, {"sort": "-reference"}) == sorted(by_reference, reverse=True)
    assert listed(client, {"sort": "-priority"}) == [
        second.reference,
        first.reference,
        third.reference,
    ]


def test_the_default_order_is_the_newest_activity_first(client, supervisor, open_case, consultant):
    older, newer = open_case(subject="Prima"), open_case(subject="Seconda")
    process.case_post_message(case=older, author=consultant, body="Una risposta")
    client.force_login(supervisor)

    assert listed(client) == [older.reference, newer.reference]


# --- Pages ---------------------------------------------------------------------------------


def test_the_pages_keep_the_filters_and_the_order(
    client, supervisor, open_case, beta_case, monkeypatch
):
    monkeypatch.setattr(case_list, "PAGE_SIZE", 2)
    opened = [open_case(subject=f"Caso {n}") for n in range(3)]
    client.force_login(supervisor)

    first = client.get(URL, {"status": "assigned", "sort": "reference"})
    page = first.content.decode()
    assert "Page 1 of 2" in page
    next_link = re.search(r'<a href="([^"]+)" rel="next">', page).group(1).replace("&amp;", "&")
    assert "status=assigned" in next_link and "sort=reference" in next_link

    second = client.get(next_link)

    assert "Page 2 of 2" in second.content.decode()
    shown = references(first) + references(second)
    assert shown == sorted(case.reference for case in opened)
    assert beta_case.reference not in shown


# --- CSV -----------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="cases-')
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    text = body.removeprefix("\ufeff")
    delimiter = ";" if text.split("\r\n", 1)[0].count(";") > 1 else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter)), delimiter


def test_the_csv_has_one_row_per_filtered_case_in_english(
    client, supervisor, rated_case, assigned_case, beta_case, fiscal_case
):
    client.force_login(supervisor)

    rows, delimiter = _csv(client.get(reverse("work:cases_csv"), {"area": "legal"}))

    assert delimiter == ","
    header, *cases = rows
    assert header == [
        "Reference",
        "Opened at",
        "Resolved at",
        "Closed at",
        "Cooperative",
        "Tax code",
        "Area",
        "Status",
        "Priority",
        "Channel",
        "Assignee",
        "Outcome",
        "First response due at",
        "First response at",
        "Resolution due at",
        "SLA",
        "Minutes spent",
        "Rating",
    ]
    by_reference = {row[0]: dict(zip(header, row, strict=True)) for row in cases}
    assert set(by_reference) == {rated_case.reference, assigned_case.reference, beta_case.reference}
    rated = by_reference[rated_case.reference]
    assert rated["Status"] == "Closed"
    assert rated["Outcome"] == "Parere rilasciato"
    assert rated["Minutes spent"] == "10"
    assert rated["Rating"] == "1"
    assert rated["Cooperative"] == "Cooperativa Alfa"
    assert rated["Tax code"] == rated_case.cooperative.tax_code
    assert rated["Closed at"] == timezone.localtime(rated_case.closed_at).strftime("%Y-%m-%d %H:%M")
    assert by_reference[beta_case.reference]["Assignee"] == ""
    assert by_reference[beta_case.reference]["Status"] == "Unassigned"


def test_the_csv_in_italian_uses_semicolons_and_italian_labels(client, supervisor, assigned_case):
    client.force_login(supervisor)

    rows, delimiter = _csv(client.get(reverse("work:cases_csv"), HTTP_ACCEPT_LANGUAGE="it"))

    assert delimiter == ";"
    header, row = rows
    assert header[0] == "Riferimento" and "Stato" in header
    assert row[header.index("Stato")] == "Assegnata"


def test_the_csv_of_a_consultant_leaves_out_other_areas(
    client, consultant, assigned_case, fiscal_case
):
    client.force_login(consultant)

    rows, _delimiter = _csv(client.get(URL, {"format": "csv"}))

    assert [row[0] for row in rows[1:]] == [assigned_case.reference]


def test_the_page_links_to_the_csv_of_the_same_filters(client, supervisor, assigned_case):
    client.force_login(supervisor)

    page = client.get(URL, {"status": "assigned", "sort": "-opened"}).content.decode()

    assert 'href="/work/cases/export.csv?status=assigned&amp;sort=-opened"' in page


# --- Query counts --------------------------------------------------------------------------


def test_the_list_runs_the_same_queries_for_3_rows_as_for_30(
    client, supervisor, open_case, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        open_case(subject=f"Caso {n}")
    client.force_login(supervisor)
    params = {"status": ["assigned", "unassigned"], "area": "legal", "sort": "-due"}
    with CaptureQueriesContext(connection) as three:
        assert len(listed(client, params)) == 3

    for n in range(3, 30):
        open_case(subject=f"Caso {n}")
    with django_assert_max_num_queries(len(three)) as thirty:
        assert len(listed(client, params)) == 30

    assert len(thirty) == len(three)
    assert len(three) <= 15
