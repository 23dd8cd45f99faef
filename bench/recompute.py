"""Proposal for `casework.clocks`: recompute the due instants of every running case in one batch.

After an office's calendar changes (a closure added, opening hours edited), the stored due and
warning instants of its running cases are stale. `clocks.recompute_open_cases` does it through
the ORM, a batch of 500 at a time, with a policy query and a calendar lookup per case; this does
the same work in a few statements whatever the number of cases:

1. a server-side cursor streams the running cases (id, office, clock fields as epoch seconds,
   policy targets) in chunks, so memory stays flat at any size;
2. each chunk is computed in Python with the office's `casework.sla` calendar, as
   `clocks.recompute` does: consume the running stretch up to `at`, reschedule each clock from
   what it has consumed, refresh the SLA state (`clocks.case_state`);
3. the results go to a temporary table with COPY and land with one `UPDATE ... FROM` per chunk
   (which also re-arms, in SQL, the marks whose instant moved into the future, as
   `clocks._rearm_marks`), plus one `INSERT ... SELECT` of `sla_recomputed` events for the cases
   whose due instants moved.

It runs in the caller's transaction (the caller decides to commit): a failure leaves nothing.
Rows are not locked one by one; the UPDATE takes each row's lock as it writes it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from types import SimpleNamespace

CHUNK = 20000

_SELECT = """
SELECT c.id, coop.office_id, c.status,
       extract(epoch FROM c.clock_running_since)::bigint,
       extract(epoch FROM c.first_response_at)::bigint,
       c.first_response_elapsed_seconds, c.resolution_elapsed_seconds,
       p.id, p.first_response_minutes, p.resolution_minutes, p.warning_percent,
       extract(epoch FROM c.first_response_due_at)::bigint,
       extract(epoch FROM c.first_response_warn_at)::bigint,
       extract(epoch FROM c.resolution_due_at)::bigint,
       extract(epoch FROM c.resolution_warn_at)::bigint
FROM casework_case c
JOIN casework_cooperative coop ON coop.id = c.cooperative_id
LEFT JOIN casework_slapolicy p ON p.area_id = c.area_id AND p.priority = c.priority
WHERE {where}
"""
_RUNNING = "c.status IN ('triage', 'unassigned', 'assigned') AND c.clock_running_since IS NOT NULL"

_TEMP = (
    "CREATE TEMP TABLE IF NOT EXISTS sla_recompute (id bigint, fr_elapsed integer, "
    "res_elapsed integer, policy_id bigint, fr_due bigint, fr_warn bigint, res_due bigint, "
    "res_warn bigint, sla_state varchar(10), old_fr_due bigint, old_res_due bigint, "
    "moved boolean) ON COMMIT DROP"
)
_UPDATE = """
UPDATE casework_case c SET
    first_response_elapsed_seconds = r.fr_elapsed,
    resolution_elapsed_seconds = r.res_elapsed,
    clock_running_since = %(at)s,
    sla_policy_id = r.policy_id,
    first_response_due_at = to_timestamp(r.fr_due),
    first_response_warn_at = to_timestamp(r.fr_warn),
    resolution_due_at = to_timestamp(r.res_due),
    resolution_warn_at = to_timestamp(r.res_warn),
    first_response_warned_at = CASE WHEN r.fr_warn > %(epoch)s THEN NULL
                               ELSE c.first_response_warned_at END,
    first_response_breached_at = CASE WHEN r.fr_due > %(epoch)s THEN NULL
                                 ELSE c.first_response_breached_at END,
    resolution_warned_at = CASE WHEN r.res_warn > %(epoch)s THEN NULL
                           ELSE c.resolution_warned_at END,
    resolution_breached_at = CASE WHEN r.res_due > %(epoch)s THEN NULL
                             ELSE c.resolution_breached_at END,
    sla_state = r.sla_state,
    updated_at = %(at)s
FROM sla_recompute r WHERE c.id = r.id
"""
_EVENTS = """
INSERT INTO casework_caseevent (kind, created_at, "before", "after", note, case_id)
SELECT 'sla_recomputed', %(at)s,
       jsonb_build_object('first_response_due_at', to_timestamp(r.old_fr_due),
                          'resolution_due_at', to_timestamp(r.old_res_due)),
       jsonb_build_object('first_response_due_at', to_timestamp(r.fr_due),
                          'resolution_due_at', to_timestamp(r.res_due)),
       '', r.id
FROM sla_recompute r WHERE r.moved
"""


def _n(value) -> str:
    return "\\N" if value is None else str(value)


def recompute_running_cases(
    connection,
    *,
    at: datetime,
    calendars: dict,
    office_ids: list[int] | None = None,
    compute: bool = True,
    chunk: int = CHUNK,
) -> dict:
    """Recompute the stored SLA instants of the running cases of `office_ids` (None: all).

    `connection` is a psycopg connection inside a transaction; `calendars` maps office id to its
    (new) `casework.sla.BusinessCalendar`. Returns how many cases were read and how many due
    instants moved, with the seconds spent reading, computing, copying, updating and recording.
    `compute=False` exists for the benchmark only (the floor without the calendar arithmetic).
    """
    from casework import clocks
    from casework.sla import warn_minutes

    where = _RUNNING
    params: list = []
    if office_ids is not None:
        where += " AND coop.office_id = ANY(%s)"
        params.append(list(office_ids))
    at = at.astimezone(UTC)
    epoch = int(at.timestamp())
    case_state = clocks.case_state
    fromtimestamp = datetime.fromtimestamp
    warn_of = {}  # (minutes, percent) -> warning seconds
    timings = dict.fromkeys(("read_s", "compute_s", "copy_s", "update_s", "events_s"), 0.0)
    cases = moved = 0
    connection.execute(_TEMP)
    with connection.cursor(name="sla_recompute_cases") as source:
        source.itersize = chunk
        started = time.perf_counter()
        source.execute(_SELECT.format(where=where), params)
        while True:
            rows = source.fetchmany(chunk)
            timings["read_s"] += time.perf_counter() - started
            if not rows:
                break
            started = time.perf_counter()
            out = []
            for row in rows:
                (
                    case_id,
                    office_id,
                    status,
                    running,
                    fr_at,
                    fr_elapsed,
                    res_elapsed,
                    policy_id,
                    fr_minutes,
                    res_minutes,
                    percent,
                    fr_due,
                    fr_warn,
                    res_due,
                    res_warn,
                ) = row
                old_fr_due, old_res_due = fr_due, res_due
                if compute:
                    calendar = calendars[office_id]
                    # clocks._consume: the running stretch up to `at`, on the new calendar.
                    if running is not None and running < epoch:
                        spent = calendar.seconds_between(fromtimestamp(running, UTC), at)
                        if fr_at is None:
                            fr_elapsed += spent
                        res_elapsed += spent
                    # clocks._schedule: what is left of each target, laid from `at`.
                    if policy_id is not None:
                        if fr_at is None:
                            key = (fr_minutes, percent)
                            if key not in warn_of:
                                warn_of[key] = warn_minutes(fr_minutes, percent) * 60
                            left = max(fr_minutes * 60 - fr_elapsed, 0)
                            fr_due = int(calendar.add_seconds(at, left).timestamp())
                            left = max(warn_of[key] - fr_elapsed, 0)
                            fr_warn = int(calendar.add_seconds(at, left).timestamp())
                        key = (res_minutes, percent)
                        if key not in warn_of:
                            warn_of[key] = warn_minutes(res_minutes, percent) * 60
                        left = max(res_minutes * 60 - res_elapsed, 0)
                        res_due = int(calendar.add_seconds(at, left).timestamp())
                        left = max(warn_of[key] - res_elapsed, 0)
                        res_warn = int(calendar.add_seconds(at, left).timestamp())
                    # clocks.refresh_state (it compares instants only: epochs will do).
                    state = case_state(
                        SimpleNamespace(
                            status=status,
                            clock_running_since=epoch,
                            resolved_at=None,
                            first_response_at=fr_at,
                            first_response_due_at=fr_due,
                            first_response_warn_at=fr_warn,
                            resolution_due_at=res_due,
                            resolution_warn_at=res_warn,
                        ),
                        now=epoch,
                    )
                else:
                    state = "on_track"
                changed = fr_due != old_fr_due or res_due != old_res_due
                moved += changed
                out.append(
                    f"{case_id}\t{fr_elapsed}\t{res_elapsed}\t{_n(policy_id)}\t{_n(fr_due)}\t"
                    f"{_n(fr_warn)}\t{_n(res_due)}\t{_n(res_warn)}\t{state}\t"
                    f"{_n(old_fr_due)}\t{_n(old_res_due)}\t{'t' if changed else 'f'}"
                )
            cases += len(rows)
            timings["compute_s"] += time.perf_counter() - started
            with connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute("TRUNCATE sla_recompute")
                with cursor.copy("COPY sla_recompute FROM STDIN") as copy:
                    copy.write("\n".join(out) + "\n")
                timings["copy_s"] += time.perf_counter() - started
                started = time.perf_counter()
                cursor.execute(_UPDATE, {"at": at, "epoch": epoch})
                timings["update_s"] += time.perf_counter() - started
                started = time.perf_counter()
                cursor.execute(_EVENTS, {"at": at})
                timings["events_s"] += time.perf_counter() - started
            started = time.perf_counter()
    chunks = -(-cases // chunk)
    return {
        "cases": cases,
        "moved": moved,
        # temp table, the cursor's query and fetches, then TRUNCATE, COPY, UPDATE, INSERT a chunk
        "statements": 2 + chunks + 1 + 4 * chunks,
        **{k: round(v, 3) for k, v in timings.items()},
    }
