"""`GET /api/v1/cases/?q=`: full-text search through the one selector, best first with a
highlight, never finding what the reader may not see, bad queries a 400 or nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.searching import FIELDS, PUBLIC_FIELDS, WORD, plant
from workflows import process

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="full-text search is PostgreSQL's"
    ),
]

URL = "/api/v1/cases/"


def search(client, q, **params):
    response = client.get(URL, {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def references(results):
    return [case["reference"] for case in results]


def test_results_come_best_first_with_the_words_highlighted(api, open_case, consultant, member):
    in_message = open_case(subject="Una domanda", description="Leggete il messaggio.")
    process.case_post_message(case=in_message, author=member, body="La dichiarazione IVA <x>.")
    in_subject = open_case(subject="Dichiarazione IVA", description="Costi < ricavi.")
    open_case(subject="Modifica dello statuto")

    results = search(api(member), "dichiarazioni")

    assert references(results) == [in_subject.reference, in_message.reference]
    assert results[0]["highlight"] == "<mark>Dichiarazione</mark> IVA Costi &lt; ricavi."
    assert "<mark>dichiarazione</mark> IVA" in results[1]["highlight"]


def test_ordering_wins_over_the_rank(api, open_case, consultant, member):
    older = open_case(subject="Dichiarazione IVA")
    newer = open_case(subject="Una domanda", description="Sulla dichiarazione.")

    results = search(api(consultant), "dichiarazione", ordering="-created_at")

    assert references(results) == [newer.reference, older.reference]


def test_no_highlight_without_a_search(api, open_case, member):
    open_case()

    (case,) = api(member).get(URL).json()["results"]

    assert case["highlight"] is None


def test_the_search_keeps_the_other_filters(api, open_case, consultant, outcome):
    kept = open_case(subject="Dichiarazione IVA")
    resolved = open_case(subject="Dichiarazione dei redditi")
    process.case_resolve(case=resolved, actor=consultant, outcome=outcome, summary="Fatto.")

    results = search(api(consultant), "dichiarazione", status="assigned")

    assert references(results) == [kept.reference]


@pytest.mark.parametrize("field", FIELDS)
def test_a_member_never_finds_another_cooperatives_case(
    api, open_case, consultant, field, member, other_member, other_cooperative
):
    theirs = plant(
        field,
        open_case=open_case,
        consultant=consultant,
        requester=other_member,
        cooperative=other_cooperative,
    )

    assert search(api(member), WORD) == []
    assert search(api(member), theirs.reference) == []
    assert search(api(member), other_cooperative.tax_code) == []
    assert search(api(member), other_cooperative.name) == []


@pytest.mark.parametrize("field", FIELDS)
def test_a_member_never_finds_internal_words(api, open_case, consultant, field, member):
    case = plant(field, open_case=open_case, consultant=consultant)

    results = search(api(member), WORD)

    assert references(results) == ([case.reference] if field in PUBLIC_FIELDS else [])


def test_internal_notes_are_found_and_highlighted_for_staff(api, open_case, consultant, member):
    case = open_case(subject="Una domanda")
    process.case_post_message(case=case, author=consultant, body="Cliente moroso.", internal=True)

    (result,) = search(api(consultant), "morosi")

    assert result["reference"] == case.reference
    assert "<mark>moroso</mark>" in result["highlight"]
    assert search(api(member), "morosi") == []


def test_staff_of_another_area_find_nothing(api, open_case, consultant, fiscal_consultant):
    case = open_case(subject="Modifica dello statuto")
    process.case_post_message(case=case, author=consultant, body="Riservato.", internal=True)

    client = api(fiscal_consultant)
    assert search(client, "statuto") == []
    assert search(client, "riservato") == []
    assert search(client, case.reference) == []
    assert references(search(api(consultant), "statuto")) == [case.reference]


def test_a_reference_and_a_tax_code_find_their_cases(
    api, open_case, supervisor, cooperative, other_case
):
    ours = open_case(subject="Quello giusto")

    client = api(supervisor)
    assert references(search(client, ours.reference.lower()))[0] == ours.reference
    by_tax_code = references(search(client, f"IT{cooperative.tax_code}"))
    assert ours.reference in by_tax_code and other_case.reference not in by_tax_code


@pytest.mark.parametrize(
    "q",
    [
        "il di che della",
        "!!! ??? ...",
        "a & | !b",
        ":*",
        '"dichiarazione',
        "dichiarazione:* & !",
        "' OR 1=1 --",
        "%",
    ],
)
def test_queries_that_say_nothing_find_nothing(api, open_case, consultant, q):
    open_case(subject="Modifica dello statuto della cooperativa")

    assert search(api(consultant), q) == []


@pytest.mark.parametrize("q", ["", "   "])
def test_an_empty_search_is_the_whole_list(api, open_case, consultant, q):
    case = open_case()

    results = search(api(consultant), q)

    assert references(results) == [case.reference]
    assert results[0]["highlight"] is None


@pytest.mark.parametrize(
    "params, field",
    [
        ({"q": "x" * 10_000}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "dichiara\x00zione"}, "q"),
        ({"q": "statuto", "status": "nessuno"}, "status"),
        ({"q": "statuto", "ordering": "search_rank"}, None),
    ],
)
def test_bad_input_is_a_400_or_ignored_never_a_500(api, open_case, consultant, params, field):
    open_case(subject="Modifica dello statuto")

    response = api(consultant).get(URL, params)

    if field is None:  # an ordering that is not offered is ignored, as DRF does
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert field in response.json()


def test_an_overlong_search_says_why(api, consultant):
    response = api(consultant).get(URL, {"q": "x" * 10_000}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {
        "q": ["Ensure this value has at most 200 characters (it has 10000)."]
    }


@pytest.mark.parametrize("who", ["member", "consultant", "supervisor"])
def test_queries_do_not_grow_with_the_results(request, api, open_case, consultant, member, who):
    client = api(request.getfixturevalue(who))

    def queries(n_cases):
        with CaptureQueriesContext(connection) as captured:
            results = search(client, "dichiarazione", page_size=50)
        assert len(results) == n_cases
        return len(captured)

    for _ in range(2):
        case = open_case(subject="Dichiarazione IVA")
        process.case_post_message(case=case, author=member, body="Dichiarazione allegata.")
    few = queries(2)
    for _ in range(6):
        case = open_case(subject="Dichiarazione IVA")
        process.case_post_message(case=case, author=consultant, body="Nota.", internal=True)
    assert queries(8) == few


def test_the_schema_documents_q_and_highlight(api):
    schema = (
        api()
        .get("/api/v1/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="en")
        .json()
    )

    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert "q" in parameters
    assert "Full-text search" in parameters["q"]["description"]
    case = schema["components"]["schemas"]["Case"]["properties"]["highlight"]
    assert case["type"] == "string" and case["nullable"] is True
