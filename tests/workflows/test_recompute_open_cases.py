"""Recomputing the running cases after a calendar or policy change, on PostgreSQL's batch path
(in one batch and in batches of one case) and on the portable path that SQLite runs."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from casework.models import Case, CaseEvent, Closure
from casework.sla import recompute as sla_recompute
from casework.sla import watch
from workflows import process

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")


def at(*args):
    return datetime(*args, tzinfo=ROME)


def portable(**scope):
    """The path SQLite takes (and PostgreSQL for the cases changed under a batch)."""
    ids = list(sla_recompute.running_cases(**scope).order_by("pk").values_list("pk", flat=True))
    return sla_recompute._recompute_each(ids, at=timezone.now(), batch=sla_recompute.EACH_ROWS)


@pytest.fixture(
    params=[
        pytest.param(sla_recompute.recompute_open_cases, id="batch"),
        pytest.param(
            lambda **scope: sla_recompute.recompute_open_cases(batch=1, **scope), id="batch-of-1"
        ),
        pytest.param(portable, id="portable"),
    ]
)
def recompute(request):
    return request.param


def open_case(requester, cooperative, area, when):
    with time_machine.travel(when, tick=False):
        return process.case_open(
            requester=requester,
            cooperative=cooperative,
            area=area,
            subject="Statuto",
            description="x",
        )


def close_office(calendar, day):
    Closure.objects.create(
        calendar=calendar,
        starts_at=datetime.combine(day, datetime.min.time(), tzinfo=ROME),
        ends_at=datetime.combine(day, datetime.max.time(), tzinfo=ROME),
        reason="Trasloco",
    )
    calendar.save()  # its updated_at tells the cached calendars that it changed


def recomputed_events(case):
    return CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.SLA_RECOMPUTED)


def test_a_closure_moves_the_running_cases_of_its_office_and_no_other(
    recompute,
    calendar,
    process_setup,
    member,
    cooperative,
    other_member,
    other_cooperative,
    consultant,
):
    # Given, on Monday 23 November: a running case and a case waiting on the cooperative in
    # Bologna, a running case in Modena (another office, another calendar), and a Bologna case
    # opened three weeks earlier whose clocks are past their due instants.
    running = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))
    waiting = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))
    elsewhere = open_case(other_member, other_cooperative, process_setup, at(2026, 11, 23, 9, 0))
    late = open_case(member, cooperative, process_setup, at(2026, 11, 2, 9, 0))
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        process.case_request_info(case=waiting, actor=consultant, question="Il verbale?")
        watch.sweep()
    late.refresh_from_db()
    assert late.sla_state == "breached"
    assert running.resolution_due_at == at(2026, 12, 4, 18, 0)
    before = {case.pk: Case.objects.values().get(pk=case.pk) for case in (waiting, elsewhere, late)}

    # When Bologna closes on Monday 30 November and the due instants are recomputed at 11:00.
    close_office(calendar, datetime(2026, 11, 30).date())
    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        assert recompute() == 1

    # Then the running Bologna case is due one business day later, with the two hours it
    # consumed kept, and one event saying what moved.
    running.refresh_from_db()
    assert running.resolution_due_at == at(2026, 12, 7, 18, 0)
    assert running.first_response_due_at == at(2026, 11, 23, 13, 0)  # before the closure
    assert running.resolution_elapsed_seconds == running.first_response_elapsed_seconds == 7200
    assert running.clock_running_since == at(2026, 11, 23, 11, 0)
    assert running.sla_state == "on_track"
    event = recomputed_events(running).get()
    assert event.created_at == at(2026, 11, 23, 11, 0)
    assert event.after["resolution_due_at"] == "2026-12-07T18:00:00+01:00"
    assert datetime.fromisoformat(event.before["resolution_due_at"]) == at(2026, 12, 4, 18, 0)
    assert datetime.fromisoformat(event.before["first_response_due_at"]) == at(2026, 11, 23, 13, 0)
    assert datetime.fromisoformat(event.after["first_response_due_at"]) == at(2026, 11, 23, 13, 0)
    # The paused case, the other office's case and the breached case are left as they were:
    # not a field written, no event; the breach keeps its instant and its mark.
    for case in (waiting, elsewhere, late):
        assert Case.objects.values().get(pk=case.pk) == before[case.pk]
        assert not recomputed_events(case).exists()
    assert late.resolution_due_at == at(2026, 11, 13, 18, 0)
    assert late.resolution_breached_at is not None


def test_the_scope_limits_the_recompute_to_one_office(
    recompute, calendar, process_setup, member, cooperative, other_member, other_cooperative
):
    bologna = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))
    modena = open_case(other_member, other_cooperative, process_setup, at(2026, 11, 23, 9, 0))
    # Bologna closes on Monday 30; Modena's stored due instant is stale (a recompute of Modena
    # would move it), but only Bologna's cases are recomputed.
    close_office(calendar, datetime(2026, 11, 30).date())
    Case.objects.filter(pk=modena.pk).update(resolution_due_at=at(2026, 12, 1, 18, 0))
    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        assert recompute(office_id=cooperative.office_id) == 1
    bologna.refresh_from_db()
    assert bologna.resolution_due_at == at(2026, 12, 7, 18, 0)
    assert Case.objects.get(pk=modena.pk).resolution_due_at == at(2026, 12, 1, 18, 0)


def test_a_longer_target_rearms_a_warning_whose_instant_moves_into_the_future(
    recompute, process_setup, policies, member, cooperative
):
    case = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))
    # 240 minutes to answer, at risk from 75 %: 12:00. The sweep warns at 12:30.
    with time_machine.travel(at(2026, 11, 23, 12, 30), tick=False):
        watch.sweep()
    case.refresh_from_db()
    assert (case.sla_state, case.first_response_warn_at) == ("at_risk", at(2026, 11, 23, 12, 0))
    assert case.first_response_warned_at is not None
    policies["normal"].first_response_minutes = 480
    policies["normal"].save()
    with time_machine.travel(at(2026, 11, 23, 12, 30), tick=False):
        assert recompute(area_id=process_setup.pk, priority="normal") == 1
    case.refresh_from_db()
    # 480 minutes from Monday 9:00 end at 18:00, 360 (75 %) at 16:00: the warning may come again.
    assert case.first_response_due_at == at(2026, 11, 23, 18, 0)
    assert case.first_response_warn_at == at(2026, 11, 23, 16, 0)
    assert case.first_response_warned_at is None
    assert case.sla_state == "on_track"
    assert recomputed_events(case).count() == 1


def test_recomputing_again_changes_nothing(recompute, calendar, process_setup, member, cooperative):
    cases = [open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0)) for _ in "abc"]
    close_office(calendar, datetime(2026, 11, 30).date())
    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        assert recompute() == 3
        stored = list(Case.objects.order_by("pk").values())
        assert recompute() == 0
    assert list(Case.objects.order_by("pk").values()) == stored
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.SLA_RECOMPUTED).count() == len(cases)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the batch is PostgreSQL's")
def test_the_batch_write_skips_a_case_changed_since_it_was_read(
    calendar, process_setup, member, cooperative, consultant
):
    # The batch reads without locking: a row another transaction changed in the meantime
    # (another xmin) is not overwritten; its id comes back, to be recomputed under its lock.
    changed = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))
    untouched = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))
    close_office(calendar, datetime(2026, 11, 30).date())
    now = at(2026, 11, 23, 11, 0)
    compute = sla_recompute._BatchArithmetic(now)
    with transaction.atomic(), connection.cursor() as cursor:
        sla_recompute._load_timestamps_in_c(cursor)
        select = (
            sla_recompute.running_cases()
            .annotate(version=RawSQL("casework_case.xmin::text", ()))
            .order_by("pk")
            .values_list(*sla_recompute._RunningCase.COLUMNS, "version")
        )
        cursor.execute(*select.query.sql_with_params())
        rows = compute(cursor.fetchall())
        with transaction.atomic():  # a desk action commits (a savepoint here: a new xmin)
            with time_machine.travel(at(2026, 11, 23, 10, 30), tick=False):
                process.case_acknowledge(case=changed, actor=consultant)
        sla_recompute._copy_batch(cursor, rows)
        cursor.execute(sla_recompute._BATCH_WRITE, {"at": now, "kind": "sla_recomputed"})
        assert cursor.fetchall() == [(changed.pk, True)]
    assert not recomputed_events(changed).exists()
    assert recomputed_events(untouched).count() == 1
    changed.refresh_from_db()
    assert changed.first_response_at is not None  # what the desk wrote is still there
    assert changed.resolution_due_at == at(2026, 12, 4, 18, 0)
