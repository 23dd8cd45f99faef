"""The dashboard a supervisor can act on: compliance against due times, filters kept in the URL,
low ratings with their comment, weekly trends, and a load meter that turns red when full."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from casework import reports
from casework.models import Rating
from tests import factories
from tests.portal.conftest import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def crafted(cooperative, area, consultant):
    """Five cases whose resolution was due around now: one met, one resolved late, one open
    past its due time, one not yet due, one cancelled after its due time."""
    now = timezone.now()
    day = timedelta(days=1)
    return {
        "met": make_case(
            cooperative=cooperative,
            area=area,
            assignee=consultant,
            status="closed",
            resolved_at=now - 3 * day,
            closed_at=now - 2 * day,
            resolution_due_at=now - 2 * day,
            sla_state="met",
        ),
        "late": make_case(
            cooperative=cooperative,
            area=area,
            assignee=consultant,
            status="resolved",
            resolved_at=now - day,
            resolution_due_at=now - 2 * day,
            confirmation_due_at=now + 3 * day,
            sla_state="met",
        ),
        "open_breached": make_case(
            cooperative=cooperative,
            area=area,
            assignee=consultant,
            status="assigned",
            resolution_due_at=now - day,
            sla_state="breached",
        ),
        "not_yet_due": make_case(
            cooperative=cooperative,
            area=area,
            assignee=consultant,
            status="assigned",
            resolution_due_at=now + 3 * day,
        ),
        "cancelled": make_case(
            cooperative=cooperative,
            area=area,
            status="cancelled",
            resolution_due_at=now - day,
            closed_at=now - day,
        ),
    }


def test_compliance_counts_open_breached_cases_as_missed(client, supervisor, crafted):
    client.force_login(supervisor)
    response = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    figure = response.context["data"]["compliance"]["resolution"]

    # 1 met of 3 due: the late and the open breached count as missed, the others not at all
    assert (figure["due"], figure["met"], figure["late"], figure["open"]) == (3, 1, 1, 1)
    assert figure["percent"] == 33.3
    page = response.content.decode()
    assert 'data-figure="compliance">33.3' in page
    assert "still open past their due time" in page


def test_a_case_due_before_the_period_is_left_out(
    client, supervisor, crafted, cooperative, area, consultant
):
    make_case(
        cooperative=cooperative,
        area=area,
        status="assigned",
        assignee=consultant,
        resolution_due_at=timezone.now() - timedelta(days=200),
        sla_state="breached",
    )
    client.force_login(supervisor)
    default = client.get("/dashboard/").context["data"]["compliance"]["resolution"]
    assert default["due"] == 3

    today = timezone.localdate()
    since = (today - timedelta(days=365)).isoformat()
    wide = client.get(f"/dashboard/?period=custom&since={since}&until={today.isoformat()}")
    assert wide.context["data"]["compliance"]["resolution"]["due"] == 4


def test_filters_narrow_every_figure_and_stay_in_the_links(
    client, supervisor, crafted, other_cooperative, other_area, office
):
    make_case(cooperative=other_cooperative, area=other_area, status="triage", sla_state="breached")
    client.force_login(supervisor)

    everything = client.get("/dashboard/").context["data"]["counts"]
    response = client.get(f"/dashboard/?area={crafted['met'].area.code}")
    data = response.context["data"]

    assert data["counts"]["breached"] == everything["breached"] - 1
    assert [row["id"] for row in data["by_area"]] == [crafted["met"].area_id]
    links = response.context["links"]
    assert parse_qs(urlsplit(links["breached"]).query)["area"] == [crafted["met"].area.code]
    # the list behind the tile holds the same number of cases
    listed = client.get(links["breached"]).context["page"].paginator.count
    assert listed == data["counts"]["breached"]


def test_a_consultant_filter_keeps_their_cases_only(client, supervisor, crafted, consultant):
    other = factories.ConsultantFactory(areas=list(consultant.consultant.areas.all()))
    make_case(
        cooperative=crafted["met"].cooperative,
        area=crafted["met"].area,
        status="assigned",
        assignee=other.user,
        sla_state="breached",
    )
    client.force_login(supervisor)
    data = client.get(f"/dashboard/?consultant={consultant.username}").context["data"]
    assert data["counts"]["breached"] == 1  # the open breached case, not the other's
    assert [row["username"] for row in data["consultants"]] == [consultant.username]


@pytest.mark.parametrize(
    "query",
    [
        "since=2026-12-31&until=2026-01-01",
        "since=not-a-date",
        "area=nope&office=XX&consultant=nobody",
        "since=9999-12-31",
        "period=%00",
        "since=" + "9" * 10_000,
    ],
)
def test_bad_filters_are_explained_not_a_500(client, supervisor, crafted, query):
    client.force_login(supervisor)
    response = client.get(f"/dashboard/?{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'class="error"' in response.content.decode()


def test_low_ratings_show_score_and_comment(client, supervisor, crafted, member, area_supervisor):
    Rating.objects.create(
        case=crafted["met"], score=2, comment="Risposta arrivata tardi", rated_by=member
    )
    Rating.objects.create(case=crafted["late"], score=5, comment="Ottimo", rated_by=member)
    client.force_login(supervisor)
    response = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    ratings = response.context["data"]["low_ratings"]
    assert [r["reference"] for r in ratings["ratings"]] == [crafted["met"].reference]
    page = response.content.decode()
    assert "Risposta arrivata tardi" in page and "Ottimo" not in page
    assert 'data-score="2"' in page


def test_weekly_trends_count_this_weeks_cases(supervisor, crafted):
    rows = reports.weekly_trends(supervisor)
    assert rows[-1]["week"] == timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    this_week = sum(row["opened"] for row in rows)
    assert this_week == 5  # every crafted case was opened two hours ago


def test_a_full_consultant_is_red(client, supervisor, consultant, crafted):
    profile = consultant.consultant
    profile.capacity = 2
    profile.active_cases = 2
    profile.save()
    client.force_login(supervisor)
    page = client.get("/dashboard/").content.decode()
    # value 2 at or above high (1.5) with optimum 0: the browser draws the worst colour
    assert 'max="2" low="1.4" high="1.5" optimum="0" value="2"' in page
