"""The due instant that matters is one rule: the SLA list's order and the dashboard's watch agree.

A first response that came late is still what a breached case is about: before, the SLA list
ordered such a case by its resolution due instant while the dashboard showed its first response.
"""

from datetime import timedelta

import pytest

from casework import reports
from casework.models import Case
from casework.sla.clocks import clock_that_matters

pytestmark = pytest.mark.django_db


def test_a_late_first_response_orders_the_sla_list_as_the_watch_shows_it(
    api, open_case, consultant, supervisor
):
    late, pending = open_case(subject="Risposta tardiva"), open_case(subject="In attesa")
    late_case = Case.objects.get(pk=late.pk)
    # The late case's first response was due well before the pending case's, and came after it.
    Case.objects.filter(pk=late.pk).update(
        first_response_due_at=pending.first_response_due_at - timedelta(hours=4),
        first_response_at=pending.first_response_due_at - timedelta(hours=1),
        resolution_due_at=pending.first_response_due_at + timedelta(days=10),
        sla_state="breached",
    )
    late_case.refresh_from_db()

    listed = api(supervisor).get("/api/v1/sla/cases/").json()["results"]
    watch = reports.sla_watchlist(supervisor, "breached")

    assert [row["id"] for row in listed][:2] == [late.pk, pending.pk]
    assert clock_that_matters(late_case) == "first_response"
    assert watch["cases"][0]["clock"] == "first_response"
    assert watch["cases"][0]["due_at"] == late_case.first_response_due_at
