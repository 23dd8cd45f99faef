"""Invariants the drills check afterwards, read through the ORM from the drill's database.

Each function returns the list of violations it found (empty: the invariant held), written so that
a failing drill says which case broke what.
"""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, Q
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from casework.models import Case, CaseEvent, CaseStatus, Consultant
from casework.policy import TRANSITIONS
from workflows.flows import CaseFlow
from workflows.models import CaseProcess

S = CaseStatus
ACTIVE = (STATUS.NEW, STATUS.ASSIGNED)
# The step a case's process waits in, for each open status.
EXPECTED_STEP = {
    S.TRIAGE: {CaseFlow.triage},
    S.UNASSIGNED: {CaseFlow.work, CaseFlow.assign_manually},
    S.ASSIGNED: {CaseFlow.work},
    S.WAITING: {CaseFlow.await_information},
    S.RESOLVED: {CaseFlow.await_confirmation},
}


def event_log_violations(case_ids=None) -> list[str]:
    """Replay each case's status changes (CaseEvent before/after) against TRANSITIONS.

    Every event that names a status must start from the status the replay has reached (nothing
    was changed behind its back: no lost or interleaved update), the move must be allowed, and the
    replay must end at the case's status.
    """
    cases = Case.objects.all() if case_ids is None else Case.objects.filter(pk__in=case_ids)
    statuses = dict(cases.values_list("pk", "status"))
    events = (
        CaseEvent.objects.filter(case_id__in=list(statuses))
        .order_by("case_id", "id")
        .values_list("case_id", "id", "kind", "before", "after")
    )
    replayed: dict[int, str | None] = {}
    problems = []
    for case_id, event_id, kind, before, after in events:
        old, new = (before or {}).get("status"), (after or {}).get("status")
        current = replayed.get(case_id)
        if kind == CaseEvent.Kind.OPENED:
            if current is not None:
                problems.append(f"case {case_id}: a second 'opened' event {event_id}")
            replayed[case_id] = new
            continue
        if old is None and new is None:
            continue
        if old is None or new is None:
            problems.append(f"case {case_id}: event {event_id} ({kind}) names only one status")
            continue
        if old != current:
            problems.append(
                f"case {case_id}: event {event_id} ({kind}) moves from {old} but the log had "
                f"reached {current}"
            )
        elif new != old and old not in TRANSITIONS[new]:
            problems.append(f"case {case_id}: event {event_id} ({kind}) {old} → {new} not allowed")
        replayed[case_id] = new
    for case_id, status in statuses.items():
        if replayed.get(case_id) != status:
            problems.append(
                f"case {case_id}: the log replays to {replayed.get(case_id)}, the case is {status}"
            )
    return problems


def load_counter_mismatches() -> list[str]:
    """Each consultant's `active_cases` equals their real count of assigned + waiting cases."""
    real = dict(
        Case.objects.filter(status__in=(S.ASSIGNED, S.WAITING), assignee__isnull=False)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
    )
    return [
        f"{username}: counter {counter}, real {real.get(user_id, 0)}"
        for user_id, username, counter in Consultant.objects.values_list(
            "user_id", "user__username", "active_cases"
        )
        if counter != real.get(user_id, 0)
    ]


def process_inconsistencies(case_ids=None) -> list[str]:
    """Each case has one process; an open case exactly one active task, of the step its status
    needs (the work task held by the assignee); a finished case a finished process."""
    cases = Case.objects.all() if case_ids is None else Case.objects.filter(pk__in=case_ids)
    cases = dict(cases.values_list("pk", "status"))
    assignees = dict(Case.objects.filter(pk__in=list(cases)).values_list("pk", "assignee_id"))
    processes = {
        case_id: (pk, status)
        for case_id, pk, status in CaseProcess.objects.filter(case_id__in=list(cases)).values_list(
            "case_id", "pk", "status"
        )
    }
    tasks: dict[int, list[Task]] = {}
    for task in Task.objects.filter(process_id__in=[p for p, _s in processes.values()]):
        tasks.setdefault(task.process_id, []).append(task)
    problems = []
    for case_id, status in cases.items():
        if case_id not in processes:
            problems.append(f"case {case_id} ({status}): no process")
            continue
        process_id, process_status = processes[case_id]
        mine = tasks.get(process_id, [])
        stuck = [t for t in mine if t.status in (STATUS.STARTED, STATUS.ERROR)]
        if stuck:
            left = ", ".join(f"{t.flow_task.name}={t.status}" for t in stuck)
            problems.append(f"case {case_id}: tasks left {left}")
        active = [t for t in mine if t.status in ACTIVE]
        if status in CaseStatus.FINAL:
            if process_status not in (PROCESS.DONE, PROCESS.CANCELED) or active:
                problems.append(
                    f"case {case_id} ({status}): process {process_status} with "
                    f"{len(active)} active task(s)"
                )
            continue
        if process_status != PROCESS.NEW or len(active) != 1:
            problems.append(
                f"case {case_id} ({status}): process {process_status}, active tasks "
                f"{[t.flow_task.name for t in active]}"
            )
            continue
        task = active[0]
        if task.flow_task not in EXPECTED_STEP[status]:
            problems.append(f"case {case_id} ({status}) waits in {task.flow_task.name}")
        elif status == S.ASSIGNED and task.owner_id != assignees[case_id]:
            problems.append(
                f"case {case_id}: work task held by user {task.owner_id}, "
                f"case assigned to {assignees[case_id]}"
            )
        elif status == S.UNASSIGNED and task.flow_task is CaseFlow.work and task.owner_id:
            problems.append(f"case {case_id} is unassigned but its work task is held")
    return problems


def duplicate_sla_events(case_ids=None) -> list[str]:
    """At most one SLA event per case, kind, clock and due instant: one per transition."""
    events = CaseEvent.objects.filter(
        kind__in=(CaseEvent.Kind.SLA_AT_RISK, CaseEvent.Kind.SLA_BREACHED)
    )
    if case_ids is not None:
        events = events.filter(case_id__in=case_ids)
    seen = Counter(
        (case_id, kind, (after or {}).get("clock"), (after or {}).get("due_at"))
        for case_id, kind, after in events.values_list("case_id", "kind", "after")
    )
    return [f"case {key[0]}: {n} × {key[1:]}" for key, n in seen.items() if n > 1]


def duplicate_transitions(case_ids=None) -> list[str]:
    """Two status-change events of the same kind in a row from the same status: handled twice."""
    cases = Case.objects.all() if case_ids is None else Case.objects.filter(pk__in=case_ids)
    events = (
        CaseEvent.objects.filter(case__in=cases)
        .filter(~Q(before={}))
        .order_by("case_id", "id")
        .values_list("case_id", "id", "kind", "before", "after")
    )
    problems, last = [], {}
    for case_id, event_id, kind, before, after in events:
        key = (kind, (before or {}).get("status"), (after or {}).get("status"))
        if key[1] is None:
            continue
        if last.get(case_id) == key and key[1] != key[2]:
            problems.append(f"case {case_id}: event {event_id} repeats {key}")
        last[case_id] = key
    return problems


def history(case_id: int) -> list[str]:
    """A case's events, one line each: for the report when a check fails on it."""
    return [
        f"#{pk} {created_at:%H:%M:%S.%f} {kind} {before or ''} → {after or ''}"
        for pk, created_at, kind, before, after in CaseEvent.objects.filter(case_id=case_id)
        .order_by("id")
        .values_list("pk", "created_at", "kind", "before", "after")
    ]
