"""Timing, query capture, raw-SQL floors, EXPLAIN and clean-up of what a write scenario added."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

# Statements that are transaction bookkeeping, not work: never replayed nor explained.
_BOOKKEEPING = re.compile(r"^\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|SET)\b", re.I)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(samples_ms: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(samples_ms), 2),
        "p95_ms": round(percentile(samples_ms, 0.95), 2),
        "min_ms": round(min(samples_ms), 2),
        "runs": len(samples_ms),
    }


def timed(action: Callable[[], object], *, runs: int, warmup: int) -> list[float]:
    """Milliseconds of `runs` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def captured(action: Callable[[], object]) -> tuple[object, list[str]]:
    """The result of one call and every statement it ran.

    Django's query log (what CaptureQueriesContext reads) keeps at most 9,000 entries per
    connection, so it is cleared first and, should one call run more than that, the statements
    are taken from an execute wrapper instead (without their parameters then).
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seen: list[str] = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    connection.queries_log.clear()
    with connection.execute_wrapper(record), CaptureQueriesContext(connection) as context:
        result = action()
    # The log also holds the transactions' BEGIN/COMMIT, which no execute wrapper sees.
    logged = [
        query["sql"]
        for query in context.captured_queries
        if query["sql"] not in ("BEGIN", "COMMIT", "ROLLBACK")
    ]
    return result, logged if len(logged) == len(seen) else seen


def work_queries(queries: list[str]) -> list[str]:
    return [sql for sql in queries if not _BOOKKEEPING.match(sql)]


def replay_floor(queries: list[str], *, runs: int, warmup: int = 2) -> tuple[list[float], int]:
    """Milliseconds to run the same SELECTs with a raw psycopg cursor, fetching every row.

    The floor of a read endpoint: the database work it cannot avoid, without Django or DRF.
    Returns the samples and the number of rows the statements returned.
    """
    from django.db import connection

    # The SELECTs, and the SET LOCALs among them (a planner setting for one statement), in one
    # transaction as the request ran them.
    selects = [
        sql
        for sql in queries
        if sql.lstrip()[:6].upper() == "SELECT" or sql.lstrip().upper().startswith("SET LOCAL")
    ]
    connection.ensure_connection()
    raw = connection.connection
    rows = 0

    def run() -> None:
        nonlocal rows
        rows = 0
        with raw.transaction(), raw.cursor() as cursor:
            for sql in selects:
                cursor.execute(sql)
                if cursor.description is not None:
                    rows += len(cursor.fetchall())

    return timed(run, runs=runs, warmup=warmup), rows


def explain(sql: str, *, analyze: bool = True) -> str:
    from django.db import connection

    options = "ANALYZE, BUFFERS" if analyze else "COSTS"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def db_times(queries: list[str]) -> dict:
    """Planning and execution time PostgreSQL reports for each SELECT (EXPLAIN ANALYZE, SUMMARY).

    The best of three, summed over the request's SELECTs; the slowest-planned one is named.
    """
    from django.db import connection, transaction

    planning = executing = 0.0
    worst = (0.0, "")
    # In one transaction with the request's SET LOCALs, so that each plan is the request's.
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in queries:
            if sql.lstrip().upper().startswith("SET LOCAL"):
                cursor.execute(sql)
                continue
            if _BOOKKEEPING.match(sql) or sql.lstrip()[:6].upper() != "SELECT":
                continue
            best = None
            for _ in range(3):
                cursor.execute(f"EXPLAIN (ANALYZE, SUMMARY) {sql}")
                text = "\n".join(row[0] for row in cursor.fetchall())
                plan = float(re.search(r"Planning Time: ([\d.]+)", text).group(1))
                run = float(re.search(r"Execution Time: ([\d.]+)", text).group(1))
                if best is None or plan + run < sum(best):
                    best = (plan, run)
            planning += best[0]
            executing += best[1]
            if best[0] > worst[0]:
                worst = (best[0], sql)
    return {
        "db_planning_ms": round(planning, 2),
        "db_execution_ms": round(executing, 2),
        "slowest_planning_ms": round(worst[0], 2),
        "slowest_planning_sql": worst[1][:200],
    }


def big_tables(min_rows: int = 20000) -> dict[str, int]:
    """Tables the planner believes hold at least `min_rows` rows (a Seq Scan there matters)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' "
            "AND relnamespace = 'public'::regnamespace AND reltuples >= %s",
            [min_rows],
        )
        return dict(cursor.fetchall())


def filtered_away(plan: str) -> int:
    """Rows scans read and then threw away (`Rows Removed by Filter`, summed over the plan)."""
    return sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan))


def seq_scans(plan: str, tables: dict[str, int]) -> list[str]:
    found = re.findall(r"Seq Scan on (\w+)", plan)
    return sorted({name for name in found if name in tables})


# --- Undoing what a write scenario added ----------------------------------------------------

_GROWING = (
    "casework_caseaccess",  # staff reads are recorded (GDPR): reads write too
    "casework_caseread",  # who last opened a case: acting on one marks it read
    "casework_inboundemail",  # mail taken in
    "casework_attachment",  # documents, a mail's original among them
    "casework_case",
    "casework_caseevent",
    "casework_message",
    "casework_notification",
    "casework_slapause",
    "casework_idempotencykey",
    "viewflow_process",
    "viewflow_task",
)


@dataclass
class Snapshot:
    """Highest ids and consultants' loads before a write scenario, to put the database back."""

    max_ids: dict[str, int] = field(default_factory=dict)
    loads: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def take(cls) -> Snapshot:
        from django.db import connection

        snapshot = cls()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s)",
                [list(_GROWING)],
            )
            present = {row[0] for row in cursor.fetchall()}
            for table in (t for t in _GROWING if t in present):
                cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
                snapshot.max_ids[table] = cursor.fetchone()[0]
            cursor.execute("SELECT id, active_cases FROM casework_consultant")
            snapshot.loads = cursor.fetchall()
        return snapshot

    def restore(self) -> dict[str, int]:
        """Delete what was added since (new cases go with everything hanging off them)."""
        from django.db import connection, transaction

        from casework.models import Case

        removed = {}
        with transaction.atomic():
            # Files first (their rows name them), then the rows that point at cases and messages.
            removed.update(self._files_removed())
            with connection.cursor() as cursor:
                for table in ("casework_inboundemail", "casework_attachment"):
                    if table in self.max_ids:
                        cursor.execute(f"DELETE FROM {table} WHERE id > %s", [self.max_ids[table]])
                        if cursor.rowcount:
                            removed[table] = cursor.rowcount
            new_cases = Case.objects.filter(id__gt=self.max_ids["casework_case"])
            removed["cases"] = new_cases.count()
            if removed["cases"]:
                # The ORM collects processes, tasks, events, messages, notifications with them.
                new_cases.delete()
            with connection.cursor() as cursor:
                for table in (
                    "casework_caseaccess",
                    "casework_caseread",
                    "casework_caseevent",
                    "casework_message",
                    "casework_notification",
                    "casework_slapause",
                ):
                    if table not in self.max_ids:
                        continue
                    cursor.execute(f"DELETE FROM {table} WHERE id > %s", [self.max_ids[table]])
                    if cursor.rowcount:
                        removed[table] = cursor.rowcount
                # Work tasks moved by writes on existing cases (none in these scenarios) and
                # processes of deleted cases are gone already; loads go back as they were.
                cursor.executemany(
                    "UPDATE casework_consultant SET active_cases = %s WHERE id = %s",
                    [(load, pk) for pk, load in self.loads],
                )
        return removed

    def _files_removed(self) -> dict[str, int]:
        """Delete the stored files of the documents and e-mails added since the snapshot."""
        from casework.models import Attachment, InboundEmail

        removed = {}
        for model, table, field_name in (
            (Attachment, "casework_attachment", "file"),
            (InboundEmail, "casework_inboundemail", "raw"),
        ):
            if table not in self.max_ids:
                continue
            count = 0
            for row in model.objects.filter(id__gt=self.max_ids[table]).only("id", field_name):
                stored = getattr(row, field_name)
                if stored:
                    stored.storage.delete(stored.name)
                    count += 1
            if count:
                removed[f"{table} files"] = count
        return removed


@contextmanager
def case_rows_kept(ids: list[int]):
    """Put the given case rows back as they were after a scenario wrote on them (a message, a
    status change, their search documents), every column but the key and the texts.

    The texts are left out so that the search trigger (which fires on an UPDATE of them) stays
    quiet and the documents come back as saved, not as it would recompute them.
    """
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'casework_case' AND table_schema = current_schema() ORDER BY ordinal_position"
        )
        columns = [
            name
            for (name,) in cursor.fetchall()
            if name not in ("id", "reference", "subject", "description")
        ]
        cursor.execute("DROP TABLE IF EXISTS bench_case_rows_kept")
        cursor.execute(
            "CREATE TEMP TABLE bench_case_rows_kept AS SELECT * FROM casework_case "
            "WHERE id = ANY(%s)",
            [list(ids)],
        )
    try:
        yield
    finally:
        listed = ", ".join(f'"{name}"' for name in columns)
        kept = ", ".join(f'k."{name}"' for name in columns)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE casework_case c SET ({listed}) = ({kept}) "
                "FROM bench_case_rows_kept k WHERE c.id = k.id"
            )
            cursor.execute("DROP TABLE bench_case_rows_kept")
