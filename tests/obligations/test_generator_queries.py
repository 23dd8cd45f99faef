"""What the generator costs in statements: as many for 3 cooperatives as for 30, whether it has
deadlines to insert (one INSERT per thousand) or nothing to do.

On 1 May 2026 the monthly tax payment (due on the 16th, a case 10 days before) has no case to open:
its next deadline falls on Monday 18 May.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.models import Deadline
from casework.services import obligations
from tests import factories

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
MAY_1 = datetime(2026, 5, 1, 3, tzinfo=ROME)


def _generate() -> tuple[dict, list[str]]:
    with time_machine.travel(MAY_1, tick=False), CaptureQueriesContext(connection) as captured:
        done = obligations.obligations_generate().as_dict()
    statements = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    return done, statements


def _cooperatives(n: int, office) -> None:
    for _ in range(n):
        factories.CooperativeFactory(office=office)


def test_the_statements_do_not_grow_with_the_cooperatives(monthly_tax, cooperative, office):
    _cooperatives(2, office)
    work_few, few_inserting = _generate()
    nothing_few, few_idle = _generate()
    _cooperatives(27, office)
    work_many, many_inserting = _generate()
    nothing_many, many_idle = _generate()

    assert (work_few["deadlines_created"], work_many["deadlines_created"]) == (3 * 12, 27 * 12)
    assert nothing_few["deadlines_created"] == nothing_many["deadlines_created"] == 0
    assert Deadline.objects.filter(obligation=monthly_tax).count() == 30 * 12
    assert len(few_inserting) == len(many_inserting), "\n".join(many_inserting)
    assert len(few_idle) == len(many_idle), "\n".join(many_idle)
    # The catalogue; then, for the one obligation: its row lock, the cooperatives, the deadlines
    # already there, the deadlines waiting for a case; and one INSERT when some are missing.
    assert len(few_idle) == 5, "\n".join(few_idle)
    assert len(few_inserting) == 6, "\n".join(few_inserting)
