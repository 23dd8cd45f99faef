"""A cooperative's report for a period, on its page, in its CSV (one row per case plus totals
that add up) and in Excel."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from casework.models import Rating
from tests.portal.conftest import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def year_of_cases(cooperative, area, consultant, outcome, member):
    """Cases opened last year and this year, in every bucket; one opened last year and
    resolved this year."""
    now = timezone.now()
    this_year = timezone.localdate().replace(month=1, day=1)
    start = timezone.make_aware(timezone.datetime.combine(this_year, timezone.datetime.min.time()))
    before = start - timedelta(days=20)
    made = {
        "old_open": make_case(cooperative=cooperative, area=area, created_at=before),
        "old_resolved_now": make_case(
            cooperative=cooperative,
            area=area,
            assignee=consultant,
            status="closed",
            outcome=outcome,
            created_at=before,
            resolved_at=now - timedelta(hours=5),
            resolution_due_at=now - timedelta(hours=1),
            closed_at=now - timedelta(hours=4),
        ),
        "in_progress": make_case(
            cooperative=cooperative, area=area, status="assigned", assignee=consultant
        ),
        "awaiting": make_case(
            cooperative=cooperative,
            area=area,
            assignee=consultant,
            status="resolved",
            outcome=outcome,
            resolved_at=now - timedelta(hours=1),
            resolution_due_at=now + timedelta(days=1),
            confirmation_due_at=now + timedelta(days=5),
        ),
        "closed": make_case(
            cooperative=cooperative,
            area=area,
            assignee=consultant,
            status="closed",
            outcome=outcome,
            resolved_at=now - timedelta(hours=1),
            resolution_due_at=now - timedelta(hours=2),
            closed_at=now,
            minutes_spent=90,
        ),
        "cancelled": make_case(cooperative=cooperative, area=area, status="cancelled"),
    }
    Rating.objects.create(case=made["closed"], score=4, comment="Bene", rated_by=member)
    return made


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=","))


def _section(rows, header_first: str) -> list[list[str]]:
    start = next(i for i, row in enumerate(rows) if row and row[0] == header_first)
    end = next((i for i in range(start, len(rows)) if not rows[i]), len(rows))
    return rows[start + 1 : end]


def test_this_year_counts_the_cases_opened_in_it_and_the_buckets_add_up(
    client, supervisor, cooperative, year_of_cases
):
    client.force_login(supervisor)
    response = client.get(
        f"/reports/cooperatives/{cooperative.pk}/?period=year", HTTP_ACCEPT_LANGUAGE="en"
    )
    report = response.context["report"]
    assert report["cases"] == 4  # the two opened last year are not among them
    buckets = report["buckets"]
    assert buckets == {"in_progress": 1, "awaiting_confirmation": 1, "closed": 1, "stopped": 1}
    assert sum(buckets.values()) == report["cases"]
    # the one opened last year and resolved now counts among the period's resolutions
    assert report["resolved_in_period"] == {"resolved": 3, "on_time": 2}
    page = response.content.decode()
    assert "Cases opened from 01/01/" in page
    assert "Resolved in the period, whenever opened" in page


def test_the_csv_has_one_row_per_case_and_the_totals(
    client, supervisor, cooperative, year_of_cases
):
    client.force_login(supervisor)
    client.cookies["django_language"] = "en"
    response = client.get(f"/reports/cooperatives/{cooperative.pk}/export.csv?period=year")
    assert response.status_code == 200
    rows = _rows(response.content)
    figures = dict(_section(rows, "Figure"))
    parts = (
        "In progress",
        "Resolved, awaiting confirmation",
        "Closed",
        "Cancelled or not accepted",
    )
    assert int(figures["Cases"]) == sum(int(figures[p]) for p in parts) == 4
    cases = _section(rows, "Reference")
    references = sorted(row[0] for row in cases)
    expected = sorted(
        year_of_cases[k].reference for k in ("in_progress", "awaiting", "closed", "cancelled")
    )
    assert references == expected
    closed = next(row for row in cases if row[0] == year_of_cases["closed"].reference)
    header = rows[rows.index(next(r for r in rows if r and r[0] == "Reference"))]
    record = dict(zip(header, closed, strict=True))
    assert record["Minutes"] == "90" and record["Rating"] == "4"
    assert record["Resolved on time"] == "no" and record["Status"] == "Closed"


def test_every_case_without_a_period(client, supervisor, cooperative, year_of_cases):
    client.force_login(supervisor)
    rows = _rows(
        client.get(
            f"/reports/cooperatives/{cooperative.pk}/export.csv", HTTP_ACCEPT_LANGUAGE="en"
        ).content
    )
    assert len(_section(rows, "Reference")) == 6


def test_excel_has_the_same_cases(client, supervisor, cooperative, year_of_cases):
    client.force_login(supervisor)
    response = client.get(
        f"/reports/cooperatives/{cooperative.pk}/?period=year&format=xlsx",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Totals", "Cases"]
    cases = list(book["Cases"].iter_rows(values_only=True))
    assert cases[0][0] == "Reference" and len(cases) == 1 + 4
    assert {row[0] for row in cases[1:]} == {
        year_of_cases[k].reference for k in ("in_progress", "awaiting", "closed", "cancelled")
    }
    totals = {row[0]: row[1] for row in book["Totals"].iter_rows(values_only=True) if row}
    assert totals["Cases"] == 4


@pytest.mark.parametrize(
    "query",
    ["since=2026-12-31&until=2026-01-01", "since=banana", "period=never", "until=0000-01-01"],
)
def test_a_bad_period_is_explained(client, supervisor, cooperative, year_of_cases, query):
    client.force_login(supervisor)
    response = client.get(
        f"/reports/cooperatives/{cooperative.pk}/?{query}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    # nothing of the bad period applies: every case is counted
    assert response.context["report"]["cases"] == 6


def test_another_cooperatives_member_cannot_export_it(client, other_member, cooperative):
    client.force_login(other_member)
    for suffix in ("?period=year&format=xlsx", "export.csv?period=year"):
        assert client.get(f"/reports/cooperatives/{cooperative.pk}/{suffix}").status_code == 404
