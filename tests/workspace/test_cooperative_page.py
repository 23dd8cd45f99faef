"""The staff's page of a cooperative: profile, people, latest cases, figures and report links.

Staff serve every cooperative, so any consultant or supervisor opens any cooperative's page (as
they open its report); the cases listed and every figure count only the cases the reader may
see. Members of cooperatives are refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.utils import timezone

from casework.models import Case, CaseStatus, Membership
from tests import factories
from tests.portal.conftest import make_case
from workflows import process

pytestmark = pytest.mark.django_db


@pytest.fixture
def alfa_page_world(
    process_setup, cooperative, member, consultant, outcome, other_area, other_member
):
    """Cooperativa Alfa with a full profile, three people (one disabled), legal cases in several
    states (one breached, one resolved with minutes and rated, one with a time entry of last
    year), one fiscal case; Cooperativa Beta with a case of its own."""
    cooperative.city = "Imola"
    cooperative.email = "info@alfa.example.org"
    cooperative.joined_on = date(2011, 3, 14)
    cooperative.sector = factories.SectorFactory(code="agri", name="Agroalimentare")
    cooperative.save()
    member.first_name, member.last_name = "Anna", "Bianchi"
    member.save()
    legal_rep = factories.MembershipFactory(
        cooperative=cooperative,
        role=Membership.Role.LEGAL_REPRESENTATIVE,
        user__username="presidente.alfa",
        user__first_name="Ugo",
        user__last_name="Fantozzi",
    ).user
    factories.MembershipFactory(
        cooperative=cooperative,
        role=Membership.Role.REFERENT,
        user__username="ex.referente",
        user__first_name="Pina",
        user__last_name="Fantozzi",
        user__is_active=False,
    )

    this_year = timezone.localdate().year
    with time_machine.travel(
        datetime(this_year - 1, 12, 15, 10, 0, tzinfo=timezone.get_current_timezone())
    ):
        old = process.case_open(
            requester=member,
            cooperative=cooperative,
            area=process_setup,
            subject="Pratica dell'anno scorso",
            description="Bilancio",
        )
        process.case_record_time(case=old, actor=consultant, minutes=90)
    process.case_record_time(case=old, actor=consultant, minutes=20)
    worked = process.case_open(
        requester=legal_rep,
        cooperative=cooperative,
        area=process_setup,
        subject="Verbale di assemblea",
        description="Parere",
    )
    process.case_resolve(
        case=worked, actor=consultant, outcome=outcome, summary="Fatto", minutes_spent=45
    )
    process.case_confirm(case=worked, actor=member)
    process.case_rate(case=worked, actor=member, score=4)
    late = process.case_open(
        requester=member,
        cooperative=cooperative,
        area=process_setup,
        subject="Contratto in ritardo",
        description="Contratto di rete",
    )
    Case.objects.filter(pk=late.pk).update(sla_state="breached")
    fiscal = make_case(
        cooperative=cooperative, area=other_area, subject="Dichiarazione IVA dell'Alfa"
    )
    beta_case = make_case(
        cooperative=other_member.memberships.get().cooperative,
        area=process_setup,
        subject="Statuto della Beta",
    )
    return {
        "cooperative": cooperative,
        "legal": [old, worked, late],
        "fiscal": fiscal,
        "beta_case": beta_case,
        "late": late,
    }


def _page(client, user, cooperative):
    client.force_login(user)
    return client.get(f"/work/cooperatives/{cooperative.pk}/")


def _figure(page: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', page)
    assert match, name
    return match.group(1).strip()


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_a_supervisor_sees_the_profile_people_cases_and_figures(
    client, supervisor, alfa_page_world, other_member
):
    # Given Cooperativa Alfa and its cases, when a supervisor of every area opens its page
    cooperative = alfa_page_world["cooperative"]
    response = _page(client, supervisor, cooperative)

    # Then the profile is all there
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Cooperativa Alfa</h1>" in page
    for fact, text in {
        "tax_code": cooperative.tax_code,
        "office": "Bologna (BO)",
        "sector": "Agroalimentare",
        "membership_status": "Active member",
        "city": "Imola",
    }.items():
        assert re.search(rf'data-fact="{fact}">{re.escape(text)}<', page), fact
    assert 'datetime="2011-03-14"' in page
    assert 'href="mailto:info@alfa.example.org"' in page
    # and its people with their roles, the disabled account said so; Beta's people are not
    people = response.context["people"]
    assert [(m.user.username, m.get_role_display()) for m in people] == [
        ("socio", "Legal representative"),
        ("presidente.alfa", "Legal representative"),
        ("ex.referente", "Referent"),
    ]
    assert "account disabled" in page
    assert other_member.username not in page
    assert other_member.get_full_name() not in page
    # and every case of Alfa, the newest first; Beta's case is not there
    listed = [row["case"] for row in response.context["rows"]]
    legal = alfa_page_world["legal"]
    assert listed == [legal[2], legal[1], alfa_page_world["fiscal"], legal[0]]
    assert alfa_page_world["beta_case"].reference not in page
    assert "Statuto della Beta" not in page
    # and the figures: open, breached, this year's minutes (20 + 45, not last year's 90), rating
    assert _figure(page, "open") == "3"
    # (last year's case is long past its due times, and the late one was marked breached)
    breached = Case.objects.filter(
        cooperative=cooperative, status__in=CaseStatus.OPEN, sla_state="breached"
    )
    assert set(breached) == {legal[0], legal[2]}
    assert _figure(page, "breached") == "2"
    assert _figure(page, "minutes") == "65"
    assert _figure(page, "rating") == "4"
    assert "from 1 rating" in page


def test_the_page_links_to_the_case_list_the_report_and_its_csv(
    client, supervisor, alfa_page_world
):
    cooperative = alfa_page_world["cooperative"]
    response = _page(client, supervisor, cooperative)
    links = response.context["links"]
    page = response.content.decode()

    assert _query(links["all_cases"]) == {"cooperative": [str(cooperative.pk)]}
    assert urlsplit(links["all_cases"]).path == "/work/cases/"
    assert page.count(f'href="/work/cases/?cooperative={cooperative.pk}"') == 2
    assert _query(links["open"]) == {
        "cooperative": [str(cooperative.pk)],
        "status": list(CaseStatus.OPEN),
    }
    assert _query(links["breached"]) == {
        "cooperative": [str(cooperative.pk)],
        "status": list(CaseStatus.OPEN),
        "sla": ["breached"],
    }
    assert f'href="/reports/cooperatives/{cooperative.pk}/"' in page
    assert f'href="/reports/cooperatives/{cooperative.pk}/export.csv"' in page
    for case in alfa_page_world["legal"]:
        assert f'href="/work/cases/{case.pk}/"' in page


@pytest.mark.parametrize("who", ["supervisor", "consultant", "other_area_consultant"])
def test_the_figures_link_to_the_list_of_exactly_the_cases_they_count(
    client, request, alfa_page_world, who
):
    # Given the page of Alfa as a supervisor, a legal consultant or a fiscal one
    response = _page(client, request.getfixturevalue(who), alfa_page_world["cooperative"])
    figures, links = response.context["figures"], response.context["links"]

    # When they follow "All cases", the open and the breached figures, then the case list shows
    # as many cases as the page said
    for link, figure in (("all_cases", "total"), ("open", "open"), ("breached", "breached")):
        listed = client.get(links[link])
        assert listed.status_code == 200
        assert listed.context["page"].paginator.count == figures[figure], link
    assert figures["total"] > 0


def test_a_consultant_sees_every_cooperative_but_counts_only_the_cases_of_their_areas(
    client, consultant, alfa_page_world
):
    # Given Alfa has three legal cases and one fiscal, when the legal consultant opens its page
    cooperative = alfa_page_world["cooperative"]
    response = _page(client, consultant, cooperative)

    # Then the profile and people are there, and only the legal cases, listed and counted
    assert response.status_code == 200
    page = response.content.decode()
    assert cooperative.tax_code in page and "presidente.alfa" in {
        m.user.username for m in response.context["people"]
    }
    listed = {row["case"].pk for row in response.context["rows"]}
    assert listed == {case.pk for case in alfa_page_world["legal"]}
    assert "Dichiarazione IVA" not in page
    assert response.context["figures"]["total"] == 3
    assert _figure(page, "open") == "2"


def test_staff_of_another_area_see_the_profile_and_only_their_areas_cases(
    client, other_area_consultant, alfa_page_world
):
    # Given Alfa's three legal cases and one fiscal, when the fiscal consultant opens its page
    cooperative = alfa_page_world["cooperative"]
    response = _page(client, other_area_consultant, cooperative)

    # Then they see the profile, the fiscal case only, and figures over it alone
    page = response.content.decode()
    assert response.status_code == 200
    assert "Cooperativa Alfa" in page and cooperative.tax_code in page
    assert [row["case"] for row in response.context["rows"]] == [alfa_page_world["fiscal"]]
    for case in alfa_page_world["legal"]:
        assert case.reference not in page and case.subject not in page
    figures = response.context["figures"]
    assert (figures["total"], figures["open"], figures["breached"]) == (1, 1, 0)
    assert (figures["minutes_this_year"], figures["ratings"]) == (0, 0)
    assert _figure(page, "rating") == "—"


@pytest.mark.parametrize("who", ["member", "other_member", "nobody"])
def test_members_and_people_without_a_role_are_refused(client, request, alfa_page_world, who):
    if who == "nobody":
        user = factories.UserFactory(username="senza.ruolo")
    else:
        user = request.getfixturevalue(who)
    response = _page(client, user, alfa_page_world["cooperative"])
    assert response.status_code == 403
    assert "Contratto in ritardo" not in response.content.decode()


def test_an_anonymous_visitor_is_sent_to_log_in(client, alfa_page_world):
    response = client.get(f"/work/cooperatives/{alfa_page_world['cooperative'].pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("pk", ["999999", "0"])
def test_a_cooperative_that_does_not_exist_is_not_found(client, supervisor, pk):
    client.force_login(supervisor)
    assert client.get(f"/work/cooperatives/{pk}/").status_code == 404


def test_an_unopened_case_is_marked_unread_until_the_reader_opens_it(
    client, supervisor, alfa_page_world
):
    cooperative = alfa_page_world["cooperative"]
    late = alfa_page_world["late"]
    rows = {row["case"].pk: row for row in _page(client, supervisor, cooperative).context["rows"]}
    assert rows[late.pk]["unread"]

    # When the supervisor opens the case, then the page shows it read
    assert client.get(f"/work/cases/{late.pk}/").status_code == 200
    response = client.get(f"/work/cooperatives/{cooperative.pk}/")
    rows = {row["case"].pk: row for row in response.context["rows"]}
    assert not rows[late.pk]["unread"]
    assert rows[alfa_page_world["legal"][0].pk]["unread"]
    page = response.content.decode()
    assert page.count('class="unread"') == len(rows) - 1


def test_the_sla_badge_says_the_state_of_each_case(client, supervisor, alfa_page_world):
    response = _page(client, supervisor, alfa_page_world["cooperative"])
    states = {row["case"].pk: row["sla"].state for row in response.context["rows"]}
    worked = alfa_page_world["legal"][1]
    assert states[worked.pk] == "met"
    assert 'class="pill sla-met"' in response.content.decode()


def test_only_the_twenty_most_recent_cases_are_listed(client, supervisor, cooperative, area):
    now = timezone.now()
    cases = [
        make_case(cooperative=cooperative, area=area, created_at=now - timedelta(hours=n))
        for n in range(25)
    ]
    response = _page(client, supervisor, cooperative)
    listed = [row["case"].pk for row in response.context["rows"]]
    assert listed == [case.pk for case in cases[:20]]
    assert "The 20 most recent of 25." in response.content.decode()


def test_the_query_count_does_not_grow_with_cases_or_people(
    client, supervisor, cooperative, area, django_assert_max_num_queries
):
    def add(n):
        for _ in range(n):
            make_case(cooperative=cooperative, area=area)
            factories.MembershipFactory(cooperative=cooperative)

    client.force_login(supervisor)
    path = f"/work/cooperatives/{cooperative.pk}/"
    add(3)
    client.get(path)  # sessions, content types
    # The page's six (cooperative, cases, counts, minutes, ratings, people), the session, the
    # user and their roles, and what the header needs.
    with django_assert_max_num_queries(14) as few:
        assert client.get(path).status_code == 200
    add(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(path).status_code == 200


def test_the_cooperatives_list_links_each_row_to_its_page(
    client, supervisor, member, cooperative, other_cooperative
):
    client.force_login(supervisor)
    page = client.get("/reports/cooperatives/").content.decode()
    for coop in (cooperative, other_cooperative):
        assert f'href="/work/cooperatives/{coop.pk}/"' in page
        assert f'href="/reports/cooperatives/{coop.pk}/"' in page

    # A member of two cooperatives still gets the reports only
    factories.MembershipFactory(cooperative=other_cooperative, user=member)
    client.force_login(member)
    page = client.get("/reports/cooperatives/").content.decode()
    assert "/work/cooperatives/" not in page
    assert f'href="/reports/cooperatives/{cooperative.pk}/"' in page
