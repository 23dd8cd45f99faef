"""Bad input that used to answer 500: deeply nested JSON, ids in other digits, the calendar's edges.

Each is a 400 with a JSON message now (or, for the calendar's edges, the right answer).
"""

from datetime import UTC, date

import pytest

from casework import reports
from casework.models import Case
from tests import factories

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
CASES = "/api/v1/cases/"
DEEP = "[" * 1000 + "]" * 1000
# "²" and "①" are digits to str.isdigit() but not to int(); "٣" (Arabic-Indic 3) is one to both.
OTHER_DIGITS = ["²", "①", "٣"]
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _client(api, user=None):
    client = api(user)
    # A server error is a response to assert on, not an exception in the test.
    client.raise_request_exception = False
    return client


def _assert_json_400(response, *fields):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    for field in fields or ("detail",):
        assert body[field], body


# --- Deeply nested JSON ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [DEEP, '{"subject": ' + DEEP + ', "description": "D"}', '{"body": ' + DEEP + "}"],
    ids=["whole-body", "in-a-field", "in-the-body-field"],
)
def test_deeply_nested_json_is_a_400_everywhere(api, member, assigned_case, body):
    posts = [
        (None, TOKEN),
        (member, CASES),
        (member, f"{CASES}{assigned_case.pk}/messages/"),
    ]
    for user, url in posts:
        response = _client(api, user).post(url, data=body, content_type="application/json")

        _assert_json_400(response)
        assert "JSON" in response.json()["detail"], url


def test_json_deeper_than_any_payload_is_refused_before_the_parser_gives_up(api, member):
    """Shallower than where Python's parser gives up (some 900 levels), still far deeper than
    any payload of ours: refused up front, so that nothing later walks it recursively."""
    body = '{"subject": ' + "[" * 100 + "]" * 100 + ', "description": "D"}'

    response = _client(api, member).post(CASES, data=body, content_type="application/json")

    _assert_json_400(response)


def test_ordinary_json_is_still_read(api, member, cooperative, process_setup):
    response = _client(api, member).post(
        CASES,
        {"cooperative": cooperative.pk, "area": "legal", "subject": "S", "description": "D"},
        format="json",
    )

    assert response.status_code == 201, response.content


# --- Ids written with other digits -----------------------------------------------------------


@pytest.mark.parametrize("value", OTHER_DIGITS)
def test_assignee_filter_in_other_digits_is_a_400(api, supervisor, assigned_case, value):
    response = _client(api, supervisor).get(CASES, {"assignee": value})

    _assert_json_400(response, "assignee")


def test_assignee_filter_by_id_is_ascii_digits_only(api, supervisor, consultant, assigned_case):
    """int() reads "١٢" as 12: the consultant's id in Arabic-Indic digits must not find them."""
    client = _client(api, supervisor)
    by_id = client.get(CASES, {"assignee": str(consultant.pk)})
    assert [row["id"] for row in by_id.json()["results"]] == [assigned_case.pk]

    response = client.get(CASES, {"assignee": str(consultant.pk).translate(ARABIC_INDIC)})

    _assert_json_400(response, "assignee")


@pytest.mark.parametrize("value", OTHER_DIGITS)
def test_specialty_in_other_digits_is_a_400(api, member, cooperative, process_setup, value):
    factories.SpecialtyFactory(area=process_setup, code="statuto", name="Statuto")
    data = {
        "cooperative": cooperative.pk,
        "area": "legal",
        "specialty": value,
        "subject": "S",
        "description": "D",
    }

    response = _client(api, member).post(CASES, data, format="json")

    _assert_json_400(response, "specialty")
    assert not Case.objects.exists()


def test_specialty_id_in_arabic_indic_digits_is_not_taken_for_the_id(
    api, member, cooperative, process_setup
):
    specialty = factories.SpecialtyFactory(area=process_setup, code="statuto", name="Statuto")
    data = {
        "cooperative": cooperative.pk,
        "area": "legal",
        "specialty": str(specialty.pk).translate(ARABIC_INDIC),
        "subject": "S",
        "description": "D",
    }

    response = _client(api, member).post(CASES, data, format="json")

    _assert_json_400(response, "specialty")


@pytest.mark.parametrize("value", OTHER_DIGITS)
def test_assign_to_a_consultant_in_other_digits_is_a_400(
    api, supervisor, assigned_case, consultant, value
):
    response = _client(api, supervisor).post(
        f"{CASES}{assigned_case.pk}/assign/", {"consultant": value}, format="json"
    )

    _assert_json_400(response, "consultant")


def test_assign_by_id_in_arabic_indic_digits_does_not_find_the_consultant(
    api, supervisor, assigned_case, consultant2
):
    url = f"{CASES}{assigned_case.pk}/assign/"
    client = _client(api, supervisor)

    response = client.post(url, {"consultant": str(consultant2.pk).translate(ARABIC_INDIC)})

    _assert_json_400(response, "consultant")
    assert Case.objects.get(pk=assigned_case.pk).assignee != consultant2
    # Written with 0 to 9, the same id assigns.
    assert client.post(url, {"consultant": str(consultant2.pk)}).status_code == 200


# --- The calendar's edges in the cooperative report ------------------------------------------


@pytest.mark.parametrize(
    "period",
    [
        {"until": "9999-12-31"},
        {"since": "0001-01-01"},
        {"since": "0001-01-01", "until": "9999-12-31"},
    ],
)
def test_report_over_the_whole_calendar_counts_every_case(
    api, supervisor, cooperative, assigned_case, period
):
    response = _client(api, supervisor).get(
        f"/api/v1/reports/cooperatives/{cooperative.pk}/", period
    )

    assert response.status_code == 200, response.content[:300]
    assert response.json()["cases"]["total"] == 1
    assert {key: response.json()[key] for key in period} == period


@pytest.mark.parametrize(
    ("period", "total"),
    [({"until": "0001-01-01"}, 0), ({"since": "9999-12-31"}, 0), ({"until": "9999-12-30"}, 1)],
)
def test_report_near_the_calendar_edges(api, supervisor, cooperative, assigned_case, period, total):
    response = _client(api, supervisor).get(
        f"/api/v1/reports/cooperatives/{cooperative.pk}/", period
    )

    assert response.status_code == 200, response.content[:300]
    assert response.json()["cases"]["total"] == total


def test_report_period_bounds_are_instants_the_database_can_store():
    """SQLite (the embedded default) stores instants in UTC, and Django converts each bound to
    UTC; 0001-01-01 00:00 in Rome is in year 0 there, which datetime cannot hold."""
    cases = reports.cases_opened_between(
        Case.objects.all(), since=date(1, 1, 1), until=date(9999, 12, 31)
    )

    for lookup in cases.query.where.children:
        lookup.rhs.astimezone(UTC)


def test_the_report_page_is_unaffected_by_extreme_dates(client, supervisor, cooperative):
    """The page takes no period (only the API does): the same query string changes nothing."""
    client.force_login(supervisor)

    response = client.get(
        f"/reports/cooperatives/{cooperative.pk}/", {"since": "0001-01-01", "until": "9999-12-31"}
    )

    assert response.status_code == 200
