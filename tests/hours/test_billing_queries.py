"""The billing file of a period runs as many statements for 3 time entries as for 30 (issue 21):
the plans once, the entries with their cases, cooperatives, areas, consultants and estimates in
one query read in chunks."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from workflows import process

pytestmark = pytest.mark.django_db


def _download(client, period) -> tuple[int, list[list[str]]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("work:billing_csv"), period, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        text = b"".join(response.streaming_content).decode("utf-8-sig")
    return len(captured), list(csv.reader(io.StringIO(text), delimiter=","))


@pytest.mark.parametrize("who", ["supervisor", "area_supervisor"])
def test_the_billing_file_costs_the_same_for_3_or_30_entries(
    client, request, who, open_case, consultant, member, other_member, other_cooperative, hours_plan
):
    today = timezone.localdate().isoformat()
    period = {"since": today, "until": today}
    client.force_login(request.getfixturevalue(who))

    def record(cases, per_case):
        for case in cases:
            for n in range(per_case):
                process.case_record_time(
                    case=case, actor=consultant, minutes=15 + n, billable=n % 4 != 3
                )

    record([open_case()], 3)
    client.get(reverse("work:billing_csv"), period)  # the session, content types
    few, few_rows = _download(client, period)
    estimated = open_case()
    estimate = process.case_propose_estimate(
        case=estimated, actor=consultant, minutes=120, note="Oltre il piano"
    )
    process.case_accept_estimate(estimate=estimate, actor=member)
    record([estimated], 3)
    record([open_case() for _ in range(4)] + [open_case(other_member, other_cooperative)], 5)
    many, many_rows = _download(client, period)

    assert (len(few_rows), len(many_rows)) == (1 + 3, 1 + 3 + 3 + 5 * 5)  # the header, then entries
    assert few == many, f"{few} queries for 3 entries, {many} for 30"
