"""Finding cases (issue 16): the API's full-text search, the staff case list, and what the
search documents' triggers add to an intake and to a message; each beside its floor.

The searched words are the loader's own (bench/load.py, SUBJECTS and the messages' lines), so
they match as many cases as they would in a federation that writes like the loaded one: the
one word is in the subject and description of one fiscal case in nine, the two words in the
subject of one legal case in three, the phrase in the subject of one fiscal case in three.
"""

from __future__ import annotations

import itertools
import re
import statistics
import time
from contextlib import contextmanager, nullcontext
from unittest import mock
from urllib.parse import urlencode

from bench import measure
from bench.common import say
from bench.scenarios import API, Cast, Result, _figures, api_read, client_for, intake_bodies

#: (kind, query): the query None is the reference of one of the member's cases.
SEARCHES = (
    ("one word", "bilancio"),
    ("two words", "contratto appalto"),
    ("a phrase", '"cartella esattoriale"'),
    ("a reference", None),
)
#: The API's default page (api.pagination.Pagination).
SEARCH_PAGE_SIZE = 25
SEARCH_MEDIAN_MS, SEARCH_P95_MS = 50, 150
STAFF_LIST_MS = 25
MESSAGE_MS = 30  # issue 21: posting a message
#: The open statuses a member's reply leaves as they are (a reply to a waiting case would
#: resume it, to a resolved one reopen it): the cases the write scenarios answer.
ANSWERABLE = ("assigned", "unassigned", "triage")
#: The GIN indexes of migration 0018 that a search of words must read.
GIN_INDEXES = ("case_search_public", "case_search_staff")
#: The triggers of migration 0018 that keep the search documents: table -> trigger.
SEARCH_TRIGGERS = {
    "casework_case": "case_search_row",
    "casework_message": "message_search",
    "casework_attachment": "attachment_search",
}
_INDEX_USED = re.compile(r"(?:Bitmap Index Scan on|Index (?:Only )?Scan(?: Backward)? using) (\w+)")
_TRIGGER_TIME = re.compile(r"Trigger (\w+): time=([\d.]+) calls=(\d+)")


# --- Search -------------------------------------------------------------------------------------


def _member_reference(cast_: Cast) -> str:
    """The reference of the newest case of the member's cooperative."""
    from casework.models import Case

    return (
        Case.objects.filter(cooperative_id=cast_.cooperative_id)
        .order_by("-id")
        .values_list("reference", flat=True)
        .first()
    )


def indexes_used(queries: list[str]) -> list[str]:
    """The indexes the plans of the SELECTs on casework_case read (EXPLAIN without ANALYZE)."""
    found: set[str] = set()
    for sql in measure.work_queries(queries):
        if not sql.lstrip().upper().startswith("SELECT") or '"casework_case"' not in sql:
            continue
        found.update(_INDEX_USED.findall(measure.explain(sql, analyze=False)))
    return sorted(found)


def search(cast_: Cast, *, runs: int, warmup: int) -> list[Result]:
    """`GET /api/v1/cases/?q=` of the four kinds, for a member and a supervisor of every area."""
    reference = _member_reference(cast_)
    readers = (("member", cast_.member), ("supervisor of every area", cast_.supervisor))
    results = []
    for reader, user in readers:
        client = client_for(user, cast_.tokens)
        for kind, words in SEARCHES:
            query = words or reference
            path = f"{API}/cases/?" + urlencode({"q": query, "page_size": SEARCH_PAGE_SIZE})
            result = api_read(
                f"search GET /cases/?q=, {kind}, {reader}",
                f"median <= {SEARCH_MEDIAN_MS} ms, p95 <= {SEARCH_P95_MS} ms; GIN index read",
                SEARCH_MEDIAN_MS,
                client,
                [path],
                runs=runs,
                warmup=warmup,
            )
            if result.skipped:
                results.append(result)
                continue
            queries = result.sql
            used = indexes_used(queries)
            gin = sorted(set(used) & set(GIN_INDEXES))
            result.extra.update({"query": query, "indexes": used, "gin_indexes": gin})
            result.passed = result.median <= SEARCH_MEDIAN_MS and result.p95 <= SEARCH_P95_MS
            result.notes.insert(
                0,
                f"q={query!r}: {result.extra.get('count')} cases found, "
                f"GIN: {', '.join(gin) or 'none'}",
            )
            if words and not gin:
                result.passed = False
                result.notes.append("the search of words read no GIN index")
            results.append(result)
    return results


# --- The staff case list ------------------------------------------------------------------------


def _staff_area(user) -> str:
    from casework.models import Consultant

    consultant = Consultant.objects.filter(user=user).prefetch_related("areas").first()
    areas = sorted(consultant.areas.all(), key=lambda area: area.position) if consultant else []
    return areas[0].code if areas else "fiscal"


def page_count(queries: list[str]) -> int | None:
    """What the list's COUNT(*) on casework_case answers: how many cases the filters keep."""
    from django.db import connection

    for sql in measure.work_queries(queries):
        if sql.lstrip().upper().startswith("SELECT COUNT(*)") and '"casework_case"' in sql:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchone()[0]
    return None


@contextmanager
def staff_client(user):
    """A browser session of `user` as production has one: signed in, and verified by a
    second factor (a confirmed authenticator of the bench's, removed afterwards), so that the
    two-factor middleware lets the pages through as it does after a real sign-in."""
    import django_otp
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[django_otp.DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    try:
        yield client
    finally:
        client.logout()
        device.delete()


def staff_list(cast_: Cast, *, runs: int, warmup: int) -> list[Result]:
    """`/work/cases/` with two filters (status, area) and a sort (the SLA due), page of 50, for
    a supervisor of every area and for the consultant holding the most work; the same at a
    page of 10, whose statements must be as many."""
    from workflows.workspace import cases as workspace_cases

    results = []
    readers = (
        ("supervisor of every area", cast_.supervisor, "fiscal"),
        ("consultant", cast_.consultant_mine, _staff_area(cast_.consultant_mine)),
    )
    for reader, user, area in readers:
        filters = [("status", "assigned"), ("status", "waiting"), ("area", area), ("sort", "due")]
        path = "/work/cases/?" + urlencode(filters)
        name = f"staff case list /work/cases/, 2 filters + sort, page of 50, {reader}"
        with staff_client(user) as client:
            with mock.patch.object(workspace_cases, "PAGE_SIZE", 10):
                small = api_read(name, "", STAFF_LIST_MS, client, [path], runs=runs, warmup=warmup)
            result = api_read(
                name,
                f"<= {STAFF_LIST_MS} ms; queries independent of page size",
                STAFF_LIST_MS,
                client,
                [path],
                runs=runs,
                warmup=warmup,
            )
        if result.skipped:
            results.append(result)
            continue
        result.extra.update(
            {
                "path": path,
                "count": page_count(result.sql),
                "queries_page_10": small.queries,
                "median_page_10": small.median,
            }
        )
        result.notes.insert(0, f"{path}: {result.extra['count']} cases match")
        if small.queries != result.queries:
            result.passed = False
            result.notes.append(
                f"queries depend on page size: {small.queries} at 10, {result.queries} at 50"
            )
        results.append(result)
    return results


# --- What the search triggers cost a write ------------------------------------------------------


def answerable_cases(cast_: Cast, wanted: int) -> list:
    """Up to `wanted` open cases of the member's cooperative that a reply leaves in their status,
    newest first. A small bench database may have none: then a few are opened for the member
    (take a `measure.Snapshot` first: its restore removes them)."""
    from casework.models import Case

    def found() -> list:
        return list(
            Case.objects.filter(cooperative_id=cast_.cooperative_id, status__in=ANSWERABLE)
            .select_related("cooperative")
            .order_by("-id")[:wanted]
        )

    cases = found()
    if not cases:
        client = client_for(cast_.member, cast_.tokens)
        for body in intake_bodies(cast_.cooperative_id, min(wanted, 10), seed=3):
            response = client.post(f"{API}/cases/", body, format="json")
            if response.status_code != 201:
                raise RuntimeError(f"intake -> {response.status_code} {response.content[:300]}")
        cases = found()
    return cases


def search_triggers(enabled: bool) -> None:
    """Switch migration 0018's triggers on or off for every session (ALTER TABLE, committed)."""
    from django.db import connection

    verb = "ENABLE" if enabled else "DISABLE"
    with connection.cursor() as cursor:
        for table, trigger in SEARCH_TRIGGERS.items():
            cursor.execute(f"ALTER TABLE {table} {verb} TRIGGER {trigger}")


@contextmanager
def search_triggers_off():
    search_triggers(False)
    try:
        yield
    finally:
        search_triggers(True)


def _trigger_ms(sql: str | None, trigger: str, *, times: int = 5) -> float | None:
    """The time PostgreSQL reports inside `trigger` for the INSERT `sql`, run and rolled back
    (EXPLAIN ANALYZE runs the statement and its triggers): the median of `times`."""
    from django.db import connection, transaction

    if sql is None:
        return None
    seen = []
    for _ in range(times):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, TIMING) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        for name, ms, _calls in _TRIGGER_TIME.findall(plan):
            if name == trigger:
                seen.append(float(ms))
    return round(statistics.median(seen), 3) if seen else None


def _insert_into(queries: list[str], table: str) -> str | None:
    return next((sql for sql in queries if sql.lstrip().startswith(f'INSERT INTO "{table}"')), None)


def _alternating(samples: dict, rounds: int, per_round: int, action) -> None:
    """`action(mode)` per_round times with the triggers on and per_round with them off, in turn
    (on-off, off-on, ...), so that a machine getting slower or faster weighs on both alike."""
    for index in range(rounds):
        for mode in ("on", "off") if index % 2 == 0 else ("off", "on"):
            with search_triggers_off() if mode == "off" else nullcontext():
                for _ in range(per_round):
                    started = time.perf_counter()
                    action(mode)
                    samples[mode].append((time.perf_counter() - started) * 1000)


def _cost_result(name: str, target: str, samples: dict, trigger_ms: dict, queries) -> Result:
    result = Result(name=name, target=target)
    _figures(result, samples["on"])
    off = measure.summary(samples["off"])
    result.floor = off["median_ms"]
    result.floor_kind = "the same action with the search triggers disabled"
    result.queries = len(queries)
    result.sql = queries
    added = round(result.median - result.floor, 2)
    inside = ", ".join(f"{trigger} {ms} ms" for trigger, ms in trigger_ms.items() if ms is not None)
    result.extra.update(
        {
            "added_ms": added,
            "median_without_ms": off["median_ms"],
            "p95_without_ms": off["p95_ms"],
            "trigger_ms": trigger_ms,
            "runs": len(samples["on"]),
        }
    )
    result.notes.append(
        f"the search triggers add {added} ms per action (median {result.median} ms with them, "
        f"{result.floor} ms without, {len(samples['on'])} of each, alternating); PostgreSQL "
        f"reports {inside or 'no trigger time'} inside them"
    )
    return result


def search_cost(cast_: Cast, *, rounds: int = 4, per_round: int = 10, warmup: int = 5):
    """An intake (`POST /cases/`) and a member's reply (`POST /cases/{id}/messages/`) with the
    search triggers and without; every write is undone afterwards."""
    from django.db import connection

    member = cast_.member
    client = client_for(member, cast_.tokens)
    timed = 2 * rounds * per_round
    bodies = iter(intake_bodies(cast_.cooperative_id, warmup + timed + 1, seed=11))
    snapshot = measure.Snapshot.take()
    # The member's replies go to the open cases a reply does not move, each to the next in turn.
    case_ids = [case.pk for case in answerable_cases(cast_, warmup + timed + 1)]
    replies = itertools.cycle(case_ids)
    text = (
        "Buongiorno, alleghiamo il bilancio di esercizio approvato dall'assemblea e la nota "
        "integrativa; restiamo in attesa del vostro parere sul ravvedimento operoso."
    )

    def intake(_mode=None):
        response = client.post(f"{API}/cases/", next(bodies), format="json")
        if response.status_code != 201:
            raise RuntimeError(f"intake -> {response.status_code} {response.content[:300]}")

    def reply(_mode=None):
        case_id = next(replies)
        response = client.post(f"{API}/cases/{case_id}/messages/", {"body": text}, format="json")
        if response.status_code != 201:
            raise RuntimeError(f"reply -> {response.status_code} {response.content[:300]}")

    samples = {"intake": {"on": [], "off": []}, "reply": {"on": [], "off": []}}
    captured = {}
    try:
        with measure.case_rows_kept(case_ids):
            for _ in range(warmup):
                intake()
                reply()
            _done, captured["intake"] = measure.captured(intake)
            _done, captured["reply"] = measure.captured(reply)
            _alternating(samples["intake"], rounds, per_round, intake)
            _alternating(samples["reply"], rounds, per_round, reply)
            # Inside the triggers, as PostgreSQL times them: a message while its case exists,
            # an intake's case once it is gone again (its reference is unique).
            queries = {kind: measure.work_queries(q) for kind, q in captured.items()}
            message_insert = _insert_into(queries["reply"], "casework_message")
            reply_trigger = {"message_search": _trigger_ms(message_insert, "message_search")}
    finally:
        search_triggers(True)
        removed = snapshot.restore()
        say(f"  search cost: removed what it added ({removed})")
    case_insert = _insert_into(queries["intake"], "casework_case")
    intake_trigger = {"case_search_row": _trigger_ms(case_insert, "case_search_row")}
    with connection.cursor() as cursor:
        cursor.execute("VACUUM casework_case")
    return [
        _cost_result(
            "search documents' cost: intake POST /cases/, with and without the triggers",
            "no target: what the search document adds to an intake",
            samples["intake"],
            intake_trigger,
            queries["intake"],
        ),
        _passed(
            _cost_result(
                "search documents' cost: a member's message POST /cases/{id}/messages/, "
                "with and without the triggers",
                f"<= {MESSAGE_MS} ms (issue 21); what the search document adds",
                samples["reply"],
                reply_trigger,
                queries["reply"],
            ),
            MESSAGE_MS,
        ),
    ]


def _passed(result: Result, limit_ms: float) -> Result:
    result.passed = result.median <= limit_ms
    return result
