"""What the deadline sweep costs in statements: nothing more for open deadlines that are not due,
and nothing more for more reminders due (a batch is written at once, under its rows' locks).

Deadlines are 30-day tax terms (casework.sla.deadlines): from 1 March 2026 due on 31 March, with
the area's first reminder 30 days before, on 1 March; a day later, a day later.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework import deadline_reminders
from casework.models import CaseParticipant, Membership
from tests import factories

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")


def _sweep(day: date) -> tuple[dict, list[str]]:
    """The sweep at 09:00 of `day` in Rome: what it did, and its statements (no savepoints)."""
    with (
        time_machine.travel(datetime(day.year, day.month, day.day, 9, tzinfo=ROME), tick=False),
        CaptureQueriesContext(connection) as captured,
    ):
        done = deadline_reminders.sweep_deadlines()
    statements = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    return done, statements


def test_deadlines_not_due_cost_nothing_more(add_deadline):
    add_deadline()  # due on 31 March: its first reminder on 1 March
    for _ in range(3):
        add_deadline(trigger_date=date(2026, 9, 1))  # far from any reminder
    _done, few = _sweep(date(2026, 2, 1))
    for _ in range(27):
        add_deadline(trigger_date=date(2026, 9, 1))
    _done, many = _sweep(date(2026, 2, 1))
    done, with_one_due = _sweep(date(2026, 3, 1))

    assert done == {"missed": 0, "reminders": 1}
    assert len(few) == len(many), f"{len(few)} statements with 3 not due, {len(many)} with 30"
    # A sweep with nothing due: the walk of the past deadlines, the areas' reminder days and the
    # walk of the coming ones, one bounded query each.
    assert len(few) == 3, "\n".join(few)
    assert len(with_one_due) > len(few)


def test_reminders_cost_the_same_statements_however_many_are_due(
    add_deadline, open_case, consultant
):
    """The reminders due are written a batch at once (locks, reminder rows, events, e-mails):
    one, two or three due cost the sweep the same statements."""
    counts = []
    for offset, due in enumerate((1, 2, 3)):
        trigger = date(2026, 3, 1 + offset)
        for _ in range(due):
            add_deadline(case=open_case(subject=f"Pratica {offset}"), trigger_date=trigger)
        done, statements = _sweep(trigger)
        assert done == {"missed": 0, "reminders": due}
        counts.append(len(statements))

    assert counts[0] == counts[1] == counts[2], counts


def test_a_shared_reminder_costs_the_same_however_many_people_read_the_case(
    add_deadline, assigned_case, open_case, consultant, member, cooperative
):
    quiet = add_deadline(shared=True)
    busy_case = open_case(subject="Molti lettori")
    for n in range(4):
        follower = factories.MembershipFactory(
            cooperative=cooperative, user__username=f"socio.{n}", role=Membership.Role.MEMBER
        ).user
        CaseParticipant.objects.create(case=busy_case, user=follower, added_by=member)
    busy = add_deadline(case=busy_case, shared=True, trigger_date=date(2026, 3, 2))
    assert (quiet.due_on, busy.due_on) == (date(2026, 3, 31), date(2026, 4, 1))

    _done, few = _sweep(date(2026, 3, 1))
    _done, many = _sweep(date(2026, 3, 2))

    assert len(few) == len(many), f"{len(few)} statements for 1 reader, {len(many)} for 5"
