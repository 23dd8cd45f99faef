"""Demo hours: this year's service plan of every demo cooperative, Alfa's hours and an estimate.

Run by `seed_demo` after the demo cases. Cooperativa Alfa's plan includes 10 hours in total and
its cases used 7 of them (time entries recorded through the real process); one of its cases
being worked on waits in the portal for Alfa to accept an estimate of 3 more hours. The other
cooperatives get 20 hours (Cooperativa Beta: 10 in total and 5 of its own for fiscal matters).

The demo cases are history from before the plans: their time (the minutes of their resolutions)
stays on them and in their totals, but is made not billable when the plans are first created,
so each plan starts from the entries recorded here. Running it again changes nothing.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from casework.demo import COOPERATIVES, Tally, _get_or_create, _label, _say
from casework.errors import CaseError
from casework.models import (
    Case,
    CaseStatus,
    Cooperative,
    PracticeArea,
    ServicePlan,
    ServicePlanArea,
    TimeEntry,
)

from . import process
from .demo import DEMO_MARK

ALFA = "Cooperativa Alfa"
BETA = "Cooperativa Beta"
DEMO_NOTE = "Piano di servizio dimostrativo (seed_demo)."
# Alfa's 7 hours, as three entries on its cases being worked on: (minutes, what was done).
ALFA_ENTRIES = [
    (180, "Esame dello statuto e dei verbali"),
    (120, "Riunione con il consiglio di amministrazione"),
    (120, "Bozza del parere"),
]
ESTIMATE_MINUTES = 180
ESTIMATE_NOTE = (
    "Per completare il ricorso servono circa 6 ore: 3 rientrano nel piano di servizio, le altre "
    "3 vanno oltre. Vi chiediamo di accettarle prima di proseguire."
)


def _plan(tally: Tally, cooperative: Cooperative, year: int, hours: int) -> tuple:
    return _get_or_create(
        tally,
        ServicePlan,
        cooperative=cooperative,
        year=year,
        defaults={
            "hours_included": hours,
            "effective_from": date(year, 1, 1),
            "effective_until": date(year, 12, 31),
            "note": DEMO_NOTE,
        },
    )


def _alfa_cases(alfa: Cooperative) -> list[Case]:
    """Alfa's demo cases being worked on, socio.alfa's first (the portal's demo account)."""
    cases = (
        Case.objects.filter(
            cooperative=alfa,
            status=CaseStatus.ASSIGNED,
            confidential=False,
            assignee__isnull=False,
            subject__startswith=DEMO_MARK,
        )
        .select_related("requester", "assignee")
        .order_by("created_at", "pk")
    )
    return sorted(cases, key=lambda case: case.requester.username != "socio.alfa")


def seed_hours(*, stdout=None) -> dict[str, dict[str, int]]:
    tally = Tally()
    today = timezone.localdate()
    names = [row[0] for row in COOPERATIVES]
    cooperatives = {c.name: c for c in Cooperative.objects.filter(name__in=names)}
    fiscal = PracticeArea.objects.filter(code="fiscal").first()
    with transaction.atomic():
        alfa_created = False
        for name in names:
            cooperative = cooperatives.get(name)
            if cooperative is None:
                continue
            plan, created = _plan(
                tally, cooperative, today.year, 10 if name in (ALFA, BETA) else 20
            )
            if name == ALFA:
                alfa_created = created
            if name == BETA and fiscal is not None:
                _get_or_create(
                    tally, ServicePlanArea, plan=plan, area=fiscal, defaults={"hours_included": 5}
                )
        if alfa_created:
            # The demo cases' time is from before the plans (see the module's docstring).
            TimeEntry.objects.filter(case__subject__startswith=DEMO_MARK).update(billable=False)
    recorded = 0
    alfa = cooperatives.get(ALFA)
    if alfa_created and alfa is not None:
        recorded = _alfa_hours(alfa, stdout=stdout)
    _say(stdout, "hours", tally.line([_label(ServicePlan), _label(ServicePlanArea)]))
    counts = tally.as_dict()
    counts["hours"] = {"created": recorded, "found": 0}
    return counts


def _alfa_hours(alfa: Cooperative, *, stdout=None) -> int:
    """Alfa's 7 hours and the estimate of 3 more, through the process; how many rows it made."""
    cases = _alfa_cases(alfa)
    if not cases:
        _say(stdout, "hours", "no case of Cooperativa Alfa being worked on: no demo hours")
        return 0
    made = 0
    try:
        with transaction.atomic():
            for number, (minutes, note) in enumerate(ALFA_ENTRIES):
                case = cases[number % len(cases)]
                process.case_record_time(case=case, actor=case.assignee, minutes=minutes, note=note)
                made += 1
            waiting = cases[0]
            process.case_propose_estimate(
                case=waiting,
                actor=waiting.assignee,
                minutes=ESTIMATE_MINUTES,
                note=ESTIMATE_NOTE,
            )
            made += 1
    except CaseError as refused:
        _say(stdout, "hours", f"demo hours skipped ({refused})")
        return 0
    requester = get_user_model().objects.filter(pk=waiting.requester_id).first()
    _say(
        stdout,
        "hours",
        f"7 hours on Cooperativa Alfa's cases; {waiting.reference} waits for "
        f"{requester.username if requester else 'the cooperative'} to accept an estimate",
    )
    return made
