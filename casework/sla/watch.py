"""The SLA watch: marks cases newly at risk or breached, records the events and queues the e-mails.

Each transition is found by an indexed range query over the cases not yet marked for it, so a
sweep costs in proportion to what changed, not to the number of open cases. Marks are written
under row locks (SKIP LOCKED, so two sweeps never wait for each other) in the same transaction
as the events and the outbox rows: a sweep killed half-way leaves nothing behind, and a case is
marked, and its people notified, exactly once per transition. On PostgreSQL a batch is one
set-based statement; the embedded SQLite default runs the same batch through the ORM.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from casework import events
from casework.models import Case, CaseEvent, Notification, SlaState, Supervisor
from casework.models.cases import sla_watched

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
        """The watched cases whose instant for this transition has come."""
        condition = sla_watched(self.clock, self.kind) & Q(**{f"{self.instant}__lte": now})
        if self.kind == "warned":
            # Past its due instant a case is the breach's, which marks the warning too: so even
            # a sweep that reaches it while another still holds it for the breach never warns.
            due_at = f"{self.clock}_due_at"
            condition &= Q(**{f"{due_at}__gt": now}) | Q(**{f"{due_at}__isnull": True})
        return condition


# Breaches first: a case that jumped straight past both gets its breach recorded in this run.
TRANSITIONS = (
    Transition("resolution", "breached"),
    Transition("first_response", "breached"),
    Transition("resolution", "warned"),
    Transition("first_response", "warned"),
)


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


def _iso(column: str) -> str:
    """SQL writing a timestamp as Python's `isoformat()` of it in UTC (how Django reads it back).

    The event's `due_at` and the outbox's dedupe key have always held that text; microseconds
    appear only when there are some, as in Python.
    """
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN mod(extract(microseconds FROM {utc})::bigint, 1000000) = 0 THEN ''"
        f" ELSE to_char({utc}, '.US') END || '+00:00'"
    )


def _pick_sql(transition: Transition, now: datetime, limit: int) -> tuple[str, dict]:
    """The batch's pick, `Transition.due_filter` compiled by the ORM, with named parameters.

    Its conditions are those of the transition's partial index (`sla_watched`), so PostgreSQL
    reads a range of that index; the rows are locked, skipping those another sweep holds.
    """
    picked = (
        Case.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(transition.due_filter(now))
        .order_by(transition.instant)
        .values("id")[:limit]
    )
    sql, values = picked.query.sql_with_params()
    params: dict = {}

    def named(_match) -> str:
        key = f"pick_{len(params)}"
        params[key] = values[len(params)]
        return f"%({key})s"

    return re.sub(r"(?<!%)%s", named, sql), params


def _batch_sql(transition: Transition, pick: str) -> str:
    """One statement for one batch of a transition on PostgreSQL: pick, mark, record, queue.

    The rows the pick locks are the only ones the later steps touch, and none of them leaves
    the database.
    """
    clock, mark, instant = transition.clock, transition.mark, transition.instant
    if transition.kind == "breached":
        # Past the due instant, "at risk" is stale news: the breach is the one message.
        state = f"sla_state = '{transition.state}', "
        state += f"{clock}_warned_at = coalesce(c.{clock}_warned_at, %(now)s)"
        # The area's supervisors and those of every area, if they can still be reached.
        watchers = """
        watchers (area_id, user_id) AS (
            SELECT area.id, s.user_id
            FROM casework_practicearea area JOIN casework_supervisor s ON s.all_areas
            UNION
            SELECT a.practicearea_id, s.user_id
            FROM casework_supervisor_areas a JOIN casework_supervisor s ON s.id = a.supervisor_id
        ),"""
        supervisors = """
            UNION
            SELECT m.id, m.instant, u.id, u.email
            FROM marked m
            JOIN watchers w ON w.area_id = m.area_id
            JOIN auth_user u ON u.id = w.user_id AND u.is_active"""
    else:
        # The case's single state follows: breached wins over at risk, which wins over on track.
        state = (
            f"sla_state = CASE WHEN c.sla_state = '{SlaState.ON_TRACK}' "
            f"THEN '{transition.state}' ELSE c.sla_state END"
        )
        watchers = supervisors = ""
    after = events.sla_transition_after_sql(clock="%(clock)s::text", due_at=_iso("due_at"))
    instant_text = _iso("instant")
    return f"""
        WITH due AS ({pick}),
        marked AS (
            UPDATE casework_case c SET {mark} = %(now)s, {state}
            FROM due WHERE c.id = due.id
            RETURNING c.id, c.area_id, c.assignee_id, c.{clock}_due_at AS due_at,
                c.{instant} AS instant
        ),
        events AS (
            INSERT INTO casework_caseevent (case_id, kind, created_at, "before", "after", note)
            SELECT id, %(event)s, %(now)s, '{{}}', {after}, ''
            FROM marked
        ),{watchers}
        recipients (case_id, instant, user_id, email) AS (
            SELECT m.id, m.instant, u.id, u.email
            FROM marked m JOIN auth_user u ON u.id = m.assignee_id{supervisors}
        ),
        queued AS (
            INSERT INTO casework_notification (
                case_id, recipient_id, email, kind, subject, body, context, dedupe_key,
                status, attempts, last_error, created_at, header_message_id, in_reply_to
            )
            SELECT case_id, user_id, email, %(template)s, '', '', %(context)s::jsonb,
                left(concat_ws(':', 'sla', %(mark)s::text, case_id, {instant_text}, user_id), 200),
                %(pending)s, 0, '', %(now)s, '', ''
            FROM recipients WHERE email <> ''
            ON CONFLICT (dedupe_key) DO NOTHING
        )
        SELECT count(*) FROM marked
    """


def _sweep_batch_set_based(transition: Transition, now: datetime, limit: int) -> int:
    """The batch as `_batch_sql`'s one statement: what PostgreSQL runs."""
    with transaction.atomic(), connection.cursor() as cursor:
        # The supervisors' tables are too small ever to be analysed, so the planner guesses them
        # at thousands of rows and costs a breach's statement past `jit_above_cost`; compiling
        # it then took far longer than running it.
        cursor.execute("SET LOCAL jit = off")
        pick, pick_params = _pick_sql(transition, now, limit)
        cursor.execute(
            _batch_sql(transition, pick),
            {
                **pick_params,
                "now": now,
                "event": transition.event,
                "clock": transition.clock,
                "template": transition.template,
                "context": json.dumps({"clock": transition.clock}),
                "mark": transition.mark,
                "pending": Notification.Status.PENDING,
            },
        )
        return cursor.fetchone()[0]


def _sweep_batch_portable(transition: Transition, now: datetime, limit: int) -> int:
    """The same batch through the ORM, row by row: the embedded SQLite default of `make run`.

    SQLite has no data-modifying WITH; it has no row locks either (a writer holds the database),
    so SKIP LOCKED is simply left out there. A demo's few hundred cases need nothing faster.
    """
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
        events.record_all(
            [
                events.sla_transition(
                    case,
                    kind=transition.event,
                    clock=transition.clock,
                    due_at=getattr(case, f"{transition.clock}_due_at"),
                    at=now,
                )
                for case in cases
            ]
        )
        Notification.objects.bulk_create(
            _notifications(transition, cases, now), ignore_conflicts=True
        )
    return len(marked)


def _sweep_one(transition: Transition, now: datetime, limit: int) -> int:
    """One batch of one transition, in a transaction of its own; how many cases it marked."""
    if connection.vendor == "postgresql":
        return _sweep_batch_set_based(transition, now, limit)
    return _sweep_batch_portable(transition, now, limit)


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
