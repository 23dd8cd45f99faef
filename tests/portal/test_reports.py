"""The per-cooperative report: figures from the database, and a CSV with the same numbers."""

import csv
import io
import re
import statistics
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from casework import reports
from casework.models import Case, Rating
from tests.portal.conftest import make_case, make_mixed_cases

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_history(cooperative, other_cooperative, area, consultant, outcome, member, other_member):
    cases = make_mixed_cases(
        10, cooperative=cooperative, area=area, consultant=consultant, outcome=outcome, rater=member
    )
    late = make_case(
        cooperative=cooperative,
        area=area,
        assignee=consultant,
        status="closed",
        outcome=outcome,
        first_response_at=timezone.now() - timedelta(days=2),
        first_response_due_at=timezone.now() - timedelta(days=3),
        resolved_at=timezone.now() - timedelta(days=1),
        resolution_due_at=timezone.now() - timedelta(days=2),
        closed_at=timezone.now() - timedelta(hours=3),
        first_response_elapsed_seconds=9000,
        resolution_elapsed_seconds=60000,
        minutes_spent=125,
    )
    Rating.objects.create(case=late, score=2, rated_by=member)
    # Another cooperative's cases never count.
    make_mixed_cases(
        5,
        cooperative=other_cooperative,
        area=area,
        consultant=consultant,
        outcome=outcome,
        rater=other_member,
    )
    return [*cases, late]


def test_report_figures_match_the_database(cooperative, mixed_history):
    report = reports.cooperative_report(cooperative)
    cases = Case.objects.filter(cooperative=cooperative)
    resolved = cases.filter(status__in=["resolved", "closed"], resolved_at__isnull=False)
    assert report["cases"] == cases.count() == 11
    assert report["resolved"] == resolved.count() == 5
    assert report["resolved_on_time"] == 4
    assert report["sla_compliance_percent"] == 80
    assert report["minutes_delivered"] == sum(cases.values_list("minutes_spent", flat=True))
    fr = [c.first_response_elapsed_seconds for c in cases if c.first_response_at]
    res = [c.resolution_elapsed_seconds for c in resolved]
    assert report["median_first_response_minutes"] == round(statistics.median(fr) / 60, 1)
    assert report["median_resolution_minutes"] == round(statistics.median(res) / 60, 1)
    ratings = Rating.objects.filter(case__cooperative=cooperative)
    scores = list(ratings.values_list("score", flat=True))
    assert report["ratings"] == len(scores) == 3
    assert report["satisfaction_average"] == round(statistics.mean(scores), 2)
    distribution = {row["score"]: row["count"] for row in report["satisfaction_distribution"]}
    assert distribution == {n: scores.count(n) for n in range(1, 6)}
    (area_row,) = report["by_area"]
    assert area_row["total"] == 11 and area_row["on_time"] == 4 and area_row["percent"] == 80
    assert report["by_outcome"][0]["n"] == 5


def test_median_is_computed_by_postgresql_and_matches_python(cooperative, area):
    for seconds in (60, 600, 6000, 60000):
        make_case(
            cooperative=cooperative,
            area=area,
            first_response_at=timezone.now(),
            first_response_elapsed_seconds=seconds,
        )
    medians = reports.medians_in_seconds(
        Case.objects.all(), {"first_response_elapsed_seconds": reports.ANSWERED}
    )
    assert medians["first_response_elapsed_seconds"] == statistics.median([60, 600, 6000, 60000])


def test_median_fallback_for_the_embedded_sqlite(cooperative, area, monkeypatch):
    for seconds in (60, 600, 6000):
        make_case(
            cooperative=cooperative,
            area=area,
            first_response_at=timezone.now(),
            first_response_elapsed_seconds=seconds,
        )
    make_case(cooperative=cooperative, area=area, first_response_elapsed_seconds=99999)
    monkeypatch.setattr(reports.connection, "vendor", "sqlite")
    medians = reports.medians_in_seconds(
        Case.objects.all(),
        {
            "first_response_elapsed_seconds": reports.ANSWERED,
            "resolution_elapsed_seconds": reports.RESOLVED,
        },
    )
    assert medians == {"first_response_elapsed_seconds": 600, "resolution_elapsed_seconds": None}


def test_empty_report_has_no_numbers_to_invent(client, member, cooperative):
    client.force_login(member)
    response = client.get(f"/reports/cooperatives/{cooperative.pk}/")
    assert response.status_code == 200
    report = response.context["report"]
    assert report["cases"] == 0 and report["sla_compliance_percent"] is None
    assert report["median_resolution_minutes"] is None


def _page_figures(page: str) -> list[tuple[str, str]]:
    table = page[page.index('id="report-figures"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r'<th scope="row">(.*?)</th><td class="num" data-value>(.*?)</td>', table)
    return [(unescape(label), unescape(value).replace("—", "")) for label, value in rows]


def _csv_rows(response, delimiter):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter))


@pytest.mark.parametrize(("language", "delimiter"), [("en", ","), ("it", ";")])
def test_csv_has_the_same_figures_as_the_page(
    client, member, cooperative, mixed_history, language, delimiter
):
    client.cookies["django_language"] = language
    client.force_login(member)
    page = client.get(f"/reports/cooperatives/{cooperative.pk}/").content.decode()
    figures = _page_figures(page)
    assert len(figures) == 14
    export = client.get(f"/reports/cooperatives/{cooperative.pk}/export.csv")
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in export["Content-Disposition"]
    rows = _csv_rows(export, delimiter)
    assert rows[0] == [rows[0][0], cooperative.name]
    start = next(i for i, row in enumerate(rows) if len(row) == 2 and i > 3) + 1
    assert [tuple(row) for row in rows[start : start + len(figures)]] == figures
    # The same figures through ?format=csv.
    same = client.get(f"/reports/cooperatives/{cooperative.pk}/?format=csv")
    assert _csv_rows(same, delimiter) == rows
    if language == "it":
        # A decimal comma for the Italian spreadsheet (e.g. the satisfaction average).
        average = dict(figures)
        assert any("," in value for value in average.values())


def test_csv_cells_cannot_run_as_formulas(client, supervisor, cooperative, area):
    cooperative.name = '=HYPERLINK("http://x")'
    cooperative.save()
    make_case(cooperative=cooperative, area=area)
    client.force_login(supervisor)
    export = client.get(f"/reports/cooperatives/{cooperative.pk}/export.csv")
    rows = _csv_rows(export, ",")
    assert rows[0][1].startswith("'=")


def test_cooperative_list_for_staff(client, supervisor, cooperative, other_cooperative, area):
    make_case(cooperative=cooperative, area=area)
    client.force_login(supervisor)
    page = client.get("/reports/cooperatives/").content.decode()
    assert cooperative.name in page and other_cooperative.name in page
    found = client.get("/reports/cooperatives/?q=Beta").content.decode()
    assert other_cooperative.name in found and "Cooperativa Alfa" not in found


def test_member_of_two_cooperatives_picks_a_report(client, multi_member, cooperative):
    client.force_login(multi_member)
    response = client.get("/reports/cooperatives/")
    assert response.status_code == 200
    assert f"/reports/cooperatives/{cooperative.pk}/" in response.content.decode()
