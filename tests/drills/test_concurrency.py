"""Drill 1, concurrency: simultaneous claims of one task, and a storm of mixed actions on 50 cases.

Claims go through gunicorn (threads released together at a barrier, each with its own
connection); the mixed actions go through `workflows.process` from a pool of threads, each with
its own database connection, as the pages and the API call it.
"""

from __future__ import annotations

import os
import random
import threading
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from viewflow.workflow.models import Task

from casework import notifications
from casework.errors import CaseError
from casework.models import Case, CaseEvent, Consultant, Cooperative, OutcomeCode, PracticeArea
from workflows import process
from workflows.flows import CaseFlow

from . import checks
from .harness import Client, Tally, sign_in

pytestmark = pytest.mark.slow

CLAIMERS = int(os.environ.get("DRILL_CLAIMERS", "100"))
CLAIM_ROUNDS = int(os.environ.get("DRILL_CLAIM_ROUNDS", "3"))
MIXED_ACTIONS = int(os.environ.get("DRILL_MIXED_ACTIONS", "1000"))
MIXED_CASES = int(os.environ.get("DRILL_MIXED_CASES", "50"))
MIXED_THREADS = int(os.environ.get("DRILL_MIXED_THREADS", "12"))
User = get_user_model()


def _open_routed_case(*, member, cooperative, area, supervisor, n: int) -> Case:
    """A case through intake and triage, routed to a consultant of the area."""
    case = process.case_open(
        requester=member,
        cooperative=cooperative,
        area=area,
        subject=f"Drill case {n}",
        description="Aperto dal drill di concorrenza.",
    )
    if case.status == "triage":
        case = process.case_triage(case=case, actor=supervisor, priority="normal")
    return case


def _area_staff(area) -> list:
    return [
        c.user for c in Consultant.objects.filter(areas=area, is_active=True).select_related("user")
    ]


def test_hundred_simultaneous_claims_of_one_task(drill, orm, report, monkeypatch):
    """100 simultaneous claims of one task: one winner, 99 × 409"""
    monkeypatch.setattr(notifications, "_deliver_soon", lambda: None)
    area = PracticeArea.objects.get(code="legal")
    supervisor = User.objects.get(username="supervisore")
    member = User.objects.get(username="socio.alfa")
    alfa = Cooperative.objects.get(name="Cooperativa Alfa")
    tasks = []
    for n in range(CLAIM_ROUNDS):
        case = _open_routed_case(
            member=member, cooperative=alfa, area=area, supervisor=supervisor, n=n
        )
        work = process.active_task(case, CaseFlow.work)
        if work.owner_id:
            process.task_release(task=work, actor=work.owner)
        work.refresh_from_db()
        assert (work.status, work.owner_id) == ("NEW", None)
        tasks.append((case.pk, work.pk))
    claimers = [*_area_staff(area), supervisor, User.objects.get(username="supervisore.legale")]
    report.tried(
        f"{CLAIM_ROUNDS} rounds × {CLAIMERS} claims of one unclaimed work task, by "
        f"{len(claimers)} users ({', '.join(u.username for u in claimers)}), through gunicorn "
        "(3 workers × 8 threads)"
    )

    _proc, port = drill.procs.gunicorn(drill.env(), workers=3, threads=8)
    clients = {u.pk: sign_in(port, u.username) for u in claimers}
    counters_before = dict(Consultant.objects.values_list("user_id", "active_cases"))

    won: Counter = Counter()
    for round_no, (case_id, task_id) in enumerate(tasks, 1):
        barrier = threading.Barrier(CLAIMERS)
        answers: list[tuple[int, int, dict | None]] = [None] * CLAIMERS

        def claim(i, case_id=case_id, task_id=task_id, barrier=barrier, answers=answers):
            user = claimers[i % len(claimers)]
            client = Client(port, clients[user.pk].token, timeout=120)
            barrier.wait()
            try:
                answer = client.post(f"/api/v1/tasks/{task_id}/claim/")
                answers[i] = (user.pk, answer.status, answer.json)
            except OSError as error:
                answers[i] = (user.pk, -1, {"error": repr(error)})

        started = time.monotonic()
        threads = [threading.Thread(target=claim, args=(i,)) for i in range(CLAIMERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started

        statuses = [status for _u, status, _j in answers]
        winners = [user_id for user_id, status, _j in answers if status == 200]
        conflicts = [j for _u, status, j in answers if status == 409]
        others = sorted({s for s in statuses if s not in (200, 409)})
        case = Case.objects.get(pk=case_id)
        claimed_events = CaseEvent.objects.filter(case=case, kind="claimed").count()
        task = Task.objects.get(pk=task_id)
        held = (
            len(winners) == 1
            and len(conflicts) == CLAIMERS - 1
            and not others
            and all(j and j.get("code") == "already_claimed" for j in conflicts)
            and task.owner_id == winners[0]
            and case.assignee_id == winners[0]
            and case.status == "assigned"
            and claimed_events == 1
        )
        won.update(winners)
        report.check(
            f"round {round_no}: one winner, {CLAIMERS - 1} × 409",
            held,
            f"{len(winners)} × 200, {len(conflicts)} × 409, other {others or 'none'}; "
            f"task owner = winner: {bool(winners) and task.owner_id == winners[0]}; "
            f"'claimed' events {claimed_events}; {elapsed:.1f} s",
        )
    counters_after = dict(Consultant.objects.values_list("user_id", "active_cases"))
    moved = {
        uid: counters_after[uid] - counters_before.get(uid, 0)
        for uid in counters_after
        if counters_after[uid] != counters_before.get(uid, 0)
    }
    consultants = set(counters_after)
    expected = {uid: n for uid, n in won.items() if uid in consultants}
    mismatches = checks.load_counter_mismatches()
    report.check(
        "load counters: +1 per win, nobody else moved",
        not mismatches and moved == expected,
        f"moved {moved or 'none'}, wins of consultants {expected or 'none'}; "
        f"mismatches {mismatches or 'none'}",
    )
    assert not report.failed, report.failed


# --- 1,000 mixed actions on 50 cases --------------------------------------------------------

WEIGHTS = {
    "claim": 14,
    "release": 8,
    "reply": 12,
    "note": 10,
    "request_info": 10,
    "answer": 10,
    "resolve": 10,
    "reopen": 8,
    "priority": 8,
    "assign": 5,
}
PRIORITIES = ["low", "normal", "high", "urgent"]


class World:
    """Who may act on what, loaded once; the case itself is re-read (unlocked, so possibly stale)
    before each action, as a page shown a moment ago would be."""

    def __init__(self, case_ids: list[int]):
        self.case_ids = case_ids
        self.users = {u.pk: u for u in User.objects.all()}
        self.staff_by_area = {area.pk: _area_staff(area) for area in PracticeArea.objects.all()}
        self.outcomes = {
            area_id: list(OutcomeCode.objects.filter(area_id=area_id, is_active=True))
            for area_id in self.staff_by_area
        }
        self.supervisor = User.objects.get(username="supervisore")


def _act(world: World, kind: str, rng: random.Random):
    case = Case.objects.get(pk=rng.choice(world.case_ids))
    staff = world.staff_by_area[case.area_id]
    assignee = world.users.get(case.assignee_id) if case.assignee_id else None
    member = world.users[case.requester_id]
    someone_staff = rng.choice(staff)
    if kind == "claim":
        task = process.active_task(case, CaseFlow.work)
        if task is None:
            return "no work task"
        return process.task_claim(task=task, actor=someone_staff)
    if kind == "release":
        task = process.active_task(case, CaseFlow.work)
        if task is None:
            return "no work task"
        return process.task_release(task=task, actor=assignee or someone_staff)
    if kind == "reply":
        author = rng.choice([assignee or someone_staff, member])
        return process.case_post_message(case=case, author=author, body="Risposta del drill.")
    if kind == "note":
        return process.case_post_message(
            case=case, author=someone_staff, body="Nota interna del drill.", internal=True
        )
    if kind == "request_info":
        return process.case_request_info(
            case=case, actor=assignee or someone_staff, question="Ci mandate il bilancio?"
        )
    if kind == "answer":
        return process.case_provide_info(case=case, actor=member, body="Ecco il bilancio.")
    if kind == "resolve":
        return process.case_resolve(
            case=case,
            actor=assignee or someone_staff,
            outcome=rng.choice(world.outcomes[case.area_id]),
            summary="Risolto dal drill.",
            minutes_spent=rng.randint(0, 60),
        )
    if kind == "reopen":
        return process.case_reopen(case=case, actor=member, reason="Non ci siamo ancora.")
    if kind == "priority":
        return process.case_change_priority(
            case=case, actor=world.supervisor, priority=rng.choice(PRIORITIES)
        )
    if kind == "assign":
        return process.case_assign(case=case, actor=world.supervisor, consultant=someone_staff)
    raise AssertionError(kind)


def test_thousand_mixed_actions_on_fifty_cases(drill, orm, report, monkeypatch):
    """1,000 mixed concurrent actions on 50 cases: valid event logs, no lost update"""
    # The outbox rows are written as usual; sending them is not what this drill measures.
    monkeypatch.setattr(notifications, "_deliver_soon", lambda: None)
    supervisor = User.objects.get(username="supervisore")
    cooperatives = list(
        Cooperative.objects.filter(
            memberships__user__username__startswith="socio.", membership_status="active"
        )
        .distinct()
        .order_by("pk")
    )
    areas = list(PracticeArea.objects.order_by("pk"))
    case_ids = []
    for n in range(MIXED_CASES):
        cooperative = cooperatives[n % len(cooperatives)]
        member = User.objects.filter(memberships__cooperative=cooperative).order_by("pk").first()
        case = _open_routed_case(
            member=member,
            cooperative=cooperative,
            area=areas[n % len(areas)],
            supervisor=supervisor,
            n=n,
        )
        case_ids.append(case.pk)
    baseline = checks.load_counter_mismatches() + checks.process_inconsistencies(case_ids)
    assert not baseline, f"inconsistent before the drill: {baseline}"
    world = World(case_ids)
    plan_rng = random.Random(2026)
    kinds = plan_rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=MIXED_ACTIONS)
    report.tried(
        f"{MIXED_ACTIONS} actions ({', '.join(f'{k} {kinds.count(k)}' for k in WEIGHTS)}) on "
        f"{MIXED_CASES} cases from {MIXED_THREADS} threads, each with its own connection"
    )
    tally = Tally()
    start = threading.Barrier(MIXED_THREADS)

    def run(thread_no: int) -> None:
        rng = random.Random(thread_no)
        try:
            start.wait()
            for kind in kinds[thread_no::MIXED_THREADS]:
                began = time.monotonic()
                try:
                    result = _act(world, kind, rng)
                    outcome = "skipped" if isinstance(result, str) else "ok"
                    tally.add(kind, outcome, time.monotonic() - began)
                except CaseError as refusal:
                    tally.add(kind, f"refused:{refusal.code}", time.monotonic() - began)
                except Exception as error:  # noqa: BLE001 - anything else is what we look for
                    tally.add(
                        kind,
                        f"ERROR:{type(error).__name__}",
                        error=f"{error!r}\n{traceback.format_exc(limit=6)}",
                    )
        finally:
            connection.close()

    began = time.monotonic()
    with ThreadPoolExecutor(MIXED_THREADS) as pool:
        list(pool.map(run, range(MIXED_THREADS)))
    elapsed = time.monotonic() - began
    for line in tally.lines():
        report.tried(line.strip())
    done = tally.total("ok")
    errors = sum(n for (_op, outcome), n in tally.counts.items() if outcome.startswith("ERROR"))
    report.check(
        "actions ran: only domain refusals, no other error",
        errors == 0,
        f"{done} carried out, {tally.total() - done - errors} refused or skipped, "
        f"{errors} errors, {elapsed:.1f} s",
    )
    for message in tally.errors[:5]:
        report.tried(f"error: {message}")

    violations = checks.event_log_violations(case_ids)
    changes = CaseEvent.objects.filter(case_id__in=case_ids).exclude(before={}).count()
    report.check(
        "every event log replays through TRANSITIONS to the case's status",
        not violations,
        f"{changes} status events on {len(case_ids)} cases; violations {violations[:5] or 'none'}",
    )
    mismatches = checks.load_counter_mismatches()
    report.check(
        "consultants' active_cases = real assigned + waiting (no lost update)",
        not mismatches,
        f"{Consultant.objects.count()} consultants; mismatches {mismatches[:5] or 'none'}",
    )
    broken = checks.process_inconsistencies(case_ids)
    report.check(
        "each open case has exactly one active task, of its status's step",
        not broken,
        f"{len(case_ids)} cases; problems {broken[:5] or 'none'}",
    )
    assert not report.failed, report.failed
