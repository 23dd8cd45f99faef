"""Recompute after a calendar or policy change: new due instants for every running case in scope.

It reads and writes the cases itself, in batches: set-based on PostgreSQL (COPY into a temporary
table, one guarded UPDATE per batch), through the ORM elsewhere.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import nullcontext
from datetime import datetime

from django.db import connection, transaction
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from casework import events
from casework.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Cooperative,
    SlaPolicy,
)

from . import business_time as sla
from .clocks import (
    CLOCK_FIELDS,
    calendar_for_office,
    recompute,
    refresh_state,
)

# Rows per transaction of a recompute. The PostgreSQL batch writes thousands of rows in a
# fraction of a second; the portable loop goes through the ORM a case at a time, so it locks fewer.
BATCH_ROWS = 5000
EACH_ROWS = 500


def running_cases(
    *,
    office_id: int | None = None,
    area_id: int | None = None,
    priority: str | None = None,
    case_ids: Collection[int] | None = None,
) -> QuerySet[Case]:
    """The cases whose clocks run, within the scope of a calendar or policy change (or among
    `case_ids`: the cases a merger of cooperatives moved to another office's calendar)."""
    cases = Case.objects.filter(status__in=CaseStatus.RUNNING, clock_running_since__isnull=False)
    if case_ids is not None:
        cases = cases.filter(pk__in=list(case_ids))
    if office_id is not None:
        cases = cases.filter(cooperative__office_id=office_id)
    if area_id is not None:
        cases = cases.filter(area_id=area_id)
    if priority is not None:
        cases = cases.filter(priority=priority)
    return cases


def recompute_open_cases(
    *,
    office_id: int | None = None,
    area_id: int | None = None,
    priority: str | None = None,
    case_ids: Collection[int] | None = None,
    at: datetime | None = None,
    batch: int | None = None,
) -> int:
    """After a calendar or policy change: new due instants for the running cases it concerns.

    The time already consumed stays as it was measured; only what is left is laid on the new
    calendar or measured against the new target (`recompute`, case by case). A case is written
    only if something stored changed, and gets an `sla_recomputed` event only if a due instant
    moved. Each batch of `batch` cases is a transaction of its own, so a recompute never holds
    up the desk for long and a failure keeps what earlier batches did (running it again is
    harmless). Returns how many cases' due instants moved.
    """
    at = at or timezone.now()
    cases = running_cases(
        office_id=office_id, area_id=area_id, priority=priority, case_ids=case_ids
    )
    if connection.vendor == "postgresql":
        return _recompute_in_batches(cases, at=at, batch=batch or BATCH_ROWS)
    ids = list(cases.order_by("pk").values_list("pk", flat=True))
    return _recompute_each(ids, at=at, batch=batch or EACH_ROWS)


def _policies() -> dict[tuple[int, str], SlaPolicy]:
    """Every SLA policy by (area id, priority), as `policy_for` finds them one at a time."""
    return {(policy.area_id, policy.priority): policy for policy in SlaPolicy.objects.all()}


def _stored(case) -> tuple:
    """The stored clock fields a recompute may change, due instants first (not consumption)."""
    return (
        case.first_response_due_at,
        case.resolution_due_at,
        case.first_response_warn_at,
        case.resolution_warn_at,
        case.sla_policy,
        case.sla_state,
        case.first_response_warned_at,
        case.first_response_breached_at,
        case.resolution_warned_at,
        case.resolution_breached_at,
    )


def _recomputed(case, *, at: datetime, calendar: sla.BusinessCalendar, policies) -> tuple | None:
    """`recompute` and `refresh_state` on one running case, in memory.

    Returns the due instants before (first response, resolution), or None when nothing that
    matters changed: then the case need not be written at all, since the time it consumed on
    the current calendar is measured the same whenever its clocks are next read.
    """
    before = _stored(case)
    recompute(case, at=at, calendar=calendar, policies=policies)
    refresh_state(case, now=at)
    return None if _stored(case) == before else before[:2]


def _recompute_each(ids: list[int], *, at: datetime, batch: int) -> int:
    """The portable recompute: each batch locked, recomputed through the ORM and saved."""
    policies = _policies()
    calendars: dict[int, sla.BusinessCalendar] = {}
    moved = 0
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            # Re-read under the lock: a case paused or resolved meanwhile is no longer running.
            chunk = (
                running_cases()
                .select_for_update(of=("self",))
                .filter(pk__in=ids[start : start + batch])
                .select_related("cooperative", "sla_policy")
            )
            changed, recomputed = [], []
            for case in chunk:
                office_id = case.cooperative.office_id
                if office_id not in calendars:
                    calendars[office_id] = calendar_for_office(office_id)
                before = _recomputed(case, at=at, calendar=calendars[office_id], policies=policies)
                if before is None:
                    continue
                changed.append(case)
                after = (case.first_response_due_at, case.resolution_due_at)
                if after != before:
                    recomputed.append(
                        events.sla_recomputed(
                            case,
                            old_first_response_due_at=before[0],
                            old_resolution_due_at=before[1],
                            first_response_due_at=after[0],
                            resolution_due_at=after[1],
                            at=at,
                        )
                    )
            Case.objects.bulk_update(changed, CLOCK_FIELDS, batch_size=batch)
            events.record_all(recomputed)
            moved += len(recomputed)
    return moved


class _RunningCase:
    """A running case's clock fields as the batch reads them: what the clock helpers touch."""

    __slots__ = (
        "pk",
        "version",
        "office_id",
        "area_id",
        "priority",
        "status",
        "first_response_at",
        "resolved_at",
        *CLOCK_FIELDS,
    )
    # Read in this order, then the row version; the policy by its id.
    COLUMNS = (
        "pk",
        "cooperative_id",
        "area_id",
        "priority",
        "status",
        "first_response_at",
        "sla_policy_id",
        *CLOCK_FIELDS[1:],  # the clock fields after the policy, in their order
    )

    def __init__(
        self, values: tuple, policy_by_id: dict[int, SlaPolicy], office_of: dict[int, int]
    ):
        (
            self.pk,
            cooperative_id,
            self.area_id,
            self.priority,
            self.status,
            self.first_response_at,
            policy_id,
            *clock_values,
            self.version,
        ) = values
        for name, value in zip(CLOCK_FIELDS[1:], clock_values, strict=True):
            setattr(self, name, value)
        self.office_id = office_of[cooperative_id]
        self.sla_policy = policy_by_id.get(policy_id)
        self.resolved_at = None  # a running case is not resolved


# What a batch writes, one row per case whose stored clock fields changed: they go to a temporary
# table by COPY, then one statement applies them. The UPDATE writes a row only if it is still the
# version that was read (xmin): the few cases a desk action changed meanwhile come back, to be
# done one by one under their lock. Events go to the cases written whose due instants moved.
_BATCH_COLUMNS = (
    ("id", "bigint"),
    ("version", "text"),
    ("policy", "bigint"),
    ("fr_elapsed", "integer"),
    ("res_elapsed", "integer"),
    ("fr_due", "timestamptz"),
    ("fr_warn", "timestamptz"),
    ("res_due", "timestamptz"),
    ("res_warn", "timestamptz"),
    ("fr_warned", "timestamptz"),
    ("fr_breached", "timestamptz"),
    ("res_warned", "timestamptz"),
    ("res_breached", "timestamptz"),
    ("state", "text"),
    ("moved", "boolean"),
    ("before_fr", "text"),
    ("before_res", "text"),
    ("after_fr", "text"),
    ("after_res", "text"),
)
_BATCH_TABLE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS sla_recompute ("
    + ", ".join(f"{name} {kind}" for name, kind in _BATCH_COLUMNS)
    + ") ON COMMIT DROP"
)
# The events' before and after, as `events.sla_recomputed` writes them, from the row's text columns.
_BATCH_BEFORE, _BATCH_AFTER = events.sla_recomputed_sql(
    old_first_response_due_at="r.before_fr",
    old_resolution_due_at="r.before_res",
    first_response_due_at="r.after_fr",
    resolution_due_at="r.after_res",
)
_BATCH_WRITE = f"""
WITH written AS (
    UPDATE casework_case c SET
        sla_policy_id = r.policy,
        first_response_elapsed_seconds = r.fr_elapsed,
        resolution_elapsed_seconds = r.res_elapsed,
        clock_running_since = %(at)s,
        first_response_due_at = r.fr_due,
        first_response_warn_at = r.fr_warn,
        resolution_due_at = r.res_due,
        resolution_warn_at = r.res_warn,
        first_response_warned_at = r.fr_warned,
        first_response_breached_at = r.fr_breached,
        resolution_warned_at = r.res_warned,
        resolution_breached_at = r.res_breached,
        sla_state = r.state
    FROM sla_recompute r
    WHERE c.id = r.id AND c.xmin::text = r.version
    RETURNING c.id
), recorded AS (
    INSERT INTO casework_caseevent (kind, created_at, "before", "after", note, case_id)
    SELECT %(kind)s, %(at)s, {_BATCH_BEFORE}, {_BATCH_AFTER}, '', r.id
    FROM sla_recompute r JOIN written w ON w.id = r.id
    WHERE r.moved
)
SELECT r.id, r.moved FROM sla_recompute r WHERE r.id NOT IN (SELECT id FROM written)
"""


def _recompute_in_batches(cases: QuerySet[Case], *, at: datetime, batch: int) -> int:
    """The PostgreSQL recompute: each batch of running cases read with one query, computed in
    Python by the same clock helpers (`_recomputed`), and written with a COPY and one statement.

    Rows are not locked while they are computed: the write skips those changed since they were
    read, and these are done afterwards one by one, locked, by the portable path. While the
    database writes a batch, Python computes the next one (the write is sent in pipeline mode
    and its result read afterwards): neither waits for the other.
    """
    import psycopg

    # Ids first, then each batch by its ids: a keyset query (id > last ... LIMIT) may be planned
    # as a sort of every remaining running case, batch after batch.
    ids = list(cases.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0
    select = (
        cases.annotate(version=RawSQL("casework_case.xmin::text", ()))
        .order_by()
        .values_list(*_RunningCase.COLUMNS, "version")
    )
    compute = _BatchArithmetic(at)
    overlap = psycopg.Pipeline.is_supported()
    moved, redo, pending = 0, [], []
    # One turn more than there are batches: the last one only writes what the one before computed.
    for start in range(0, len(ids) + batch, batch):
        with transaction.atomic(), connection.cursor() as cursor:
            _load_timestamps_in_c(cursor)
            rows = []
            if start < len(ids):
                chunk = RawSQL(
                    "casework_case.id = ANY(%s)",
                    (ids[start : start + batch],),
                    output_field=BooleanField(),
                )
                cursor.execute(*select.filter(chunk).query.sql_with_params())
                rows = cursor.fetchall()
            if pending:
                _copy_batch(cursor, pending)
            with connection.wrap_database_errors:
                with connection.connection.pipeline() if overlap else nullcontext():
                    if pending:
                        cursor.execute(
                            _BATCH_WRITE, {"at": at, "kind": CaseEvent.Kind.SLA_RECOMPUTED.value}
                        )
                    following = compute(rows)
                    skipped = cursor.fetchall() if pending else []
        moved += sum(1 for row in pending if row[_MOVED]) - sum(1 for _id, was in skipped if was)
        redo.extend(case_id for case_id, _was_moved in skipped)
        pending = following
    if redo:
        moved += _recompute_each(redo, at=at, batch=EACH_ROWS)
    return moved


class _BatchArithmetic:
    """The rows of sla_recompute for a batch of running cases: `_recomputed` on each of them,
    with the policies, the offices of the cooperatives and the calendars read once."""

    def __init__(self, at: datetime):
        self.at = at
        self.policies = _policies()
        self.policy_by_id = {policy.pk: policy for policy in self.policies.values()}
        self.office_of = dict(Cooperative.objects.values_list("pk", "office_id"))
        self.calendars: dict[int, sla.BusinessCalendar] = {}

    def __call__(self, rows: list[tuple]) -> list[tuple]:
        out = []
        for values in rows:
            case = _RunningCase(values, self.policy_by_id, self.office_of)
            calendar = self.calendars.get(case.office_id)
            if calendar is None:
                calendar = self.calendars[case.office_id] = calendar_for_office(case.office_id)
            before = _recomputed(case, at=self.at, calendar=calendar, policies=self.policies)
            if before is not None:
                out.append(_written(case, before))
        return out


def _copy_batch(cursor, rows: list[tuple]) -> None:
    cursor.execute(_BATCH_TABLE)
    cursor.execute("TRUNCATE sla_recompute")
    with cursor.copy("COPY sla_recompute FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([kind for _name, kind in _BATCH_COLUMNS])
        for row in rows:
            copy.write_row(row)


def _load_timestamps_in_c(cursor) -> None:
    """Read timestamps on this cursor with psycopg's own loader.

    Django loads them with a Python subclass (to attach its time zone), a few microseconds each;
    a batch reads a dozen per case. psycopg's loader gives the same instants, in the session's
    time zone (UTC, as Django sets it).
    """
    import psycopg
    from psycopg.pq import Format

    oid = psycopg.postgres.types["timestamptz"].oid
    cursor.cursor.adapters.register_loader(oid, psycopg.adapters.get_loader(oid, Format.TEXT))


def _written(case: _RunningCase, before: tuple) -> tuple:
    """One row of sla_recompute: the case's new clock fields, its event's before and after."""
    after = (case.first_response_due_at, case.resolution_due_at)
    moved = after != before
    return (
        case.pk,
        case.version,
        case.sla_policy.pk if case.sla_policy is not None else None,
        case.first_response_elapsed_seconds,
        case.resolution_elapsed_seconds,
        after[0],
        case.first_response_warn_at,
        after[1],
        case.resolution_warn_at,
        case.first_response_warned_at,
        case.first_response_breached_at,
        case.resolution_warned_at,
        case.resolution_breached_at,
        case.sla_state,
        moved,
        *(
            (_iso(before[0]), _iso(before[1]), _iso(after[0]), _iso(after[1]))
            if moved
            else _NO_EVENT
        ),
    )


_NO_EVENT = (None, None, None, None)
_MOVED = [name for name, _kind in _BATCH_COLUMNS].index("moved")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
