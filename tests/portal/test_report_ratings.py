"""The satisfaction figures of the cooperative report: the ratings of the cases in scope only,
found from the cases on PostgreSQL (no scan of the rating table) and by a subquery elsewhere."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework import reports
from casework.models import Case, Rating
from tests.portal.conftest import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["postgresql", "sqlite"])
def vendor(request, monkeypatch):
    if request.param == "sqlite":
        monkeypatch.setattr(reports.connection, "vendor", "sqlite")
    return request.param


def test_ratings_of_the_cases_in_scope_only(
    vendor,
    cooperative,
    other_cooperative,
    area,
    consultant,
    member,
    other_member,
    django_assert_num_queries,
):
    # Given two rated cases of the cooperative, one opened in the period and one before it, an
    # unrated one, and a rated case of another cooperative.
    now = timezone.now()
    closed = {"status": "closed", "assignee": consultant}
    before = make_case(
        cooperative=cooperative, area=area, created_at=now - timedelta(days=40), **closed
    )
    within = make_case(
        cooperative=cooperative, area=area, created_at=now - timedelta(days=2), **closed
    )
    make_case(cooperative=cooperative, area=area, created_at=now - timedelta(days=2), **closed)
    theirs = make_case(cooperative=other_cooperative, area=area, **closed)
    Rating.objects.create(case=before, score=1, rated_by=member)
    Rating.objects.create(case=within, score=5, rated_by=member)
    Rating.objects.create(case=theirs, score=3, rated_by=other_member)
    all_of_them = Case.objects.filter(cooperative=cooperative)
    this_week = reports.cases_opened_between(
        all_of_them, since=timezone.localdate() - timedelta(days=6)
    )

    # When the ratings are read, then only those of the cases in scope come, in one query.
    with django_assert_num_queries(1):
        assert sorted(reports.ratings_of(all_of_them).values_list("score", flat=True)) == [1, 5]
    assert list(reports.ratings_of(this_week).values_list("score", flat=True)) == [5]
    report = reports.cooperative_report(cooperative, cases=this_week)
    assert (report["ratings"], report["satisfaction_average"]) == (1, 5)
    # On PostgreSQL the ratings are looked up by the cases' ids, not joined against the table.
    sql = str(reports.ratings_of(all_of_them).query)
    assert ("= ANY(ARRAY(SELECT" in sql) == (vendor == "postgresql")
