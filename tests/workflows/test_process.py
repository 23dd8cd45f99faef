"""Every path of the case process, end to end, through the one entry point pages and API use."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from viewflow.workflow.models import Task

from casework.errors import ConflictError, ForbiddenError
from casework.models import Case, CaseEvent, Consultant, Notification
from tests import factories
from workflows import process, selectors
from workflows.flows import CaseFlow, FollowUpFlow

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ROME)


def open_case(member, cooperative, area, **extra):
    return process.case_open(
        requester=member,
        cooperative=cooperative,
        area=area,
        subject=extra.pop("subject", "Modifica dello statuto"),
        description=extra.pop("description", "Dobbiamo modificare lo statuto."),
        **extra,
    )


def kinds(case):
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", flat=True))


def open_tasks(case):
    return {
        t.flow_task.name
        for t in Task.objects.filter(
            process__caseprocess__case=case, status__in=["NEW", "ASSIGNED"]
        )
    }


def load(user):
    return Consultant.objects.get(user=user).active_cases


def test_routed_case_is_resolved_and_confirmed(
    process_setup, member, cooperative, consultant, outcome
):
    case = open_case(member, cooperative, process_setup)
    assert (case.status, case.assignee) == ("assigned", consultant)
    assert load(consultant) == 1
    process.case_acknowledge(case=case, actor=consultant)
    process.case_resolve(
        case=case, actor=consultant, outcome=outcome, summary="Parere inviato", minutes_spent=45
    )
    case.refresh_from_db()
    assert case.status == "resolved" and case.sla_state == "met"
    assert open_tasks(case) == {"await_confirmation"}
    assert load(consultant) == 0
    process.case_confirm(case=case, actor=member)
    case.refresh_from_db()
    assert case.status == "closed" and case.process.status == "DONE"
    assert kinds(case) == ["opened", "triaged", "routed", "acknowledged", "resolved", "confirmed"]


def test_request_for_information_loops_back_to_the_same_consultant(
    process_setup, member, cooperative, consultant, outcome
):
    factories.ConsultantFactory(
        user__username="collega", office=consultant.consultant.office, areas=[process_setup]
    )
    case = open_case(member, cooperative, process_setup)
    assignee = case.assignee
    process.case_request_info(case=case, actor=assignee, question="Inviate il verbale?")
    case.refresh_from_db()
    assert case.status == "waiting" and case.sla_state == "paused"
    assert open_tasks(case) == {"await_information"}
    process.case_post_message(case=case, author=member, body="Verbale allegato")
    case.refresh_from_db()
    assert case.status == "assigned" and case.assignee == assignee
    assert process.active_task(case, CaseFlow.work).owner == assignee
    assert "info_provided" in kinds(case)


def test_reopen_goes_back_to_the_same_consultant(
    process_setup, member, cooperative, consultant, outcome
):
    case = open_case(member, cooperative, process_setup)
    process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Fatto")
    process.case_reopen(case=case, actor=member, reason="Manca la parte sul CdA")
    case.refresh_from_db()
    assert case.status == "assigned" and case.assignee == consultant and case.outcome is None
    assert process.active_task(case, CaseFlow.work).owner == consultant
    assert load(consultant) == 1


def test_reopen_after_the_window_is_refused(
    process_setup, member, cooperative, consultant, outcome
):
    with time_machine.travel(MONDAY_10, tick=False):
        case = open_case(member, cooperative, process_setup)
        process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Fatto")
    case.refresh_from_db()
    # Five business days from Monday 23 November: Monday 30 November, end of day.
    assert case.confirmation_due_at.astimezone(ROME).date() == datetime(2026, 11, 30).date()
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=ROME), tick=False):
        with pytest.raises(ConflictError) as refused:
            process.case_reopen(case=case, actor=member, reason="Troppo tardi?")
        assert refused.value.code == "reopen_window_closed"
        assert "30/11/2026" in str(refused.value)
    case.refresh_from_db()
    assert case.status == "resolved"


def test_timer_closes_unconfirmed_cases(process_setup, member, cooperative, consultant, outcome):
    from workflows.tasks import auto_close

    with time_machine.travel(MONDAY_10, tick=False):
        case = open_case(member, cooperative, process_setup)
        process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Fatto")
        assert auto_close() == 0
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=ROME), tick=False):
        assert auto_close() == 1
        assert auto_close() == 0
    case.refresh_from_db()
    assert case.status == "closed" and case.process.status == "DONE"
    assert kinds(case)[-1] == "auto_closed"


def test_manual_triage_then_routing(process_setup, member, cooperative, consultant, supervisor):
    process_setup.default_priority = ""
    process_setup.save()
    case = open_case(member, cooperative, process_setup)
    assert case.status == "triage" and open_tasks(case) == {"triage"}
    triage = selectors.available_tasks(supervisor).get()
    assert triage.flow_task == CaseFlow.triage
    process.case_triage(case=case, actor=supervisor, priority="high")
    case.refresh_from_db()
    assert (case.status, case.priority, case.assignee) == ("assigned", "high", consultant)


def test_triage_rule_decides_priority(process_setup, member, cooperative, consultant):
    from casework.models import TriageRule

    TriageRule.objects.create(area=process_setup, keyword="sfratto", priority="urgent")
    case = open_case(
        member, cooperative, process_setup, description="Rischio di SFRATTO della sede"
    )
    assert case.priority == "urgent" and case.status == "assigned"


def test_rejection_closes_case_and_tells_cooperative(
    process_setup, member, cooperative, supervisor
):
    process_setup.default_priority = ""
    process_setup.save()
    case = open_case(member, cooperative, process_setup)
    process.case_reject(
        case=case, actor=supervisor, reason="duplicate", explanation="Vedi LEG-2026-000001"
    )
    case.refresh_from_db()
    assert case.status == "rejected" and case.process.status == "DONE"
    assert case.messages.filter(internal=False, body__contains="LEG-2026").exists()
    assert Notification.objects.filter(case=case, kind="case_rejected", recipient=member).exists()


def test_nobody_available_goes_to_manual_assignment(
    process_setup, member, cooperative, consultant, supervisor
):
    Consultant.objects.filter(user=consultant).update(absent_until=datetime(2099, 1, 1).date())
    case = open_case(member, cooperative, process_setup)
    assert case.status == "unassigned" and open_tasks(case) == {"assign_manually"}
    failed = CaseEvent.objects.get(case=case, kind="routing_failed")
    assert failed.after["reason"] == "all_absent"
    process.case_assign(case=case, actor=supervisor, consultant=consultant)
    case.refresh_from_db()
    assert (
        case.status == "assigned" and process.active_task(case, CaseFlow.work).owner == consultant
    )


def test_hand_back_and_reassign(process_setup, member, cooperative, consultant, supervisor):
    # "zeta" sorts after "consulente", so routing picks the fixture consultant on a tie.
    other = factories.ConsultantFactory(user__username="zeta", areas=[process_setup]).user
    case = open_case(member, cooperative, process_setup)
    assert case.assignee == consultant
    process.case_hand_back(case=case, actor=consultant, reason="Conflitto di interessi")
    case.refresh_from_db()
    assert case.status == "unassigned" and open_tasks(case) == {"assign_manually"}
    assert load(consultant) == 0
    process.case_assign(case=case, actor=supervisor, consultant=other)
    assert process.active_task(case, CaseFlow.work).owner == other
    assert load(other) == 1


def test_supervisor_reassigns_work_in_progress(
    process_setup, member, cooperative, consultant, supervisor
):
    other = factories.ConsultantFactory(user__username="zeta", areas=[process_setup]).user
    case = open_case(member, cooperative, process_setup)
    assert case.assignee == consultant
    process.case_assign(case=case, actor=supervisor, consultant=other)
    assert process.active_task(case, CaseFlow.work).owner == other
    assert (load(consultant), load(other)) == (0, 1)


def test_release_then_colleague_claims(process_setup, member, cooperative, consultant):
    other = factories.ConsultantFactory(user__username="zeta", areas=[process_setup]).user
    case = open_case(member, cooperative, process_setup)
    assert case.assignee == consultant
    task = process.active_task(case, CaseFlow.work)
    process.task_release(task=task, actor=consultant)
    assert list(selectors.available_tasks(other)) == [task]
    process.task_claim(task=task, actor=other)
    case.refresh_from_db()
    assert case.assignee == other and case.status == "assigned"
    with pytest.raises(ConflictError):
        process.task_claim(task=task, actor=consultant)


@pytest.mark.parametrize("stage", ["triage", "assigned", "waiting", "resolved"])
def test_supervisor_cancels_at_any_stage(
    stage, process_setup, member, cooperative, consultant, supervisor, outcome
):
    if stage == "triage":
        process_setup.default_priority = ""
        process_setup.save()
    case = open_case(member, cooperative, process_setup)
    if stage == "waiting":
        process.case_request_info(case=case, actor=consultant, question="?")
    if stage == "resolved":
        process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Fatto")
    process.case_cancel(case=case, actor=supervisor, reason="Richiesta ritirata")
    case.refresh_from_db()
    assert case.status == "cancelled" and case.process.status == "CANCELED"
    assert open_tasks(case) == set()
    assert load(consultant) == 0
    with pytest.raises(ConflictError):
        process.case_resolve(case=case, actor=supervisor, outcome=outcome, summary="Troppo tardi")


def test_low_rating_creates_follow_up_for_supervisor(
    process_setup, member, cooperative, consultant, supervisor, outcome
):
    case = open_case(member, cooperative, process_setup)
    process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Fatto")
    process.case_confirm(case=case, actor=member)
    process.case_rate(case=case, actor=member, score=1, comment="Lenti")
    follow_up = selectors.available_tasks(supervisor).get()
    assert follow_up.flow_task == FollowUpFlow.review
    process.case_follow_up(task=follow_up, actor=supervisor, note="Chiamato il presidente")
    assert "follow_up" in kinds(case)
    with pytest.raises(ConflictError):
        process.case_rate(case=case, actor=member, score=5)


@pytest.mark.parametrize(
    ("action", "error"),
    [
        ("resolve_by_other", ForbiddenError),
        ("member_internal_note", ForbiddenError),
        ("confirm_unresolved", ConflictError),
        ("rate_open", ConflictError),
        ("provide_info_not_waiting", ConflictError),
        ("other_member_confirms", ForbiddenError),
        ("consultant_cancels", ForbiddenError),
    ],
)
def test_refused_moves_change_nothing(
    action, error, process_setup, member, other_member, cooperative, consultant, outcome
):
    other = factories.ConsultantFactory(user__username="zeta", areas=[process_setup]).user
    case = open_case(member, cooperative, process_setup)
    assert case.assignee == consultant
    before = (case.status, case.assignee_id, len(kinds(case)))
    attempts = {
        "resolve_by_other": lambda: process.case_resolve(
            case=case, actor=other, outcome=outcome, summary="x"
        ),
        "member_internal_note": lambda: process.case_post_message(
            case=case, author=member, body="x", internal=True
        ),
        "confirm_unresolved": lambda: process.case_confirm(case=case, actor=member),
        "rate_open": lambda: process.case_rate(case=case, actor=member, score=4),
        "provide_info_not_waiting": lambda: process.case_provide_info(
            case=case, actor=member, body="x"
        ),
        "other_member_confirms": lambda: process.case_confirm(case=case, actor=other_member),
        "consultant_cancels": lambda: process.case_cancel(case=case, actor=consultant, reason="x"),
    }
    with pytest.raises(error):
        attempts[action]()
    case.refresh_from_db()
    assert (case.status, case.assignee_id, len(kinds(case))) == before


def _in_threads(count, target):
    barrier = threading.Barrier(count)
    results = []

    def run():
        barrier.wait()
        try:
            results.append(target())
        except Exception as error:  # noqa: BLE001 - the test counts the refusals
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_consultants_claiming_at_once_exactly_one_wins(
    process_setup, member, cooperative, consultant
):
    colleagues = [
        factories.ConsultantFactory(user__username=f"collega{i}", areas=[process_setup]).user
        for i in range(6)
    ]
    case = open_case(member, cooperative, process_setup)
    task = process.active_task(case, CaseFlow.work)
    process.task_release(task=task, actor=case.assignee)
    claimants = iter(colleagues)
    lock = threading.Lock()

    def claim():
        with lock:
            user = next(claimants)
        return process.task_claim(task=task.pk, actor=user)

    results = _in_threads(len(colleagues), claim)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, ConflictError) for r in results if r not in winners)
    case.refresh_from_db()
    assert case.assignee == winners[0].owner
    assert sum(load(c) for c in [consultant, *colleagues]) == 1


@pytest.mark.django_db(transaction=True)
def test_references_stay_unique_under_concurrent_intake(
    process_setup, member, cooperative, consultant
):
    results = _in_threads(8, lambda: open_case(member, cooperative, process_setup).reference)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 8
    assert all(r.startswith(f"LEG-{datetime.now().year}-") for r in results)
    assert Case.objects.count() == 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_never_give_one_free_place_twice(
    process_setup, member, cooperative, consultant
):
    """Six intakes at once, the area's consultant with room for two: two are routed to them,
    the others wait for manual assignment; the consultant's load counts exactly their cases."""
    Consultant.objects.filter(user=consultant).update(capacity=2)

    results = _in_threads(6, lambda: open_case(member, cooperative, process_setup).pk)

    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = sorted(Case.objects.values_list("status", flat=True))
    assert statuses == ["assigned"] * 2 + ["unassigned"] * 4
    assert load(consultant) == 2 == Case.objects.filter(assignee=consultant).count()


@pytest.mark.django_db(transaction=True)
def test_concurrent_triages_never_give_one_free_place_twice(
    process_setup, member, cooperative, consultant, supervisor
):
    """Six cases triaged at once (each under its own lock, no shared counter): the consultant
    with room for two gets two, the others go to manual assignment."""
    process_setup.default_priority = ""
    process_setup.save()
    cases = iter([open_case(member, cooperative, process_setup) for _ in range(6)])
    Consultant.objects.filter(user=consultant).update(capacity=2)
    lock = threading.Lock()

    def triage():
        with lock:
            case = next(cases)
        return process.case_triage(case=case, actor=supervisor, priority="high").status

    results = _in_threads(6, triage)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(results) == ["assigned"] * 2 + ["unassigned"] * 4
    assert load(consultant) == 2 == Case.objects.filter(assignee=consultant).count()


def test_intake_for_another_cooperative_is_refused(process_setup, member, other_cooperative):
    with pytest.raises(ForbiddenError):
        open_case(member, other_cooperative, process_setup)
    assert not Case.objects.exists()


def test_first_response_due_over_weekend(process_setup, member, cooperative, consultant):
    friday_1759 = datetime(2026, 11, 27, 17, 59, tzinfo=ROME)
    with time_machine.travel(friday_1759, tick=False):
        case = open_case(member, cooperative, process_setup)
    # 240 business minutes: 1 on Friday, then Monday 09:00–12:59.
    assert case.first_response_due_at.astimezone(ROME) == datetime(
        2026, 11, 30, 12, 59, tzinfo=ROME
    )
    assert case.first_response_due_at - friday_1759 > timedelta(days=2)
