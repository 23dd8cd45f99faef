"""Run issue 7's benchmarks: `python bench/run.py --size 100000` (what `make bench` does).

Loads the bench database if it does not hold SIZE cases yet (bench/load.py), runs every scenario
after a warm-up, then writes bench/results.json and bench/results.md and prints the table.
Write scenarios put the database back as they found it, so runs can follow each other.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path

# Run as a script, Python puts bench/ first on the path, where its modules would shadow others
# (bench/load.py is not the only generic name): the project root goes there instead.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)
else:
    sys.path.insert(0, str(ROOT))

from bench.common import BENCH_DIR, bench_url, say, setup_django  # noqa: E402

ALL = (
    "reads",
    "search",
    "staff_list",
    "intake",
    "helpdesk",
    "search_cost",
    "mail_maildir",
    "mail_imap",
    "sweep",
    "concurrent",
    "recompute",
    "indexes",
    "business_time",
    # The front desk (issue 21, bench/frontdesk.py).
    "portal_list",
    "message_post",
    "deadline_sweep",
    "obligations",
    "dashboard",
    "report_period",
    "billing_csv",
    "health",
)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory = next(
            int(line.split()[1]) // 1024 // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        memory = 0
    return f"{os.cpu_count()} cores ({model}), {memory} GB RAM, {platform.system()}"


def meta_of(size: int, marker: dict) -> dict:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        settings = []
        for name in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost"):
            cursor.execute(f"SHOW {name}")
            settings.append(f"{name}={cursor.fetchone()[0]}")
        cursor.execute("SELECT status, count(*) FROM casework_case GROUP BY status ORDER BY 1")
        statuses = dict(cursor.fetchall())
    rows = marker.get("rows", {})
    open_cases = sum(statuses.get(s, 0) for s in ("triage", "unassigned", "assigned", "waiting"))
    open_cases += statuses.get("resolved", 0)
    return {
        "size": size,
        "measured_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "postgres": version,
        "postgres_settings": ", ".join(settings),
        "python": platform.python_version(),
        "django": django.get_version(),
        "load_seconds": marker.get("load_seconds"),
        "rows": rows,
        "statuses": statuses,
        "rows_line": ", ".join(
            f"{table.split('_', 1)[1]} {count:,}"
            for table, count in rows.items()
            if table
            in (
                "casework_case",
                "casework_caseevent",
                "casework_message",
                "viewflow_task",
                "viewflow_process",
            )
        ),
        "open_line": f"{open_cases:,} ("
        + ", ".join(f"{s} {statuses.get(s, 0):,}" for s in ("triage", "unassigned", "assigned"))
        + f", waiting {statuses.get('waiting', 0):,}, resolved {statuses.get('resolved', 0):,})",
    }


def explains_of(results, wanted: dict[str, str]) -> tuple[list[dict], list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the list queries, and a Seq Scan check of every SELECT.

    `wanted` maps a title to the start of a scenario's name; its count and page statements on
    casework_case or viewflow_task are explained (the sweep's without ANALYZE: it locks rows).
    """
    from bench import measure

    tables = measure.big_tables()
    entries, findings = [], []
    for title, prefix in wanted.items():
        result = next((r for r in results if r.name.startswith(prefix)), None)
        if result is None or not result.sql:
            continue
        analyze = "sweep" not in result.name
        for sql in result.sql:
            # The list's own statements: its count and its page, on the big table it lists.
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            if not re.search(r'FROM "(casework_case|viewflow_task)"', sql):
                continue
            # A task page is cut by ids first; the tasks of those ids are then read with joins.
            page_rows = re.search(r'WHERE "viewflow_task"\."id" IN \(', sql) is not None
            if "LIMIT" not in sql and "COUNT(*)" not in sql and not page_rows:
                continue
            if page_rows:
                kind = "page rows"
            else:
                kind = "count" if "COUNT(*)" in sql and "LIMIT" not in sql else "page"
            # A statement captured without its parameters bound cannot be explained as it is.
            if "%s" in sql:
                continue
            if any(e["sql"] == sql for e in entries):
                continue
            plan = measure.explain(sql, analyze=analyze)
            entries.append(
                {
                    "title": f"{title} — {kind} query",
                    "scenario": result.name,
                    "sql": sql,
                    "plan": plan,
                    "seq_scans": measure.seq_scans(plan, tables),
                    "rows_filtered_away": measure.filtered_away(plan),
                }
            )
            thrown = measure.filtered_away(plan)
            if thrown > 500:
                findings.append(
                    f"{title} ({kind}): scans read {thrown:,} rows only to discard them by "
                    "filter — the index used does not match the query's conditions, so the "
                    "cost grows with the table, not with the answer"
                )
    for result in results:
        analyze = result.unit == "ms" and "sweep" not in result.name
        for sql in result.sql:
            if sql.lstrip()[:6].upper() != "SELECT":
                continue
            try:
                plan = measure.explain(sql, analyze=analyze)
            except Exception as error:  # noqa: BLE001 - a plan we cannot get is reported, not fatal
                findings.append(f"{result.name}: could not EXPLAIN a query ({error})")
                continue
            scans = measure.seq_scans(plan, tables)
            if scans:
                finding = f"{result.name}: Seq Scan on {', '.join(scans)} in `{sql[:160]}…`"
                if finding not in findings:
                    findings.append(finding)
                if not any(e["sql"] == sql for e in entries):
                    entries.append(
                        {
                            "title": f"{result.name} — query with a Seq Scan",
                            "scenario": result.name,
                            "sql": sql,
                            "plan": plan,
                            "seq_scans": scans,
                        }
                    )
    return entries, findings


def settle() -> None:
    """Vacuum what the write scenarios touched, so the next run finds a settled database."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            "casework_case",
            "casework_caseevent",
            "casework_message",
            "casework_notification",
            "viewflow_task",
            "viewflow_process",
            "viewflow_task_previous",
            "casework_consultant",
            "casework_caseread",
            "casework_attachment",
            "casework_inboundemail",
            "casework_deadline",
            "casework_deadlinereminder",
        ):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="cases in the bench database")
    parser.add_argument("--reload", action="store_true", help="load the database again first")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each read scenario")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs before them")
    parser.add_argument("--only", nargs="*", choices=ALL, help="run only these groups")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="replace only the scenarios measured now in the existing results (after a fix)",
    )
    parser.add_argument("--intake-cases", type=int, default=200)
    parser.add_argument("--mail-messages", type=int, default=60, help="messages per mail round")
    parser.add_argument("--mail-rounds", type=int, default=3, help="timed rounds of mail intake")
    parser.add_argument(
        "--cost-rounds", type=int, default=4, help="rounds of 10 writes with and without triggers"
    )
    parser.add_argument("--newly-due", type=int, default=2000)
    parser.add_argument("--sweep-runs", type=int, default=5)
    parser.add_argument("--recompute-runs", type=int, default=3)
    parser.add_argument(
        "--reminders-due", type=int, default=2000, help="deadline reminders the sweep sends"
    )
    parser.add_argument(
        "--reminders-compare",
        type=int,
        default=200,
        help="a smaller sweep first, to compare its statements with the full one's",
    )
    parser.add_argument(
        "--task-runs", type=int, default=3, help="timed runs of the deadline and obligation tasks"
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--concurrency-seconds", type=float, default=40)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time (s)")
    parser.add_argument("--saturation-seconds", type=float, default=10)
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0,
        help="wait up to this many seconds for the 1-minute load average to drop below 1.5 "
        "before measuring (the machine may be shared)",
    )
    args = parser.parse_args(argv)
    groups = set(args.only or ALL)
    previous = BENCH_DIR / "results.json"
    if args.merge and previous.exists():
        size = json.loads(previous.read_text())["meta"]["size"]
        if size != args.size:
            parser.error(
                f"--merge: bench/results.json holds figures at {size:,} cases, not {args.size:,}"
            )
    started = time.monotonic()

    from bench.load import ensure_loaded

    url = bench_url()
    marker = ensure_loaded(args.size, reload=args.reload, url=url)
    os.environ["CONN_MAX_AGE"] = "600"  # in-process: one connection for the whole run
    setup_django(url)
    from django.test.utils import override_settings

    override_settings(ROOT_URLCONF="bench.urls").enable()

    from bench import finding, frontdesk, mail_intake, scenarios
    from bench.concurrency import concurrent

    # A run stopped half-way through the search cost would have left them off.
    finding.search_triggers(True)

    if args.quiet_wait:
        deadline = time.monotonic() + args.quiet_wait
        while os.getloadavg()[0] >= 1.5 and time.monotonic() < deadline:
            say(f"waiting for a quieter machine: load average {os.getloadavg()[0]:.2f}")
            time.sleep(15)
    meta = meta_of(args.size, marker)
    meta["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    say(f"bench at {args.size:,} cases on {meta['machine']}")
    cast = scenarios.cast(marker)
    results: list[scenarios.Result] = []

    def attempt(label: str, action) -> None:
        load_before = round(os.getloadavg()[0], 2)
        say(f"scenario: {label} (load average {load_before})")
        try:
            produced = action()
        except Exception as error:  # noqa: BLE001 - one broken scenario must not hide the others
            traceback.print_exc()
            failed = scenarios.Result(name=label, target="-", passed=False)
            failed.skipped = f"error: {type(error).__name__}: {str(error)[:200]}"
            results.append(failed)
            return
        for result in produced if isinstance(produced, list) else [produced]:
            result.extra["load_average"] = [load_before, round(os.getloadavg()[0], 2)]
            results.append(result)
            if result.skipped:
                say(f"  {result.name}: skipped ({result.skipped})")
            else:
                say(
                    f"  {result.name}: median {result.median} {result.unit}, p95 {result.p95}, "
                    f"queries {result.queries}, floor {result.floor} -> "
                    f"{'PASS' if result.passed else 'FAIL' if result.passed is False else 'info'}"
                )

    runs, warmup = args.runs, args.warmup
    client_of = {}

    def client(user):
        if user.pk not in client_of:
            client_of[user.pk] = scenarios.client_for(user, cast.tokens)
        return client_of[user.pk]

    floors = {}
    if groups & {"reads", "intake", "message_post", "health"}:
        floors = scenarios.empty_floors(client(cast.supervisor), runs=runs, warmup=warmup)
        say(f"floor: empty DRF request in-process GET {floors['get']} ms, POST {floors['post']} ms")
        meta["empty_drf_request_ms"] = floors
    if "business_time" in groups:
        attempt("business-time arithmetic", scenarios.business_time)
    if "reads" in groups:
        from bench.measure import Snapshot

        before_reads = Snapshot.take()  # reads of a case by staff are recorded: undone below
        api = scenarios.API
        attempt(
            "consultant queue: mine",
            lambda: scenarios.queue(
                "consultant queue GET /tasks/?scope=mine, page of 50",
                client(cast.consultant_mine),
                "mine",
                runs=runs,
                warmup=warmup,
            ),
        )
        attempt(
            "consultant queue: available",
            lambda: scenarios.queue(
                "consultant queue GET /tasks/?scope=available, page of 50",
                client(cast.consultant_available),
                "available",
                runs=runs,
                warmup=warmup,
            ),
        )
        attempt(
            "member case list",
            lambda: scenarios.api_read(
                "member case list GET /cases/, page of 50",
                "<= 25 ms",
                25,
                client(cast.member),
                [f"{api}/cases/?page_size=50"],
                runs=runs,
                warmup=warmup,
            ),
        )
        attempt(
            "case detail with timeline",
            lambda: scenarios.api_read(
                "case detail + timeline of 100 events (2 GETs)",
                "<= 30 ms",
                30,
                client(cast.timeline_staff),
                [
                    f"{api}/cases/{cast.timeline_case}/",
                    f"{api}/cases/{cast.timeline_case}/events/?page_size=100",
                ],
                runs=runs,
                warmup=warmup,
            ),
        )
        attempt(
            "SLA summary",
            lambda: scenarios.api_read(
                "GET /sla/summary/ federation-wide",
                "<= 150 ms",
                150,
                client(cast.supervisor),
                [f"{api}/sla/summary/"],
                runs=runs,
                warmup=warmup,
            ),
        )
        attempt(
            "cooperative report",
            lambda: scenarios.api_read(
                "GET /reports/cooperatives/{id}/ (largest cooperative)",
                "<= 100 ms",
                100,
                client(cast.supervisor),
                [f"{api}/reports/cooperatives/{cast.cooperative_id}/"],
                runs=runs,
                warmup=warmup,
            ),
        )
    if "reads" in groups:
        say(f"  reads: removed what they recorded ({before_reads.restore()})")
    if groups & {"search", "staff_list"}:
        from bench.measure import Snapshot

        before_finding = Snapshot.take()
        if "search" in groups:
            attempt("search", lambda: finding.search(cast, runs=runs, warmup=warmup))
        if "staff_list" in groups:
            attempt("staff case list", lambda: finding.staff_list(cast, runs=runs, warmup=warmup))
        say(f"  finding: removed what it recorded ({before_finding.restore()})")
    desk_reads = {"portal_list", "dashboard", "report_period", "billing_csv", "health"}
    if groups & desk_reads:
        from bench.measure import Snapshot

        before_desk = Snapshot.take()  # sessions and reads a page may record: undone below
        if "portal_list" in groups:
            attempt(
                "portal list with unread markers",
                lambda: frontdesk.portal_list(cast, runs=runs, warmup=warmup),
            )
        if "dashboard" in groups:
            attempt(
                "dashboard with filters",
                lambda: frontdesk.dashboard(cast, runs=runs, warmup=warmup),
            )
        if "report_period" in groups:
            attempt(
                "cooperative report for a period",
                lambda: frontdesk.report_period(cast, runs=runs, warmup=warmup),
            )
        if "billing_csv" in groups:
            attempt(
                "billing CSV of a quarter",
                lambda: frontdesk.billing_csv(cast, runs=runs, warmup=warmup),
            )
        if "health" in groups:
            attempt("health endpoint", lambda: frontdesk.health(floors, runs=runs, warmup=warmup))
        say(f"  front desk: removed what it recorded ({before_desk.restore()})")
    if "message_post" in groups:
        attempt(
            "a message posted",
            lambda: frontdesk.message_post(cast, floors, runs=runs, warmup=warmup),
        )
    if "deadline_sweep" in groups:
        attempt(
            "deadline reminder sweep",
            lambda: frontdesk.deadline_sweep(
                due=args.reminders_due,
                compare=args.reminders_compare,
                runs=args.task_runs,
                size=args.size,
            ),
        )
    if "obligations" in groups:
        attempt(
            "recurring-obligation generator",
            lambda: frontdesk.obligation_generator(runs=args.task_runs),
        )
    if "intake" in groups:
        attempt(
            "intake",
            lambda: scenarios.intake(cast, floors, count=args.intake_cases, warmup=20),
        )
    if "helpdesk" in groups:
        from bench import helpdesk

        # Right after the intake, in the same window of the machine (its own venv and database).
        attempt("django-helpdesk side by side", helpdesk.side_by_side)
    if "search_cost" in groups:
        attempt(
            "search documents' cost",
            lambda: finding.search_cost(cast, rounds=args.cost_rounds),
        )
    if "mail_maildir" in groups:
        attempt(
            "mail intake from a Maildir",
            lambda: mail_intake.maildir(cast, messages=args.mail_messages, rounds=args.mail_rounds),
        )
    if "mail_imap" in groups:
        attempt(
            "mail intake from Dovecot",
            lambda: mail_intake.imap(cast, messages=args.mail_messages, rounds=args.mail_rounds),
        )
    if "sweep" in groups:
        attempt(
            "SLA sweep",
            lambda: scenarios.sweep(newly_due=args.newly_due, runs=args.sweep_runs, warmup=1),
        )
    if "concurrent" in groups:
        attempt(
            "concurrent load",
            lambda: concurrent(
                url,
                clients=args.clients,
                seconds=args.concurrency_seconds,
                think=args.think,
                saturation_seconds=args.saturation_seconds,
            ),
        )
    if "recompute" in groups:
        attempt(
            "recompute after a calendar change",
            lambda: scenarios.recompute(runs=args.recompute_runs),
        )
    if "indexes" in groups:
        attempt("index cost", scenarios.index_cost)
    writes = {"intake", "search_cost", "mail_maildir", "mail_imap", "sweep", "concurrent"}
    writes |= {"message_post", "deadline_sweep", "obligations"}
    if groups & (writes | {"recompute"}):
        say("vacuum analyse of what the write scenarios touched")
        settle()

    say("query plans (EXPLAIN ANALYZE, BUFFERS) and Seq Scan check")
    explains, findings = explains_of(
        results,
        {
            "Member case list": "member case list",
            "Task list, mine": "consultant queue GET /tasks/?scope=mine",
            "Task list, available": "consultant queue GET /tasks/?scope=available",
            "SLA sweep (plan only)": "SLA sweep",
            **{
                f"Portal case list, {reader}": f"portal case list /cases/ with unread markers, "
                f"page of 20, {reader}"
                for reader in ("legal representative", "plain member")
            },
            **{
                f"Search, {kind}, {reader}": f"search GET /cases/?q=, {kind}, {reader}"
                for reader in ("member", "supervisor of every area")
                for kind, _query in finding.SEARCHES
            },
            **{
                f"Staff case list, {reader}": f"staff case list /work/cases/, 2 filters + sort, "
                f"page of 50, {reader}"
                for reader in ("supervisor of every area", "consultant")
            },
        },
    )
    for result in results:
        if result.passed is False:
            what = result.skipped or "; ".join(result.notes) or "target missed"
            findings.insert(0, f"{result.name}: {result.target} not met ({what})")
        for note in result.notes:
            if "depend" in note:
                findings.append(f"{result.name}: {note}")

    from bench import report

    meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]

    text = report.write(
        BENCH_DIR / "results.json",
        BENCH_DIR / "results.md",
        meta,
        results,
        explains,
        findings,
        merge=args.merge,
    )
    print()
    print(text)
    print()
    for line in findings:
        print(f"- {line}")
    failed = sum(1 for r in results if r.passed is False)
    say(
        f"done in {time.monotonic() - started:,.0f} s: {len(results)} figures, {failed} missed; "
        "bench/results.md and bench/results.json written"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
