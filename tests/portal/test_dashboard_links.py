"""The dashboard's tiles and counts are links to the staff case list filtered to exactly the
cases they count: following each one lists the number the dashboard shows."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from casework.models import Case, CaseStatus
from tests import factories
from tests.portal.conftest import make_case
from workflows import process

pytestmark = pytest.mark.django_db

OPEN = list(CaseStatus.OPEN)
# A link to the list followed by the figure it stands for: a tile's `<span class="figure">`, a
# table's count, a consultant's load ("3 of 15").
LINKED_FIGURE = re.compile(
    r'<a (?:class="[^"]*" )?href="(?P<url>/work/cases/\?[^"]*)"(?P<attrs>[^>]*)>'
    r'(?:<span class="figure" data-figure="(?P<figure>\w+)">)?(?P<n>\d+)'
)


@pytest.fixture
def dashboard_links_world(
    open_case, consultant, member, cooperative, other_cooperative, other_member, area, other_area
):
    """Open cases in every queue and SLA state, in two areas and two offices, some held by the
    legal consultant (through the process, so that their load counts them), and finished cases
    that no open figure may count."""
    now = timezone.now()
    held = [open_case(subject=f"Pratica {n}") for n in range(3)]
    held.append(open_case(other_member, other_cooperative, subject="Pratica della Beta"))
    process.case_request_info(case=held[1], actor=consultant, question="Il verbale?")
    Case.objects.filter(pk=held[0].pk).update(sla_state="at_risk")
    Case.objects.filter(pk=held[3].pk).update(sla_state="breached")
    make_case(cooperative=cooperative, area=area, status="triage")
    make_case(cooperative=other_cooperative, area=other_area, status="unassigned")
    make_case(cooperative=other_cooperative, area=area, status="unassigned", sla_state="breached")
    make_case(cooperative=cooperative, area=other_area, status="unassigned", sla_state="at_risk")
    make_case(
        cooperative=cooperative,
        area=area,
        status="resolved",
        assignee=consultant,
        resolved_at=now - timedelta(hours=1),
        confirmation_due_at=now + timedelta(days=5),
        sla_state="met",
    )
    make_case(
        cooperative=cooperative,
        area=area,
        status="closed",
        assignee=consultant,
        resolved_at=now - timedelta(hours=3),
        closed_at=now - timedelta(hours=1),
        sla_state="breached",
    )
    make_case(cooperative=other_cooperative, area=area, status="cancelled", sla_state="at_risk")
    factories.ConsultantFactory(
        user__username="consulente.fiscale", office=cooperative.office, areas=[other_area]
    )
    return held


def _linked_figures(page: str) -> list[tuple[str, str, int]]:
    """(what, list URL, figure) for every figure of the page that links to the case list."""
    found = []
    for match in LINKED_FIGURE.finditer(page):
        count = re.search(r'data-count="(\w+)"', match["attrs"])
        what = match["figure"] or (count[1] if count else "?")
        found.append((what, html.unescape(match["url"]), int(match["n"])))
    return found


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.mark.parametrize("who", ["supervisor", "area_supervisor", "admin_user"])
def test_every_linked_figure_lists_exactly_the_cases_it_counts(
    client, request, dashboard_links_world, who
):
    # Given cases in every state, when a supervisor opens the dashboard
    client.force_login(request.getfixturevalue(who))
    response = client.get("/dashboard/")
    assert response.status_code == 200
    data = response.context["data"]
    links = _linked_figures(response.content.decode())

    # Then every tile, every count of the area, office and consultant tables and both watch
    # lists link to the case list
    tiles = 6 + 4
    tables = 5 * len(data["by_area"]) + 3 * len(data["by_office"]) + 3 * len(data["consultants"])
    assert len(links) == tiles + tables + 2
    assert {what for what, _url, _n in links} >= {
        "open",
        "on_track",
        "at_risk",
        "breached",
        "paused",
        "met",
        "triage",
        "unassigned",
        "waiting",
        "resolved",
        "load",
        "watch",
    }
    # and following each lists the number the dashboard shows
    wrong = []
    for what, url, figure in links:
        listed = client.get(url)
        assert listed.status_code == 200, url
        count = listed.context["page"].paginator.count
        if count != figure:
            wrong.append(f"{what} {url}: {figure} on the dashboard, {count} listed")
    assert not wrong, "\n".join(wrong)
    assert any(figure > 0 for _what, _url, figure in links)


def test_the_tiles_name_the_statuses_and_sla_state_of_their_figure(
    client, supervisor, dashboard_links_world
):
    client.force_login(supervisor)
    links = client.get("/dashboard/").context["links"]

    assert _query(links["open"]) == {"status": OPEN}
    for state in ("on_track", "at_risk", "breached", "paused", "met"):
        assert _query(links[state]) == {"status": OPEN, "sla": [state]}
    for status in ("triage", "unassigned", "waiting", "resolved"):
        assert _query(links[status]) == {"status": [status]}
    assert all(urlsplit(url).path == "/work/cases/" for url in links.values())


def test_the_rows_of_the_tables_add_their_area_office_or_consultant(
    client, supervisor, consultant, area, office, dashboard_links_world
):
    client.force_login(supervisor)
    response = client.get("/dashboard/")
    data = response.context["data"]

    legal = next(row for row in data["by_area"] if row["id"] == area.pk)
    assert _query(legal["links"]["open"]) == {"status": OPEN, "area": ["legal"]}
    assert _query(legal["links"]["breached"]) == {
        "status": OPEN,
        "sla": ["breached"],
        "area": ["legal"],
    }
    # the two queues apart, as the tiles count them
    assert _query(legal["links"]["triage"]) == {"status": ["triage"], "area": ["legal"]}
    assert _query(legal["links"]["unassigned"]) == {"status": ["unassigned"], "area": ["legal"]}
    bologna = next(row for row in data["by_office"] if row["code"] == office.code)
    assert _query(bologna["links"]["at_risk"]) == {
        "status": OPEN,
        "sla": ["at_risk"],
        "office": ["BO"],
    }
    mine = next(row for row in data["consultants"] if row["username"] == consultant.username)
    assert _query(mine["links"]["load"]) == {
        "assignee": [consultant.username],
        "status": list(CaseStatus.ACTIVE),
    }
    assert mine["active_cases"] == 4
    page = response.content.decode()
    assert 'href="/work/queue/"' in page
