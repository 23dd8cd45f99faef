"""Set-ups and waits the drills share: SLA work written straight to the table, log scans."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from casework.models import Case, Consultant

User = get_user_model()


def wait_for(condition, *, timeout: float, every: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def make_cases_due(n: int, *, assigned: bool = True, area: str | None = None) -> list[int]:
    """n open cases whose both clocks are past their due instants and not yet marked.

    Written straight to the table (the sweep reads nothing else): they have no process or events,
    and, unassigned, they weigh on nobody's load counter.
    """
    now = timezone.now()
    cases = Case.objects.filter(status="assigned").order_by("pk")
    model = (cases.filter(area__code=area) if area else cases).first() or cases.first()
    consultants = list(
        Consultant.objects.filter(areas=model.area_id).values_list("user_id", flat=True)
    )
    long_ago = now - timedelta(days=10)
    Case.objects.bulk_create(
        [
            Case(
                reference=f"DRL-{i:07d}",
                cooperative_id=model.cooperative_id,
                requester_id=model.requester_id,
                area_id=model.area_id,
                subject=f"Scadenza del drill {i}",
                description="Un caso scaduto per il drill della SLA.",
                priority="normal",
                status="assigned" if assigned else "unassigned",
                assignee_id=consultants[i % len(consultants)] if assigned else None,
                created_at=long_ago,
                clock_running_since=long_ago,
                first_response_warn_at=now - timedelta(hours=3),
                first_response_due_at=now - timedelta(hours=1),
                resolution_warn_at=now - timedelta(hours=2),
                resolution_due_at=now - timedelta(minutes=30),
            )
            for i in range(n)
        ],
        batch_size=500,
    )
    return list(Case.objects.filter(reference__startswith="DRL-").values_list("pk", flat=True))


def breach_recipients(case_ids) -> dict[int, set[int]]:
    """Who hears of a breach: the assignee and the supervisors of the area or of every area."""
    active = User.objects.filter(is_active=True).exclude(email="")
    reachable = set(active.values_list("pk", flat=True))
    everyone = set(active.filter(supervisor__all_areas=True).values_list("pk", flat=True))
    by_area = {}
    for user_id, area_id in active.filter(supervisor__areas__isnull=False).values_list(
        "pk", "supervisor__areas"
    ):
        by_area.setdefault(area_id, set()).add(user_id)
    expected = {}
    for pk, area_id, assignee_id in Case.objects.filter(pk__in=case_ids).values_list(
        "pk", "area_id", "assignee_id"
    ):
        expected[pk] = everyone | by_area.get(area_id, set()) | ({assignee_id} & reachable - {None})
    return expected


def server_errors(proc) -> list[str]:
    """Tracebacks, worker timeouts and worker restarts in a process's log."""
    text = proc.log.read_text(errors="replace")
    pattern = r"^.*(?:Traceback|WORKER TIMEOUT|Worker \(pid:\d+\) was sent|ERROR/).*$"
    return re.findall(pattern, text, re.M)
