"""One small function per kind of case event: the audit trail, the history page and SLA figures."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from .models import Case, CaseEvent

Kind = CaseEvent.Kind


def _value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def build(
    case: Case,
    kind: str,
    *,
    actor=None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    at: datetime | None = None,
) -> CaseEvent:
    """An event not yet saved: a service that records several at once saves them together."""
    return CaseEvent(
        case=case,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        before={k: _value(v) for k, v in (before or {}).items()},
        after={k: _value(v) for k, v in (after or {}).items()},
        note=note,
        created_at=at or timezone.now(),
    )


def record(case: Case, kind: str, **fields) -> CaseEvent:
    event = build(case, kind, **fields)
    event.save()
    return event


def record_all(events: list[CaseEvent]) -> None:
    """Save events built together in one INSERT, in their order (their ids follow it)."""
    CaseEvent.objects.bulk_create(events)


def status_change(
    case: Case, kind: str, *, actor, old_status: str, note: str = "", at=None, **after
):
    return record(
        case,
        kind,
        actor=actor,
        before={"status": old_status},
        after={"status": case.status, **after},
        note=note,
        at=at,
    )
