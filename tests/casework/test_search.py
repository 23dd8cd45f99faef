"""Finding cases: the search itself (Italian words, phrases, exclusions, ranking, exact matches),
who finds what, the documents kept current by the database, the portal's search box and the
staff header's box."""

import pytest
from django.db import connection
from django.urls import reverse

from casework import search
from casework.models import Case
from casework.search import QUERY_MAX_LENGTH, search_cases
from casework.selectors import cases_visible_to
from tests import factories
from tests.searching import FIELDS, PUBLIC_FIELDS, WORD, plant
from workflows import process

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="full-text search is PostgreSQL's"
    ),
]


@pytest.fixture
def fiscal_reader(other_area, office):
    """A consultant of the fiscal area only: the legal area's cases are not theirs."""
    return factories.ConsultantFactory(
        user__username="consulente.fiscale", office=office, areas=[other_area]
    ).user


@pytest.fixture
def planted(open_case, consultant, settings, tmp_path):
    """`planted(field, requester, cooperative)`: a case with WORD in one field only."""
    settings.MEDIA_ROOT = tmp_path / "media"

    def make(field, requester=None, cooperative=None):
        return plant(
            field,
            open_case=open_case,
            consultant=consultant,
            requester=requester,
            cooperative=cooperative,
        )

    return make


def found(user, query, *, staff=None):
    """The references `user` finds, best first (`staff`: as a staff page asks, by default
    when they are staff)."""
    if staff is None:
        staff = not user.memberships.exists()
    cases = search_cases(cases_visible_to(user), query=query, user=user, staff=staff)
    return list(cases.values_list("reference", flat=True))


# --- Words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ("dichiarazioni", {"iva", "annual"}),  # the plural finds the singular (stemming)
        ("perche", {"accent"}),  # accents do not matter
        ("PERCHÉ", {"accent"}),
        ('"dichiarazione iva"', {"iva"}),  # a phrase: the words side by side
        ("dichiarazione -iva", {"annual"}),  # a word left out
        ("statuto OR bilancio", {"statute", "budget"}),
        ("statuto bilancio", set()),  # both words, in no case
    ],
)
def test_italian_words_phrases_exclusions_and_or(open_case, consultant, query, expected):
    cases = {
        "iva": open_case(subject="Dichiarazione IVA", description="Per il trimestre."),
        "annual": open_case(subject="Dichiarazione annuale", description="Dei redditi."),
        "accent": open_case(subject="Un dubbio", description="Non capiamo perché."),
        "statute": open_case(subject="Modifica dello statuto", description="Oggetto sociale."),
        "budget": open_case(subject="Approvazione del bilancio", description="Entro aprile."),
    }
    references = {case.reference: name for name, case in cases.items()}

    assert {references[r] for r in found(consultant, query)} == expected


def test_a_subject_match_comes_before_a_message_match(open_case, consultant, member):
    in_message = open_case(subject="Una domanda", description="Leggete il messaggio.")
    process.case_post_message(case=in_message, author=member, body="Sulla dichiarazione IVA.")
    in_subject = open_case(subject="Dichiarazione IVA", description="Per il trimestre.")

    assert found(consultant, "dichiarazione") == [in_subject.reference, in_message.reference]
    assert found(member, "dichiarazione") == [in_subject.reference, in_message.reference]


def test_the_snippet_marks_the_words_and_escapes_the_rest(open_case, consultant):
    open_case(subject="Dichiarazione IVA", description="Costi < ricavi & <b>perché</b>?")

    (snippet,) = search_cases(
        cases_visible_to(consultant), query="dichiarazioni perche", user=consultant, staff=True
    ).values_list("highlight", flat=True)

    assert "<mark>Dichiarazione</mark>" in snippet
    assert "<mark>perché</mark>" in snippet
    assert "&lt;" in snippet and "&amp;" in snippet
    assert "<b>" not in snippet and search.MARK_START not in snippet


def test_a_match_only_in_a_message_shows_that_message(open_case, consultant, member):
    case = open_case(subject="Una domanda", description="Leggete il messaggio.")
    process.case_post_message(case=case, author=member, body="Ecco la ricevuta del bonifico.")

    (snippet,) = search_cases(
        cases_visible_to(member), query="ricevute", user=member, staff=False
    ).values_list("highlight", flat=True)

    assert "<mark>ricevuta</mark> del bonifico" in snippet


# --- Who finds what ------------------------------------------------------------------------


@pytest.mark.parametrize("field", FIELDS)
def test_a_member_never_finds_another_cooperatives_case(
    planted, field, member, other_member, other_cooperative
):
    theirs = planted(field, other_member, other_cooperative)

    assert found(member, WORD) == []
    assert found(member, theirs.reference) == []
    if field in PUBLIC_FIELDS:
        assert found(other_member, WORD) == [theirs.reference]


@pytest.mark.parametrize("field", FIELDS)
def test_a_member_finds_the_public_words_of_their_case_only(planted, field, member, consultant):
    case = planted(field)

    public = field in PUBLIC_FIELDS
    assert found(member, WORD) == ([case.reference] if public else [])
    # Staff searching as a cooperative's page does: the public words only.
    assert found(consultant, WORD, staff=False) == ([case.reference] if public else [])


@pytest.mark.parametrize("field", FIELDS)
def test_staff_find_every_field(planted, field, consultant, supervisor):
    case = planted(field)

    assert found(consultant, WORD) == [case.reference]
    assert found(supervisor, WORD) == [case.reference]


@pytest.mark.parametrize("field", FIELDS)
def test_the_embedded_defaults_match_keeps_the_same_rule(planted, field, member, consultant):
    """SQLite's plain match (exercised here directly): the internal words for staff only."""
    case = planted(field)

    def plain(user, *, staff):
        scope = search._internal_scope(user, staff=staff)
        cases = search._plain_match(cases_visible_to(user), WORD, scope)
        return list(cases.values_list("reference", flat=True))

    assert plain(member, staff=False) == ([] if field not in PUBLIC_FIELDS else [case.reference])
    assert plain(consultant, staff=True) == [case.reference]


def test_staff_find_the_cases_of_their_areas_only(
    planted, consultant, area_supervisor, fiscal_reader, supervisor
):
    case = planted("internal note")

    assert found(consultant, WORD) == [case.reference]
    assert found(area_supervisor, WORD) == [case.reference]
    assert found(supervisor, WORD) == [case.reference]
    assert found(fiscal_reader, WORD) == []
    assert found(fiscal_reader, case.reference) == []


def test_a_search_narrows_the_list_it_is_given(open_case, consultant, member):
    open_case(subject="Dichiarazione IVA")
    kept = open_case(subject="Dichiarazione dei redditi")

    narrowed = Case.objects.filter(pk=kept.pk)
    result = search_cases(narrowed, query="dichiarazione", user=consultant, staff=True)

    assert list(result) == [kept]


# --- The documents kept current ------------------------------------------------------------


def test_a_new_message_is_found_at_once(open_case, member, consultant):
    case = open_case()
    assert found(member, "fideiussione") == []

    process.case_post_message(case=case, author=consultant, body="Serve una fideiussione.")

    assert found(member, "fideiussioni") == [case.reference]


def test_an_edited_subject_is_found_and_the_old_one_is_not(open_case, consultant):
    case = open_case(subject="Contratto di affitto")

    case.subject = "Contratto di locazione"
    case.save()

    assert found(consultant, "locazione") == [case.reference]
    assert found(consultant, "affitto") == []


def test_an_unrelated_save_keeps_the_documents(open_case, consultant, member):
    case = open_case(subject="Contratto di affitto")
    process.case_post_message(case=case, author=member, body="Il canone è scaduto.")
    process.case_post_message(case=case, author=consultant, body="Riservato.", internal=True)
    stale = Case.objects.get(pk=case.pk)  # read before the next note

    process.case_post_message(case=case, author=consultant, body="Sollecito.", internal=True)
    stale.priority = "high"
    stale.save()  # writes every column, the search documents with the values it read

    assert found(consultant, "canone") == [case.reference]
    assert found(consultant, "sollecito") == [case.reference]
    assert found(member, "sollecito") == []


def test_an_internal_note_is_found_by_staff_not_by_the_member(open_case, member, consultant):
    case = open_case()

    process.case_post_message(case=case, author=consultant, body="Pratica delicata.", internal=True)

    assert found(consultant, "delicata") == [case.reference]
    assert found(member, "delicata") == []


# --- Exact matches -------------------------------------------------------------------------


def test_a_reference_finds_its_case_first_in_any_case_of_letters(open_case, consultant):
    open_case(subject="Altro")
    wanted = open_case(subject="Quello giusto")

    result = found(consultant, f"  {wanted.reference.lower()} ")

    assert result[0] == wanted.reference


def test_a_tax_code_finds_the_cooperatives_cases(
    open_case, supervisor, cooperative, other_cooperative, other_member
):
    ours = open_case()
    open_case(other_member, other_cooperative)
    spaced = f"IT {cooperative.tax_code[:5]} {cooperative.tax_code[5:]}"

    assert found(supervisor, spaced) == [ours.reference]


def test_a_cooperative_name_with_a_typo_finds_its_cases(
    open_case, supervisor, member, other_member, other_cooperative
):
    ours = open_case(subject="Un dubbio")
    theirs = open_case(other_member, other_cooperative, subject="Un altro dubbio")

    assert found(supervisor, "Cooperativa Alfq") == [ours.reference]
    assert found(supervisor, "Cooperativa Beta")[0] == theirs.reference
    assert found(other_member, "Cooperativa Alfq") == []


def test_a_reference_ranks_above_words(open_case, consultant, member):
    first = open_case(subject="Prima pratica")
    second = open_case(subject="Seconda pratica")
    process.case_post_message(case=second, author=member, body=f"Come in {first.reference}.")

    assert found(consultant, first.reference) == [first.reference, second.reference]


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
def test_an_empty_query_filters_nothing(open_case, consultant, query):
    case = open_case()

    result = search_cases(cases_visible_to(consultant), query=query, user=consultant, staff=True)

    assert list(result) == [case]


@pytest.mark.parametrize(
    "query",
    [
        "il di che della",  # stop words only
        "!!! ... ??? ---",
        "a & | !b",
        ":*",
        "dichiarazione:*",
        '"dichiarazione',  # an unbalanced quote
        "' OR 1=1 --",
        "x" * 10_000,
        "dich\x00iarazione",
        "-",
        "OR",
        "\\",
        "%_%",
    ],
)
def test_bad_queries_find_nothing_and_never_fail(open_case, consultant, query):
    open_case(subject="Modifica dello statuto della cooperativa")

    assert found(consultant, query) == []


def test_only_the_first_characters_are_read(open_case, consultant):
    case = open_case(subject="Dichiarazione IVA")

    # "statuto", past the limit, would leave nothing to find.
    assert found(consultant, "dichiarazione" + " " * QUERY_MAX_LENGTH + "statuto") == [
        case.reference
    ]


# --- The portal's search box -------------------------------------------------------------


def test_the_portal_finds_with_the_words_marked(browser_as, open_case, member):
    case = open_case(subject="Dichiarazione IVA", description="Costi < ricavi & oneri.")
    open_case(subject="Modifica dello statuto")

    page = browser_as(member).get(reverse("portal-cases"), {"q": "dichiarazioni"})

    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="q" value="dichiarazioni"' in html
    assert case.reference in html and "statuto" not in html
    assert "<mark>Dichiarazione</mark> IVA Costi &lt; ricavi &amp; oneri." in html


def test_the_portal_search_keeps_the_other_filters(browser_as, open_case, member):
    open_case(subject="Dichiarazione IVA")

    page = browser_as(member).get(
        reverse("portal-cases"), {"q": "dichiarazione", "status": "closed"}
    )

    assert "No case matches “dichiarazione”." in page.content.decode()


@pytest.mark.parametrize("field", FIELDS)
def test_the_portal_never_shows_what_a_member_may_not_find(
    browser_as, planted, field, member, other_member, other_cooperative
):
    theirs = planted(field, other_member, other_cooperative)
    ours = planted(field) if field not in PUBLIC_FIELDS else None

    page = browser_as(member).get(reverse("portal-cases"), {"q": WORD})

    html = page.content.decode()
    assert theirs.reference not in html
    if ours is not None:
        assert ours.reference not in html
    assert f"No case matches “{WORD}”." in html


def test_the_portal_refuses_an_overlong_search(browser_as, open_case, member):
    open_case()

    page = browser_as(member).get(reverse("portal-cases"), {"q": "x" * 10_000})

    assert page.status_code == 400
    assert "at most 200 characters" in page.content.decode()


# --- The staff header's box --------------------------------------------------------------


def test_the_header_box_is_on_staff_pages_only(browser_as, consultant, member):
    search_url = reverse("work:search")

    assert f'action="{search_url}"' in browser_as(consultant).get(reverse("work:inbox")).text
    assert f'action="{search_url}"' not in browser_as(member).get(reverse("portal-cases")).text
    assert browser_as(member).get(search_url, {"q": "statuto"}).status_code == 403


def test_the_header_box_opens_a_case_by_its_reference(browser_as, open_case, consultant):
    case = open_case()

    response = browser_as(consultant).get(reverse("work:search"), {"q": case.reference.lower()})

    assert response.status_code == 302
    assert response.url == reverse("work:case", args=[case.pk])


def test_the_header_box_sends_words_to_the_case_list(browser_as, open_case, consultant):
    case = open_case(subject="Dichiarazione IVA")
    process.case_post_message(case=case, author=consultant, body="Verificare.", internal=True)

    response = browser_as(consultant).get(reverse("work:search"), {"q": " verificare "})

    assert response.status_code == 302
    assert response.url == f"{reverse('work:cases')}?q=verificare"
    listed = browser_as(consultant).get(response.url).content.decode()
    assert reverse("work:case", args=[case.pk]) in listed and "<mark>Verificare</mark>" in listed


def test_the_header_box_never_reveals_a_case_of_another_area(
    browser_as, open_case, consultant, fiscal_reader
):
    case = open_case(subject="Modifica dello statuto")
    browser = browser_as(fiscal_reader)

    response = browser.get(reverse("work:search"), {"q": case.reference})

    # Where any query that finds nothing goes, and the list there does not show it.
    assert response.status_code == 302
    assert response.url == f"{reverse('work:cases')}?q={case.reference}"
    listed = browser.get(response.url)
    assert listed.status_code == 200
    assert reverse("work:case", args=[case.pk]) not in listed.content.decode()
    assert "statuto" not in listed.content.decode()


def test_an_empty_header_search_is_the_whole_list(browser_as, consultant):
    response = browser_as(consultant).get(reverse("work:search"), {"q": "  "})

    assert response.status_code == 302 and response.url == reverse("work:cases")
