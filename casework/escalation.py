"""The SLA watch: marks cases newly at risk or breached, records the events and queues the e-mails.

Each transition is found by an indexed range query over the cases not yet marked for it, so a
sweep costs in proportion to what changed, not to the number of open cases. Marks are written
under row locks (SKIP LOCKED, so two sweeps never wait for each other) in the same transaction
as the events and the outbox rows: a sweep killed half-way leaves nothing behind, and a case is
marked, and its people notified, exactly once per transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import notifications
from .clocks import WORKING_STATUSES
from .models import Case, CaseEvent, Notification, SlaState, Supervisor

BATCH = 1000


@dataclass(frozen=True)
class Transition:
    clock: str  # "first_response" | "resolution"
    kind: str  # "warned" | "breached"

    @property
    def mark(self) -> str:
        return f"{self.clock}_{self.kind}_at"

    @property
    def instant(self) -> str:
        return f"{self.clock}_{'warn' if self.kind == 'warned' else 'due'}_at"

    @property
    def event(self) -> str:
        return CaseEvent.Kind.SLA_AT_RISK if self.kind == "warned" else CaseEvent.Kind.SLA_BREACHED

    @property
    def template(self) -> str:
        return "sla_at_risk" if self.kind == "warned" else "sla_breached"

    @property
    def state(self) -> str:
        return SlaState.AT_RISK if self.kind == "warned" else SlaState.BREACHED

    def due_filter(self, now: datetime) -> Q:
        condition = Q(
            status__in=WORKING_STATUSES,
            clock_running_since__isnull=False,
            **{f"{self.mark}__isnull": True, f"{self.instant}__lte": now},
        )
        if self.clock == "first_response":
            condition &= Q(first_response_at__isnull=True)
        return condition


# Breaches first: a case that jumped straight past both gets its breach recorded in this run.
TRANSITIONS = (
    Transition("resolution", "breached"),
    Transition("first_response", "breached"),
    Transition("resolution", "warned"),
    Transition("first_response", "warned"),
)
CLOCK_LABELS = {"first_response": _("first response"), "resolution": _("resolution")}


def _supervisors_by_area() -> tuple[list, dict[int, list]]:
    everyone, by_area = [], {}
    for supervisor in Supervisor.objects.select_related("user").prefetch_related("areas"):
        if not supervisor.user.is_active:
            continue
        if supervisor.all_areas:
            everyone.append(supervisor.user)
        for area in supervisor.areas.all():
            by_area.setdefault(area.pk, []).append(supervisor.user)
    return everyone, by_area


def _notifications(transition: Transition, cases: list[Case], now: datetime) -> list[Notification]:
    """Outbox rows for the people a transition concerns; their text is written at delivery.

    Rendering thousands of e-mails inside the sweep's locked transaction was most of its time;
    the row carries what the template needs instead.
    """
    everyone, by_area = _supervisors_by_area() if transition.kind == "breached" else ([], {})
    rows = []
    for case in cases:
        recipients = {case.assignee} if case.assignee else set()
        if transition.kind == "breached":
            recipients.update(everyone)
            recipients.update(by_area.get(case.area_id, []))
        due_at = getattr(case, transition.instant)
        for user in recipients:
            if not user.email:
                continue
            rows.append(
                Notification(
                    case=case,
                    recipient=user,
                    email=user.email,
                    kind=transition.template,
                    context={"clock": transition.clock},
                    dedupe_key=(f"sla:{transition.mark}:{case.pk}:{due_at.isoformat()}:{user.pk}")[
                        :200
                    ],
                    created_at=now,
                )
            )
    return rows


def _sweep_one(transition: Transition, now: datetime, limit: int) -> int:
    with transaction.atomic():
        ids = list(
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(transition.due_filter(now))
            .order_by(transition.instant)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return 0
        cases = list(
            Case.objects.filter(pk__in=ids)
            .filter(transition.due_filter(now))
            .select_related("assignee", "area", "cooperative")
        )
        marked = [c.pk for c in cases]
        Case.objects.filter(pk__in=marked).update(**{transition.mark: now})
        # The case's single state follows: breached wins over at risk, which wins over on track.
        if transition.kind == "breached":
            Case.objects.filter(pk__in=marked).update(sla_state=SlaState.BREACHED)
            # Past the due instant, "at risk" is stale news: the breach is the one message.
            Case.objects.filter(
                pk__in=marked, **{f"{transition.clock}_warned_at__isnull": True}
            ).update(**{f"{transition.clock}_warned_at": now})
        else:
            Case.objects.filter(pk__in=marked, sla_state=SlaState.ON_TRACK).update(
                sla_state=SlaState.AT_RISK
            )
        CaseEvent.objects.bulk_create(
            CaseEvent(
                case_id=case.pk,
                kind=transition.event,
                created_at=now,
                after={
                    "clock": transition.clock,
                    "due_at": getattr(case, f"{transition.clock}_due_at").isoformat(),
                },
            )
            for case in cases
        )
        Notification.objects.bulk_create(
            _notifications(transition, cases, now), ignore_conflicts=True
        )
    return len(marked)


def sweep(*, now: datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """Mark every case whose warning or due instant has passed since the last sweep."""
    now = now or timezone.now()
    counts = {}
    for transition in TRANSITIONS:
        total = 0
        while True:
            done = _sweep_one(transition, now, limit)
            total += done
            if done < limit:
                break
        counts[transition.mark] = total
    return counts


def deliver_pending(*, limit: int = 200) -> dict[str, int]:
    """Send the outbox; each row is locked while sent, so two workers never send it twice."""
    from django.core.mail import send_mail

    sent = failed = 0
    tried: list[int] = []
    while sent + failed < limit:
        with transaction.atomic():
            # A row that failed in this run waits for the next run (a minute later) to retry.
            row = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=Notification.Status.PENDING)
                .exclude(pk__in=tried)
                .select_related("case__cooperative", "case__assignee", "recipient")
                .order_by("created_at", "id")
                .first()
            )
            if row is None:
                break
            if not row.body and row.case is not None:
                row.subject, row.body = _text_of(row)
                row.save(update_fields=["subject", "body"])
            try:
                send_mail(row.subject, row.body, None, [row.email])
            except Exception as error:  # noqa: BLE001 - any transport failure is retried later
                tried.append(row.pk)
                row.attempts += 1
                row.last_error = str(error)[:2000]
                if row.attempts >= 5:
                    row.status = Notification.Status.FAILED
                row.save(update_fields=["attempts", "last_error", "status"])
                failed += 1
                continue
            row.status = Notification.Status.SENT
            row.sent_at = timezone.now()
            row.attempts += 1
            row.save(update_fields=["status", "sent_at", "attempts"])
            sent += 1
    return {"sent": sent, "failed": failed}


def cases_due_for_auto_close(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Case.objects.filter(status="resolved", confirmation_due_at__lte=now)
        .order_by("confirmation_due_at")
        .values_list("pk", flat=True)[:limit]
    )


def _text_of(row: Notification) -> tuple[str, str]:
    """The e-mail of an SLA transition, written in the reader's language when it is sent."""
    clock = row.context.get("clock", "resolution")
    return notifications.render(
        kind=row.kind,
        case=row.case,
        user=row.recipient,
        context={
            "due_at": getattr(row.case, f"{clock}_due_at"),
            "clock": str(CLOCK_LABELS.get(clock, clock)),
        },
    )
