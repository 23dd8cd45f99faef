"""SLA clocks on real cases: pauses, reopen, recompute, and the sweep's exactly-once watch."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.models import Case, CaseEvent, Closure, Notification
from casework.sla import watch
from workflows import process
from workflows.tasks import sla_sweep

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")


def at(*args):
    return datetime(*args, tzinfo=ROME)


def open_case(member, cooperative, area, when, **extra):
    with time_machine.travel(when, tick=False):
        return process.case_open(
            requester=member,
            cooperative=cooperative,
            area=area,
            subject="Bilancio",
            description="Revisione del bilancio",
            **extra,
        )


def test_pause_over_a_weekend_extends_due_by_paused_business_time(
    process_setup, member, cooperative, consultant
):
    case = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))  # Monday
    # normal: resolution 4800 business minutes = 10 business days of 8 hours.
    assert case.resolution_due_at == at(2026, 12, 4, 18, 0)
    with time_machine.travel(at(2026, 11, 27, 17, 0), tick=False):  # Friday: 39 hours consumed
        process.case_request_info(case=case, actor=consultant, question="Serve il bilancio 2025")
    with time_machine.travel(at(2026, 11, 30, 10, 0), tick=False):  # Monday: weekend not counted
        process.case_post_message(case=case, author=member, body="Eccolo")
    case.refresh_from_db()
    # The two paused business hours (Friday 17-18, Monday 9-10) push the due time two hours on:
    # 41 hours left from Monday 10:00 end on Monday 7 December at 11:00.
    assert case.resolution_due_at == at(2026, 12, 7, 11, 0)
    assert case.resolution_elapsed_seconds == 39 * 3600
    pause = case.sla_pauses.get()
    assert (pause.reason, pause.ended_at) == ("info_requested", at(2026, 11, 30, 10, 0))


def test_reopen_resumes_without_escalating(process_setup, member, cooperative, consultant, outcome):
    case = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        process.case_acknowledge(case=case, actor=consultant)
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Fatto")
    with time_machine.travel(at(2026, 11, 26, 9, 0), tick=False):
        process.case_reopen(case=case, actor=member, reason="Non basta")
        assert watch.sweep()["resolution_breached_at"] == 0
    case.refresh_from_db()
    assert case.resolution_elapsed_seconds == 8 * 3600
    # 72 hours left from Thursday 26: nine business days, skipping 8 December (a holiday).
    assert case.resolution_due_at == at(2026, 12, 9, 18, 0)
    assert case.sla_state == "on_track"


def test_priority_change_recomputes_from_consumed_time(
    process_setup, member, cooperative, consultant, supervisor
):
    case = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))
    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        process.case_change_priority(case=case, actor=supervisor, priority="urgent")
    case.refresh_from_db()
    # urgent: 960 minutes to resolve, 120 consumed -> 840 left from Monday 11:00.
    assert case.resolution_due_at == at(2026, 11, 24, 18, 0)
    event = CaseEvent.objects.get(case=case, kind="priority_changed")
    assert event.before["priority"] == "normal" and event.after["priority"] == "urgent"


def test_new_closure_moves_due_instants_of_open_cases(
    process_setup, calendar, member, cooperative, consultant
):
    case = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))
    assert case.first_response_due_at == at(2026, 11, 23, 13, 0)  # 240 minutes
    Closure.objects.create(
        calendar=calendar, starts_at=at(2026, 11, 23, 0, 0), ends_at=at(2026, 11, 24, 0, 0)
    )
    calendar.save()
    from casework.sla import clocks

    recomputed = Case.objects.get(pk=case.pk)
    clocks.recompute(recomputed, at=at(2026, 11, 23, 9, 0))
    assert recomputed.first_response_due_at == at(2026, 11, 24, 13, 0)


def test_sweep_marks_and_notifies_exactly_once(
    process_setup, member, cooperative, consultant, supervisor
):
    consultant.email, supervisor.email = "c@example.org", "s@example.org"
    consultant.save(), supervisor.save()
    case = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))
    with time_machine.travel(at(2026, 11, 23, 12, 0), tick=False):  # 180 of 240 minutes: 75 %
        assert sla_sweep()["first_response_warned_at"] == 1
        assert sla_sweep()["first_response_warned_at"] == 0
    case.refresh_from_db()
    assert case.sla_state == "at_risk"
    with time_machine.travel(at(2026, 11, 23, 14, 0), tick=False):
        counts = sla_sweep()
        assert counts["first_response_breached_at"] == 1
        assert sla_sweep()["first_response_breached_at"] == 0
    case.refresh_from_db()
    assert case.sla_state == "breached"
    assert CaseEvent.objects.filter(case=case, kind="sla_at_risk").count() == 1
    assert CaseEvent.objects.filter(case=case, kind="sla_breached").count() == 1
    breach_mails = Notification.objects.filter(case=case, kind="sla_breached")
    assert set(breach_mails.values_list("recipient__username", flat=True)) == {
        "consulente",
        "supervisore",
    }
    assert Notification.objects.filter(case=case, kind="sla_at_risk").get().recipient == consultant
    assert Notification.objects.filter(status="pending").count() == 0
    assert any("SLA" in m.subject and case.reference in m.subject for m in mail.outbox)


def test_sweep_cost_does_not_grow_with_cases_that_are_fine(
    process_setup, member, cooperative, consultant
):
    open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))

    def queries_with(fine_cases):
        for _ in range(fine_cases):
            open_case(member, cooperative, process_setup, at(2026, 11, 23, 11, 59))
        Case.objects.update(
            first_response_warned_at=None,
            first_response_breached_at=None,
            resolution_warned_at=None,
            resolution_breached_at=None,
        )
        CaseEvent.objects.filter(kind__startswith="sla_").delete()
        Notification.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            watch.sweep(now=at(2026, 11, 23, 12, 0))
        return len(captured)

    assert queries_with(2) == queries_with(30)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_notify_once(process_setup, member, cooperative, consultant, supervisor):
    consultant.email = "c@example.org"
    consultant.save()
    for hour in range(9, 12):
        open_case(member, cooperative, process_setup, at(2026, 11, 23, hour, 0))
    barrier = threading.Barrier(2)
    results = []

    def run():
        barrier.wait()
        try:
            results.append(watch.sweep(now=at(2026, 11, 23, 17, 0)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sum(r["first_response_breached_at"] for r in results) == 3
    assert CaseEvent.objects.filter(kind="sla_breached").count() == 3
    assert Notification.objects.filter(kind="sla_breached", recipient=consultant).count() == 3


def test_a_breach_keeps_its_instant_through_resume_and_recompute(
    process_setup, member, cooperative, consultant
):
    from casework.sla.recompute import recompute_open_cases

    case = open_case(member, cooperative, process_setup, at(2026, 11, 23, 9, 0))
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        process.case_acknowledge(case=case, actor=consultant)
    breached_at = at(2026, 12, 4, 18, 0)
    with time_machine.travel(at(2026, 12, 9, 10, 0), tick=False):
        process.case_request_info(case=case, actor=consultant, question="?")
    with time_machine.travel(at(2026, 12, 10, 10, 0), tick=False):
        process.case_post_message(case=case, author=member, body="Ecco")
        case.refresh_from_db()
        assert case.resolution_due_at == breached_at
        assert recompute_open_cases() == 0
    case.refresh_from_db()
    assert case.resolution_due_at == breached_at
    assert not CaseEvent.objects.filter(case=case, kind="sla_recomputed").exists()
