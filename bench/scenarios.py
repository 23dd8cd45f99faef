"""The in-process scenarios of issue 7, each measured beside a floor taken in the same run."""

from __future__ import annotations

import random
import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dt_time

from bench import measure
from bench.common import say

API = "/api/v1"


@dataclass
class Result:
    """One row of the results table."""

    name: str
    target: str
    unit: str = "ms"
    median: float | None = None
    p95: float | None = None
    queries: int | str | None = None
    rows: int | None = None
    floor: float | None = None
    floor_kind: str = ""
    passed: bool | None = None
    skipped: str = ""
    notes: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    sql: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.median is None or not self.floor:
            return None
        # A throughput: how far below the floor's.
        if self.unit in ("ops/s", "cases/s", "msg/s", "tickets/s"):
            return round(self.floor / self.median, 2)
        return round(self.median / self.floor, 2)

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "sql"}
        data["ratio"] = self.ratio
        return data


# --- Who plays each part ----------------------------------------------------------------------


@dataclass
class Cast:
    member: object  # member of the cooperative with the most cases
    cooperative_id: int
    consultant_mine: object  # the consultant holding the most work tasks
    consultant_available: object  # the consultant whose areas have the most unclaimed work
    supervisor: object
    timeline_case: int
    timeline_staff: object
    tokens: dict[int, str]


def cast(marker: dict) -> Cast:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    users = get_user_model().objects
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.cooperative_id, min(m.user_id) FROM casework_case c "
            "JOIN casework_membership m ON m.cooperative_id = c.cooperative_id "
            "WHERE m.user_id NOT IN (SELECT user_id FROM casework_membership "
            "GROUP BY user_id HAVING count(*) > 1) "
            "GROUP BY c.cooperative_id ORDER BY count(*) DESC LIMIT 1"
        )
        cooperative_id, member_id = cursor.fetchone()
        cursor.execute(
            "SELECT owner_id FROM viewflow_task WHERE status = 'ASSIGNED' "
            "AND flow_task = 'workflows/flows.CaseFlow.work' "
            "GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1"
        )
        mine_id = cursor.fetchone()[0]
        cursor.execute(
            "SELECT k.user_id FROM casework_consultant k "
            "JOIN casework_consultant_areas ka ON ka.consultant_id = k.id "
            "JOIN casework_case c ON c.area_id = ka.practicearea_id "
            "JOIN workflows_caseprocess cp ON cp.case_id = c.id "
            "JOIN viewflow_task t ON t.process_id = cp.process_ptr_id "
            "WHERE t.status = 'NEW' AND t.owner_id IS NULL "
            "AND t.flow_task = 'workflows/flows.CaseFlow.work' AND k.is_active "
            "GROUP BY k.user_id ORDER BY count(*) DESC, k.user_id LIMIT 1"
        )
        available_id = cursor.fetchone()[0]
        cursor.execute(
            "SELECT user_id FROM casework_supervisor WHERE all_areas ORDER BY id LIMIT 1"
        )
        supervisor_id = cursor.fetchone()[0]
        cursor.execute(
            "SELECT assignee_id FROM casework_case WHERE id = %s", [marker["timeline_case"]]
        )
        staff_id = cursor.fetchone()[0]
    people = {
        u.pk: u for u in users.filter(pk__in=[member_id, mine_id, available_id, supervisor_id])
    }
    people[staff_id] = users.get(pk=staff_id)
    tokens = {pk: Token.objects.get_or_create(user=user)[0].key for pk, user in people.items()}
    return Cast(
        member=people[member_id],
        cooperative_id=cooperative_id,
        consultant_mine=people[mine_id],
        consultant_available=people[available_id],
        supervisor=people[supervisor_id],
        timeline_case=marker["timeline_case"],
        timeline_staff=people[staff_id],
        tokens=tokens,
    )


def client_for(user, tokens):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {tokens[user.pk]}", HTTP_ACCEPT="application/json"
    )
    return client


def endpoint_missing(path: str) -> bool:
    """True when no API view answers the path (the catch-all JSON 404 is not a view)."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path.split("?")[0])
    except Resolver404:
        return True
    return match.url_name is None


# --- Read scenarios ------------------------------------------------------------------------------


def api_read(
    name: str,
    target: str,
    limit_ms: float,
    client,
    paths: list[str],
    *,
    runs: int,
    warmup: int,
) -> Result:
    """GET each path in turn as one sample; floor: the same SELECTs by a raw cursor."""
    result = Result(name=name, target=target)
    for path in paths:
        if endpoint_missing(path):
            result.skipped = f"endpoint missing: {path} returns 404"
            return result

    def request() -> list:
        responses = [client.get(path) for path in paths]
        for path, response in zip(paths, responses, strict=True):
            if response.status_code != 200:
                raise RuntimeError(
                    f"{name}: GET {path} -> {response.status_code} {response.content[:300]}"
                )
        return responses

    responses, queries = measure.captured(request)
    samples = measure.timed(request, runs=runs, warmup=warmup)
    floor_samples, rows = measure.replay_floor(queries, runs=runs)
    result.sql = measure.work_queries(queries)
    result.queries = len(result.sql)
    result.rows = rows
    last = responses[-1]
    body = last.json() if last.get("Content-Type", "").startswith("application/json") else None
    if isinstance(body, dict) and "results" in body:
        result.extra["page_items"] = len(body["results"])
        result.extra["count"] = body.get("count")
    result.extra["bytes"] = sum(len(r.content) for r in responses)
    _figures(result, samples)
    result.floor = round(statistics.median(floor_samples), 2)
    result.floor_kind = "same SELECTs, raw cursor"
    result.passed = result.median <= limit_ms
    times = measure.db_times(queries)
    result.extra.update(times)
    if times["slowest_planning_ms"] > 5:
        result.notes.append(
            f"PostgreSQL spends {times['db_planning_ms']} ms planning and "
            f"{times['db_execution_ms']} ms executing; slowest to plan "
            f"({times['slowest_planning_ms']} ms): `{times['slowest_planning_sql'][:90]}…`"
        )
    return result


def _figures(result: Result, samples: list[float]) -> None:
    figures = measure.summary(samples)
    result.median, result.p95 = figures["median_ms"], figures["p95_ms"]
    result.extra["runs"] = figures["runs"]


def queue(name, client, scope, *, runs, warmup) -> Result:
    """A task queue at page sizes 10 and 50: the time of 50, and equal query counts."""
    small = api_read(
        name, "", 25, client, [f"{API}/tasks/?scope={scope}&page_size=10"], runs=runs, warmup=warmup
    )
    result = api_read(
        name,
        "<= 25 ms; queries independent of page size",
        25,
        client,
        [f"{API}/tasks/?scope={scope}&page_size=50"],
        runs=runs,
        warmup=warmup,
    )
    if result.skipped:
        return result
    result.extra["queries_page_10"] = small.queries
    result.extra["median_page_10"] = small.median
    if small.queries != result.queries:
        result.passed = False
        result.notes.append(
            f"queries depend on page size: {small.queries} at 10, {result.queries} at 50"
        )
    return result


def empty_floors(client, *, runs, warmup) -> dict[str, float]:
    """An empty DRF request (token auth, permission, JSON) in-process: GET and POST."""
    get = measure.timed(lambda: client.get("/bench/empty/"), runs=runs, warmup=warmup)
    post = measure.timed(
        lambda: client.post("/bench/empty/", {"a": 1}, format="json"), runs=runs, warmup=warmup
    )
    return {"get": round(statistics.median(get), 2), "post": round(statistics.median(post), 2)}


# --- Intake --------------------------------------------------------------------------------------


def intake_bodies(cooperative_id: int, count: int, *, seed: int = 7) -> list[dict]:
    """Requests as members write them: most match a triage rule of their area (the case is
    routed at once), about one in six matches none and waits for a supervisor's triage."""
    from casework.models import TriageRule

    rules = list(TriageRule.objects.filter(is_active=True).select_related("area", "specialty"))
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        rule = rng.choice(rules)
        subject = "Richiesta di assistenza"
        body = {
            "cooperative": cooperative_id,
            "area": rule.area.code,
            "priority": rng.choice(["normal", "normal", "high", "low"]),
            "description": "Chiediamo un parere sulla documentazione allegata.",
        }
        if rng.random() >= 1 / 6:
            if rule.keyword:
                subject = f"{subject}: {rule.keyword}"
            if rule.specialty:
                body["specialty"] = rule.specialty.code
        body["subject"] = subject
        bodies.append(body)
    return bodies


def intake(cast_: Cast, floors: dict, *, count: int, warmup: int) -> Result:
    """Sequential POST /cases/ by a member: intake, triage rules, routing, viewflow start."""
    from django.db import connection

    from casework.models import Cooperative, PracticeArea

    result = Result(
        name="intake POST /cases/ (through routing)",
        target=">= 75 cases/s (twice django-helpdesk's bare create); <= 30 queries each",
        unit="cases/s",
    )
    member = cast_.member
    cooperative_id = cast_.cooperative_id
    bodies = intake_bodies(cooperative_id, count + warmup + 1)
    path = f"{API}/cases/"
    snapshot = measure.Snapshot.take()
    samples, statuses = [], []
    try:
        if endpoint_missing(path):
            # The API is not there yet: the same intake through the process, without HTTP.
            from workflows import process

            result.notes.append("API missing: measured workflows.process.case_open directly")
            cooperative = Cooperative.objects.get(pk=cooperative_id)
            area_objects = {a.code: a for a in PracticeArea.objects.all()}

            def one(body):
                area = area_objects[body["area"]]
                process.case_open(
                    requester=member,
                    cooperative=cooperative,
                    area=area,
                    subject=body["subject"],
                    description=body["description"],
                    priority=body["priority"],
                    specialty=area.specialties.filter(code=body.get("specialty")).first(),
                )
                return 201
        else:
            client = client_for(member, cast_.tokens)

            def one(body):
                return client.post(path, body, format="json").status_code

        for body in bodies[:warmup]:
            one(body)
        runs = []  # (status, ms, queries) of each timed intake
        for body in bodies[warmup:]:
            started = time.perf_counter()
            code, queries = measure.captured(lambda body=body: one(body))
            samples.append((time.perf_counter() - started) * 1000)
            statuses.append(code)
            runs.append(queries)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, status FROM casework_case WHERE id > %s ORDER BY id",
                [snapshot.max_ids["casework_case"]],
            )
            opened = cursor.fetchall()[warmup:]
        result.extra["new_case_statuses"] = {
            status: sum(1 for _id, s in opened if s == status) for status in {s for _i, s in opened}
        }
    finally:
        removed = snapshot.restore()
        say(f"  intake: removed what it added ({removed})")
    bad = [s for s in statuses if s != 201]
    if bad:
        result.notes.append(f"{len(bad)} intakes answered {sorted(set(bad))}")
    # Queries per path: routed at once (a rule decided) or left for a supervisor's triage.
    by_path: dict[str, list[list[str]]] = {}
    for (_id, status), queries in zip(opened, runs, strict=False):
        by_path.setdefault("routed" if status == "assigned" else status, []).append(queries)
    routed = by_path.get("routed") or next(iter(by_path.values()))
    worst = max(routed, key=lambda q: len(measure.work_queries(q)))
    result.sql = measure.work_queries(worst)
    result.queries = len(result.sql)
    figures = measure.summary(samples)
    result.median = round(1000 / figures["median_ms"], 1)
    result.p95 = round(1000 / figures["p95_ms"], 1)  # the rate at the slow end
    result.extra.update(
        {
            "median_ms_per_case": figures["median_ms"],
            "p95_ms_per_case": figures["p95_ms"],
            "cases": len(samples),
            "sustained_cases_per_s": round(len(samples) / (sum(samples) / 1000), 1),
            "member": member.username,
            "queries_by_path": {
                path: {
                    "work_statements": max(len(measure.work_queries(q)) for q in runs_),
                    "all_statements_with_savepoints": max(len(q) for q in runs_),
                }
                for path, runs_ in by_path.items()
            },
            "routed_statements_by_table": statements_by_table(worst),
        }
    )
    result.floor = round(1000 / floors["post"], 1)
    result.floor_kind = "empty DRF POST, as cases/s"
    result.passed = result.median >= 75 and result.queries <= 30 and not bad
    result.notes.append(
        f"{figures['median_ms']} ms per intake; a routed intake runs {result.queries} statements "
        f"({max(len(q) for q in routed)} round trips with savepoints)"
    )
    return result


def statements_by_table(queries: list[str]) -> dict[str, int]:
    """How many statements of a request touch each table first named in them (SAVEPOINTs apart)."""
    counts: dict[str, int] = {}
    for sql in queries:
        match = re.match(
            r'\s*(SELECT .*? FROM|INSERT INTO|UPDATE|DELETE FROM)\s+"(\w+)"', sql, re.S
        )
        key = match.group(2) if match else sql.split()[0].upper()
        verb = sql.split()[0].upper()
        counts[f"{verb} {key}"] = counts.get(f"{verb} {key}", 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


# --- The SLA sweep ------------------------------------------------------------------------------

_SWEEP_FIELDS = (
    "resolution_warn_at",
    "resolution_due_at",
    "resolution_warned_at",
    "resolution_breached_at",
    "sla_state",
)


def _running_cases(limit: int) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM casework_case WHERE status IN ('triage', 'unassigned', 'assigned') "
            "AND clock_running_since IS NOT NULL ORDER BY md5(id::text) LIMIT %s",
            [limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _open_counts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE status IN ('triage','unassigned','assigned','waiting',"
            "'resolved')), count(*) FILTER (WHERE status IN ('triage','unassigned','assigned') "
            "AND clock_running_since IS NOT NULL) FROM casework_case"
        )
        open_cases, running = cursor.fetchone()
    return {"open_cases": open_cases, "running_cases": running}


def sweep(*, newly_due: int, runs: int, warmup: int) -> Result:
    """`watch.sweep()` with `newly_due` running cases just past their warning or due time."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from casework.sla import watch

    result = Result(
        name=f"SLA sweep, {newly_due:,} newly at risk/breached",
        target="<= 1 s; query count independent of open cases",
    )
    result.extra.update(_open_counts())
    # Catch up first: what fell due since the load is the periodic task's ordinary work.
    caught_up = watch.sweep()
    result.extra["caught_up_before"] = caught_up
    ids = _running_cases(newly_due)
    if len(ids) < newly_due:
        result.notes.append(f"only {len(ids):,} running cases at this size: {len(ids):,} made due")
    result.extra["newly_due"] = len(ids)
    half = len(ids) // 2
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {', '.join(_SWEEP_FIELDS)} FROM casework_case WHERE id = ANY(%s)", [ids]
        )
        originals = cursor.fetchall()

    def prepare(now):
        # Half newly at risk, half newly breached, on the resolution clock; marks cleared.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE casework_case SET resolution_warn_at = %s, resolution_due_at = %s, "
                "resolution_warned_at = NULL, resolution_breached_at = NULL, "
                "sla_state = 'on_track' WHERE id = ANY(%s)",
                [now - timedelta(seconds=30), now + timedelta(days=2), ids[:half]],
            )
            cursor.execute(
                "UPDATE casework_case SET resolution_warn_at = %s, resolution_due_at = %s, "
                "resolution_warned_at = NULL, resolution_breached_at = NULL, "
                "sla_state = 'on_track' WHERE id = ANY(%s)",
                [now - timedelta(hours=3), now - timedelta(seconds=30), ids[half:]],
            )

    def restore(snapshot):
        snapshot.restore()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE casework_case SET {', '.join(f'{f} = %s' for f in _SWEEP_FIELDS)} "
                "WHERE id = %s",
                [(*row[1:], row[0]) for row in originals],
            )

    samples, floor_samples, counts = [], [], {}
    queries: list[str] = []
    for index in range(warmup + runs):
        now = timezone.now()
        snapshot = measure.Snapshot.take()
        prepare(now)
        try:
            # Django's log holds the statements with their parameters bound (a handful here), so
            # they can be explained; it also logs BEGIN and COMMIT, which work_queries leaves out.
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                counts = watch.sweep(now=now)
            elapsed = (time.perf_counter() - started) * 1000
            queries = [query["sql"] for query in captured.captured_queries]
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM casework_notification WHERE created_at = %s", [now]
                )
                result.extra["emails_queued"] = cursor.fetchone()[0]
        finally:
            restore(snapshot)
        if index >= warmup:
            samples.append(elapsed)
        # The floor: the same marks and events as four set-based statements, rolled back.
        prepare(now)
        try:
            floor_samples.append(_sweep_floor(now))
        finally:
            restore(measure.Snapshot.take())
    result.sql = measure.work_queries(queries)
    result.queries = len(result.sql)
    result.rows = sum(counts.values())
    result.extra["marked"] = counts
    # Each batch is one data-modifying statement, which the SELECT plan check of run.py skips:
    # its pick is checked here (EXPLAIN without ANALYZE does not run it).
    indexes, scanned, big = set(), set(), measure.big_tables()
    for sql in result.sql:
        if sql.lstrip().upper().startswith("WITH"):
            plan = measure.explain(sql, analyze=False)
            indexes.update(re.findall(r"Index Scan using (\w+) on casework_case\b", plan))
            scanned.update(measure.seq_scans(plan, big))
    result.extra["case_indexes_used"] = sorted(indexes)
    if scanned:
        result.notes.append(f"Seq Scan on {', '.join(sorted(scanned))} in a batch statement")
    _figures(result, samples)
    result.floor = round(statistics.median(floor_samples), 2)
    result.floor_kind = "set-based UPDATE marks + INSERT events, raw SQL"
    result.passed = result.median <= 1000 and result.rows == len(ids)
    if result.rows != len(ids):
        result.notes.append(f"marked {result.rows} of {len(ids)} cases made due")
    return result


def _sweep_floor(now) -> float:
    from django.db import connection, transaction

    statements = []
    for clock, kind, instant, mark, event, state in (
        ("resolution", "breached", "due", "breached", "sla_breached", "breached"),
        ("first_response", "breached", "due", "breached", "sla_breached", "breached"),
        ("resolution", "warned", "warn", "warned", "sla_at_risk", "at_risk"),
        ("first_response", "warned", "warn", "warned", "sla_at_risk", "at_risk"),
    ):
        extra = " AND first_response_at IS NULL" if clock == "first_response" else ""
        warned = (
            f", {clock}_warned_at = coalesce({clock}_warned_at, %(now)s)"
            if kind == "breached"
            else ""
        )
        statements.append(
            f"WITH m AS (UPDATE casework_case SET {clock}_{mark}_at = %(now)s, "
            f"sla_state = '{state}'{warned} "
            f"WHERE status IN ('triage', 'unassigned', 'assigned') "
            f"AND clock_running_since IS NOT NULL AND {clock}_{mark}_at IS NULL "
            f"AND {clock}_{instant}_at <= %(now)s{extra} RETURNING id, {clock}_due_at) "
            'INSERT INTO casework_caseevent (kind, created_at, "before", "after", note, case_id) '
            f"SELECT '{event}', %(now)s, '{{}}', jsonb_build_object('clock', '{clock}', "
            f"'due_at', {clock}_due_at), '', id FROM m"
        )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, {"now": now})
        elapsed = (time.perf_counter() - started) * 1000
        transaction.set_rollback(True)
    return elapsed


# --- Recompute after a calendar change ----------------------------------------------------------


def recompute(*, runs: int, throughput_rows: int = 200_000) -> list[Result]:
    """A calendar change (a closure next week in every office), then every running case's due
    instants recomputed by `clocks.recompute_open_cases`: on the running cases the load left, on
    as many running cases as `throughput_rows` allows (throughput at scale), and through the
    portable path (what SQLite runs, and PostgreSQL for the few cases changed under a batch).
    Each run happens in a transaction that is rolled back, then the table is vacuumed (untimed):
    a rolled-back UPDATE leaves its dead rows and index entries, which would slow the next run."""
    from unittest import mock

    from django.db import connection, transaction
    from django.utils import timezone

    from casework.models import BusinessCalendar, Closure
    from casework.sla import recompute as clocks

    now = timezone.now()
    day = timezone.localdate(now) + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    tz = timezone.get_current_timezone()
    closure = (
        datetime.combine(day, dt_time(0), tzinfo=tz),
        datetime.combine(day, dt_time(23, 59), tzinfo=tz),
    )

    def change_calendars() -> None:
        Closure.objects.bulk_create(
            Closure(calendar=c, starts_at=closure[0], ends_at=closure[1], reason="bench")
            for c in BusinessCalendar.objects.all()
        )
        BusinessCalendar.objects.update(updated_at=now)

    def make_running(count: int) -> None:
        # Throughput at scale: turn finished cases into cases whose clocks started an hour ago
        # (untimed, rolled back), so that the closure moves every one of them, each case is
        # written and gets its event, and the rows are like running cases' (their partial watch
        # indexes included).
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE casework_case SET status = 'unassigned', "
                "clock_running_since = %s - interval '1 hour', first_response_at = NULL, "
                "first_response_elapsed_seconds = 0, resolution_elapsed_seconds = 0, "
                "first_response_warned_at = NULL, first_response_breached_at = NULL, "
                "resolution_warned_at = NULL, resolution_breached_at = NULL, "
                "sla_state = 'on_track' "
                "WHERE id IN (SELECT id FROM casework_case WHERE status NOT IN "
                "('triage', 'unassigned', 'assigned') ORDER BY id DESC LIMIT %s)",
                [now, count],
            )

    def no_arithmetic(case, *, at, calendar, policies):
        # The floor's stand-in for clocks._recomputed: each case written as read and recorded
        # as moved, so the same read, COPY, UPDATE and events, without the calendar arithmetic.
        case.clock_running_since = at
        return (None, None)

    def vacuum() -> None:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM casework_case")
            cursor.execute("VACUUM casework_caseevent")

    def once(kind: str, running_rows: int = 0) -> tuple[float, dict, int]:
        with transaction.atomic():
            change_calendars()
            if running_rows:
                make_running(running_rows)
            cases = clocks.running_cases().count()
            connection.ensure_connection()
            started = time.perf_counter()
            if kind == "portable":
                ids = list(clocks.running_cases().order_by("pk").values_list("pk", flat=True))
                moved, queries = measure.captured(
                    lambda: clocks._recompute_each(ids, at=now, batch=clocks.EACH_ROWS)
                )
            elif kind == "floor":
                with mock.patch.object(clocks, "_recomputed", no_arithmetic):
                    moved, queries = measure.captured(lambda: clocks.recompute_open_cases(at=now))
            else:
                moved, queries = measure.captured(lambda: clocks.recompute_open_cases(at=now))
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)  # measured, then undone
        vacuum()
        return elapsed, {"cases": cases, "moved": moved}, len(measure.work_queries(queries))

    counts = _open_counts()
    running = counts["running_cases"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM casework_case")
        throughput_cases = min(cursor.fetchone()[0], throughput_rows)
    # (label, path, cases made running, with a floor): the floor writes and records every case,
    # so it is measured only where every case moves. The labels stay the same from one run to
    # the next (`run.py --merge` replaces rows by label): how many cases ran is in the notes.
    variants = [
        ("portable path, case by case, on the loaded running cases", "portable", 0, False),
        ("clocks.recompute_open_cases on the loaded running cases", "batch", 0, False),
        (
            f"clocks.recompute_open_cases on {throughput_cases:,} running cases (throughput)",
            "batch",
            max(throughput_cases - running, 0),
            True,
        ),
    ]
    results = []
    vacuum()
    for label, kind, running_rows, with_floor in variants:
        result = Result(
            name=f"recompute after a calendar change: {label}",
            target="<= 60 s for 1,000,000",
            unit="cases/s",
        )
        once(kind, running_rows)  # warm-up: calendars built, caches filled
        timings = [once(kind, running_rows) for _ in range(runs)]
        seconds = statistics.median(t for t, _i, _q in timings)
        _elapsed, info, queries = timings[-1]
        cases = info["cases"] or 1
        result.median = round(cases / seconds)
        result.p95 = round(cases / max(t for t, _i, _q in timings))
        result.rows = cases
        result.queries = queries
        if with_floor:
            floors = [once("floor", running_rows) for _ in range(max(1, runs - 1))]
            result.floor = round(cases / statistics.median(t for t, _i, _q in floors))
            result.floor_kind = "same read/COPY/UPDATE/events without the calendar arithmetic"
        projected = 1_000_000 / result.median
        result.extra.update(
            {
                "seconds": round(seconds, 3),
                "projected_s_for_1m": round(projected, 1),
                "closure_added_on": day.isoformat(),
                "batch_rows": clocks.EACH_ROWS if kind == "portable" else clocks.BATCH_ROWS,
                **info,
            }
        )
        result.passed = projected <= 60
        result.notes.append(
            f"{cases:,} cases ({info['moved']:,} moved) in {seconds:.2f} s, {queries:,} "
            f"queries; 1,000,000 would take {projected:,.0f} s"
        )
        results.append(result)
    return results


# --- What an index costs a write ---------------------------------------------------------


def redundant_indexes(table: str = "casework_case") -> list[tuple[str, str]]:
    """Single-column indexes whose column leads another index of the table: (index, column)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, a.attname
            FROM pg_index i JOIN pg_attribute a
              ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = %s::regclass AND i.indnatts = 1 AND NOT i.indisunique
              AND i.indpred IS NULL AND EXISTS (
                SELECT 1 FROM pg_index j WHERE j.indrelid = i.indrelid
                AND j.indexrelid <> i.indexrelid AND j.indnatts > 1 AND j.indkey[0] = i.indkey[0])
            ORDER BY 1
            """,
            [table],
        )
        return cursor.fetchall()


def index_cost(*, max_rows: int = 50_000, rounds: int = 2) -> Result:
    """UPDATE of the SLA columns of case rows, on a temporary copy of the table with all its
    indexes, without the redundant ones, and with its keys only. Each measurement gets a fresh
    copy (an UPDATE leaves dead rows and index entries behind, even rolled back), the three
    set-ups take turns, the best of `rounds` is kept. The real table is not touched."""
    from django.db import connection, transaction

    redundant = redundant_indexes()
    redundant_columns = {column for _name, column in redundant}
    result = Result(
        name="cost of casework_case's indexes on an SLA update (information)",
        target="no target: why bulk SLA writes cost what they cost",
        unit="µs/row",
    )
    update = (
        "UPDATE bench_case_copy SET resolution_due_at = resolution_due_at + interval '1 hour', "
        "resolution_warn_at = resolution_warn_at + interval '1 hour', "
        "clock_running_since = coalesce(clock_running_since, now()), "
        "sla_state = CASE WHEN sla_state = 'met' THEN 'met' ELSE 'on_track' END, updated_at = now()"
    )

    def measure_once(cursor, setup: str) -> tuple[int, int, float]:
        cursor.execute("DROP TABLE IF EXISTS bench_case_copy")
        cursor.execute("CREATE TEMP TABLE bench_case_copy (LIKE casework_case INCLUDING ALL)")
        cursor.execute(
            "INSERT INTO bench_case_copy SELECT * FROM casework_case ORDER BY id DESC LIMIT %s",
            [max_rows],
        )
        rows = cursor.rowcount
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, a.attname, i.indnatts, i.indisunique "
            "FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = i.indkey[0] WHERE i.indrelid = 'bench_case_copy'::regclass"
        )
        for name, column, columns, unique in cursor.fetchall():
            if unique:
                continue
            if setup == "keys" or (
                setup == "lean" and columns == 1 and column in redundant_columns
            ):
                cursor.execute(f"DROP INDEX {name}")
        cursor.execute("ANALYZE bench_case_copy")
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'bench_case_copy'")
        count = cursor.fetchone()[0]
        started = time.perf_counter()
        cursor.execute(update)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_case_copy")
        return count, rows, seconds

    best: dict[str, tuple[int, float]] = {}
    rows = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for _ in range(rounds):
            for setup in ("all", "lean", "keys"):
                count, rows, seconds = measure_once(cursor, setup)
                per_row = seconds / max(rows, 1) * 1e6
                if setup not in best or per_row < best[setup][1]:
                    best[setup] = (count, per_row)
        transaction.set_rollback(True)
    labels = {"all": "as today", "lean": "redundant dropped", "keys": "keys only"}
    figures = {
        f"{count} indexes ({labels[setup]})": round(per_row, 1)
        for setup, (count, per_row) in best.items()
    }
    values = list(figures.values())
    result.median = values[0]
    result.floor = values[-1]
    result.floor_kind = "the same UPDATE with primary key and unique reference only"
    result.rows = rows
    result.queries = "-"
    result.extra.update({"us_per_row": figures, "redundant_indexes": redundant})
    result.notes.append(
        ", ".join(f"{k}: {v} µs/row" for k, v in figures.items())
        + f" ({rows:,} rows, best of {rounds}); redundant: "
        + ", ".join(f"{name} ({column})" for name, column in redundant)
    )
    return result


# --- Business-time arithmetic ------------------------------------------------------------


def business_time() -> Result:
    from bench import bench_sla

    figures = bench_sla.measure()
    slowest = min(figures["add_minutes_ops_per_s"], figures["minutes_between_ops_per_s"])
    result = Result(
        name="business-time arithmetic (add minutes / minutes between)",
        target=">= 100,000 ops/s",
        unit="ops/s",
        median=slowest,
        floor=figures["floor_ops_per_s"],
        floor_kind="datetime to epoch and back, ops/s",
        passed=slowest >= 100_000,
        extra=figures,
    )
    result.notes.append(
        f"add_minutes {figures['add_minutes_ops_per_s']:,}/s, "
        f"minutes_between {figures['minutes_between_ops_per_s']:,}/s"
    )
    return result
