"""The front desk (issue 21): what the cooperatives' people, the consultants and the supervisors
do most at the desk, and the periodic tasks behind it, each beside its floor.

The portal's case list with its unread markers (a legal representative, an ordinary member), a
consultant's public reply, the deadline reminder sweep, the recurring-obligation generator, the
supervisor dashboard with filters, a cooperative's report for a period, the billing CSV of a
quarter and the health probe. Every write is undone: what a scenario adds is deleted, what it
changes is put back, or it runs in a transaction that is rolled back.
"""

from __future__ import annotations

import itertools
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from unittest import mock
from urllib.parse import urlencode

from bench import measure
from bench.common import say
from bench.finding import MESSAGE_MS, page_count, staff_client
from bench.scenarios import API, Cast, Result, _figures, api_read, client_for

PORTAL_LIST_MS = 25  # issue 21: every list
API_PAGE_SIZE = 50  # as the reads' member case list
REMINDER_SWEEP_MS = 1000  # issue 21
DASHBOARD_MS = 150  # mine: the SLA summary's target; issue 21 gives the dashboard none
REPORT_MS = 100  # as the reads' cooperative report
BILLING_MS = 2000  # mine: a quarter's file for the whole federation, downloaded now and then
HEALTH_MS = 25  # issue 21
GENERATOR_MS = 5000  # mine: a nightly task; each run must stay far from its 30-minute limit
#: The share of the busiest obligation's cooperatives whose deadlines the smaller run rebuilds.
GENERATOR_SMALL_SHARE = 10
#: Statements of the 200-reminder run kept for run.py's plan check (each is EXPLAINed).
PLAN_CHECKED = 80


def skipped(name: str, target: str, reason: str) -> Result:
    result = Result(name=name, target=target)
    result.skipped = reason
    return result


# --- Who reads the portal ------------------------------------------------------------------------


@dataclass
class DeskPeople:
    legal_rep: object | None  # a legal representative of the largest cooperative
    plain_member: object | None  # its ordinary member with the most cases, if it has one
    plain_member_cases: int


def desk_people(cast_: Cast) -> DeskPeople:
    """The people of the largest cooperative (the cast's) the portal scenarios read as, by their
    role there (`Membership.role`); people of one cooperative only, as the cast's member, so that
    the portal shows that one. Their API tokens join the cast's."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    only_here = (
        "FROM casework_membership m JOIN auth_user u ON u.id = m.user_id "
        "WHERE m.cooperative_id = %s AND m.role = %s AND m.is_active AND u.is_active "
        "AND NOT EXISTS (SELECT 1 FROM casework_membership o WHERE o.user_id = m.user_id "
        "AND o.cooperative_id <> m.cooperative_id AND o.is_active) "
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.user_id {only_here} ORDER BY m.user_id LIMIT 1",
            [cast_.cooperative_id, "legal_rep"],
        )
        row = cursor.fetchone()
        legal_rep_id = row[0] if row else None
        cursor.execute(
            "SELECT m.user_id, (SELECT count(*) FROM casework_case c WHERE c.cooperative_id = "
            f"m.cooperative_id AND c.requester_id = m.user_id) AS n {only_here} "
            "ORDER BY n DESC, m.user_id LIMIT 1",
            [cast_.cooperative_id, "member"],
        )
        row = cursor.fetchone()
        member_id, member_cases = row if row else (None, 0)
    users = get_user_model().objects.in_bulk([pk for pk in (legal_rep_id, member_id) if pk])
    for user in users.values():
        cast_.tokens[user.pk] = Token.objects.get_or_create(user=user)[0].key
    return DeskPeople(
        legal_rep=users.get(legal_rep_id),
        plain_member=users.get(member_id),
        plain_member_cases=member_cases,
    )


@contextmanager
def member_client(user):
    """A browser session of a cooperative's person (no second factor: that is for staff)."""
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    try:
        yield client
    finally:
        client.logout()


# --- The portal's case list -------------------------------------------------------------------


def portal_list(cast_: Cast, *, runs: int, warmup: int) -> list[Result]:
    """The portal's `/cases/` page (its unread markers in the list's one query) and the API's
    `GET /api/v1/cases/` (its `unread` field), for a legal representative of the largest
    cooperative (every case of it) and for an ordinary member of it (their own cases and those
    they follow)."""
    from casework.portal import views as portal

    people = desk_people(cast_)
    target = f"<= {PORTAL_LIST_MS} ms (issue 21: every list)"
    results = []
    readers = (
        ("legal representative", people.legal_rep, "the cooperative has no legal representative"),
        (
            "plain member",
            people.plain_member,
            "the largest cooperative has no ordinary member (Membership.role = member) in this "
            "bench database",
        ),
    )
    for reader, user, missing in readers:
        page_name = (
            f"portal case list /cases/ with unread markers, page of {portal.PAGE_SIZE}, {reader}"
        )
        api_name = f"portal API GET /cases/ with unread, page of {API_PAGE_SIZE}, {reader}"
        if user is None:
            results += [skipped(page_name, target, missing), skipped(api_name, target, missing)]
            continue
        with member_client(user) as client:
            page = api_read(
                page_name, target, PORTAL_LIST_MS, client, ["/cases/"], runs=runs, warmup=warmup
            )
            if not page.skipped:
                html = client.get("/cases/").content
                page.extra["unread_on_page"] = html.count(b'<tr class="unread"')
        api = api_read(
            api_name,
            target,
            PORTAL_LIST_MS,
            client_for(user, cast_.tokens),
            [f"{API}/cases/?page_size={API_PAGE_SIZE}"],
            runs=runs,
            warmup=warmup,
        )
        if not api.skipped:
            body = client_for(user, cast_.tokens).get(f"{API}/cases/?page_size={API_PAGE_SIZE}")
            api.extra["unread_on_page"] = sum(1 for row in body.json()["results"] if row["unread"])
        for result in (page, api):
            if result.skipped:
                continue
            result.extra["reader"] = user.username
            seen = page_count(result.sql) if result is page else result.extra.get("count")
            result.extra.setdefault("count", seen)
            note = (
                f"{user.username} sees {seen} cases, {result.extra['unread_on_page']} of the "
                f"page unread"
            )
            if user is people.plain_member:
                note += f" ({people.plain_member_cases} opened by them)"
            result.notes.insert(0, note)
        results += [page, api]
    return results


# --- A consultant's public reply ----------------------------------------------------------------

REPLY = (
    "Buongiorno, abbiamo esaminato il bilancio e la nota integrativa: vi inviamo il nostro "
    "parere sul ravvedimento operoso e restiamo a disposizione per un incontro."
)


@contextmanager
def reads_kept(user_id: int, case_ids: list[int]):
    """Put back who last opened the cases (`CaseRead`): writing on a case marks it read for its
    author, an update of an existing row that Snapshot (which removes new rows) does not undo."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, read_at FROM casework_caseread WHERE user_id = %s AND case_id = ANY(%s)",
            [user_id, list(case_ids)],
        )
        kept = cursor.fetchall()
    try:
        yield
    finally:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE casework_caseread SET read_at = %s WHERE id = %s",
                [(read_at, pk) for pk, read_at in kept],
            )


def message_post(cast_: Cast, floors: dict, *, runs: int, warmup: int) -> Result:
    """`POST /api/v1/cases/{id}/messages/` by the consultant holding the most work: a public
    reply on one of their assigned cases (each post on the next case), with the cooperative's
    e-mails queued and the case's search document updated by its trigger; undone afterwards."""
    from django.db import connection

    from casework.models import Case

    result = Result(
        name="a consultant's public reply POST /cases/{id}/messages/ (e-mails, search document)",
        target=f"<= {MESSAGE_MS} ms (issue 21)",
    )
    consultant = cast_.consultant_mine
    case_ids = list(
        Case.objects.filter(assignee=consultant, status="assigned")
        .order_by("-id")
        .values_list("pk", flat=True)[: runs + warmup + 1]
    )
    if not case_ids:
        result.skipped = f"{consultant.username} holds no assigned case"
        return result
    client = client_for(consultant, cast_.tokens)
    cases = itertools.cycle(case_ids)
    posted = []

    def post():
        case_id = next(cases)
        response = client.post(f"{API}/cases/{case_id}/messages/", {"body": REPLY}, format="json")
        if response.status_code != 201:
            raise RuntimeError(f"reply -> {response.status_code} {response.content[:300]}")
        posted.append(response.json()["id"])
        return response

    snapshot = measure.Snapshot.take()
    try:
        with measure.case_rows_kept(case_ids), reads_kept(consultant.pk, case_ids):
            for _ in range(warmup):
                post()
            response, queries = measure.captured(post)
            samples = measure.timed(post, runs=runs, warmup=0)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*), count(DISTINCT message_id) FROM casework_notification "
                    "WHERE message_id = ANY(%s)",
                    [posted],
                )
                emails, messages = cursor.fetchone()
    finally:
        removed = snapshot.restore()
        say(f"  reply: removed what it added ({removed})")
    result.sql = measure.work_queries(queries)
    result.queries = len(result.sql)
    _figures(result, samples)
    result.floor = floors["post"]
    result.floor_kind = "empty DRF POST"
    result.passed = result.median <= MESSAGE_MS
    result.extra.update(
        {
            "consultant": consultant.username,
            "cases_answered": len(set(case_ids)),
            "emails_per_reply": round(emails / max(len(posted), 1), 2),
            "replies_with_emails": messages,
            "statements_with_savepoints": len(queries),
        }
    )
    result.notes.append(
        f"{result.queries} statements; {result.extra['emails_per_reply']} e-mails queued per "
        "reply; the search document is rewritten by the message's trigger inside its INSERT"
    )
    return result


# --- The deadline reminder sweep ---------------------------------------------------------------


def _pending_deadlines() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM casework_deadline WHERE status = 'open' AND case_id IS NOT NULL"
        )
        return cursor.fetchone()[0]


def _create_pending(count: int, today: date) -> int:
    """`count` open deadlines on cases, due 31 days to a year from today (beyond every reminder
    window), one in three shared with the cooperative: one set-based INSERT. Returns the highest
    id before it (what to delete afterwards)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM casework_deadline")
        before = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO casework_deadline (title, kind, trigger_date, due_on, shared, status, "
            "note, created_at, updated_at, area_id, case_id, cooperative_id) "
            "SELECT 'Scadenza (bench)', 'fixed', %(today)s, "
            "%(today)s + 31 + (n %% 334)::int, n %% 3 = 0, 'open', '', now(), now(), "
            "c.area_id, c.id, c.cooperative_id FROM ("
            " SELECT id, area_id, cooperative_id, row_number() OVER (ORDER BY md5(id::text)) AS n "
            " FROM casework_case) c "
            "JOIN generate_series(0, %(per_case)s - 1) g ON true "
            "ORDER BY c.n, g LIMIT %(count)s",
            {"today": today, "count": count, "per_case": max(1, -(-count // _case_count()))},
        )
        cursor.execute("ANALYZE casework_deadline")
    return before


def _drop_made(created_after: int | None) -> int:
    """Delete the deadlines `_create_pending` made (those after its id); how many."""
    from django.db import connection

    if created_after is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM casework_deadline WHERE id > %s", [created_after])
        return cursor.rowcount


def _case_count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM casework_case")
        return max(cursor.fetchone()[0], 1)


@contextmanager
def _deadlines_kept():
    """Put the open deadlines back as they were (date, status, marks): the sweep marks the past
    ones missed, the scenario moves some into the reminder window. What it adds (reminders,
    events, e-mails) is removed by the caller."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_deadlines_kept")
        cursor.execute(
            "CREATE TEMP TABLE bench_deadlines_kept AS SELECT id, due_on, status, missed_at, "
            "updated_at FROM casework_deadline WHERE status = 'open'"
        )
        cursor.execute("SELECT coalesce(max(id), 0) FROM casework_deadlinereminder")
        reminders_before = cursor.fetchone()[0]
    try:
        yield
    finally:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM casework_deadlinereminder WHERE id > %s", [reminders_before]
            )
            cursor.execute(
                "UPDATE casework_deadline d SET due_on = k.due_on, status = k.status, "
                "missed_at = k.missed_at, updated_at = k.updated_at FROM bench_deadlines_kept k "
                "WHERE d.id = k.id AND (d.due_on, d.status, d.missed_at, d.updated_at) IS "
                "DISTINCT FROM (k.due_on, k.status, k.missed_at, k.updated_at)"
            )
            cursor.execute("DROP TABLE bench_deadlines_kept")


def _reminder_targets(schedule: dict, today: date, wanted: int) -> list[tuple[int, int]]:
    """(deadline id, days before) of `wanted` open deadlines of cases beyond every reminder
    window of their area and never reminded: each gets one reminder once moved to its area's
    first reminder day (the most days before)."""
    from django.db import connection

    if not schedule:
        return []
    areas = [(area_id, days[-1]) for area_id, days in schedule.items()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.id, a.days FROM casework_deadline d "
            "JOIN unnest(%s::bigint[], %s::int[]) AS a(area_id, days) ON a.area_id = d.area_id "
            "WHERE d.status = 'open' AND d.case_id IS NOT NULL AND d.due_on > %s::date + a.days "
            "AND NOT EXISTS (SELECT 1 FROM casework_deadlinereminder r "
            "WHERE r.deadline_id = d.id) ORDER BY md5(d.id::text) LIMIT %s",
            [[a for a, _d in areas], [d for _a, d in areas], today, wanted],
        )
        return cursor.fetchall()


def _due_now(targets: list[tuple[int, int]], today: date) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE casework_deadline d SET due_on = %s::date + t.days FROM "
            "unnest(%s::bigint[], %s::int[]) AS t(id, days) WHERE d.id = t.id",
            [today, [pk for pk, _d in targets], [days for _pk, days in targets]],
        )


def _back_from_kept(targets: list[tuple[int, int]]) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE casework_deadline d SET due_on = k.due_on, updated_at = k.updated_at "
            "FROM bench_deadlines_kept k WHERE d.id = k.id AND d.id = ANY(%s)",
            [[pk for pk, _d in targets]],
        )


def _reminder_floor(targets: list[tuple[int, int]], now) -> float:
    """The same reminders as set-based SQL, rolled back: the deadlines locked, their reminder
    rows, their events and their staff e-mails (responsible person, else the assignee)."""
    from django.db import connection, transaction

    ids = [pk for pk, _d in targets]
    days = [d for _pk, d in targets]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM casework_deadline WHERE id = ANY(%s) AND status = 'open' FOR UPDATE",
            [ids],
        )
        cursor.execute(
            "INSERT INTO casework_deadlinereminder (deadline_id, days_before, sent_at) "
            "SELECT id, days, %s FROM unnest(%s::bigint[], %s::int[]) AS t(id, days)",
            [now, ids, days],
        )
        cursor.execute(
            'INSERT INTO casework_caseevent (kind, created_at, "before", "after", note, case_id) '
            "SELECT 'deadline_reminded', %s, '{}', jsonb_build_object('deadline', d.id, "
            "'title', d.title, 'due_on', d.due_on, 'days_before', t.days), '', d.case_id "
            "FROM casework_deadline d JOIN unnest(%s::bigint[], %s::int[]) AS t(id, days) "
            "ON t.id = d.id",
            [now, ids, days],
        )
        cursor.execute(
            "INSERT INTO casework_notification (email, kind, subject, body, dedupe_key, status, "
            "attempts, last_error, created_at, case_id, recipient_id, context, "
            "header_message_id, in_reply_to) "
            "SELECT u.email, 'deadline_reminder', 'Promemoria: ' || d.title, d.title, "
            "'bench-floor:' || d.id || ':' || u.id, 'pending', 0, '', %s, d.case_id, u.id, "
            "'{}', '', '' FROM casework_deadline d JOIN casework_case c ON c.id = d.case_id "
            "JOIN auth_user u ON u.id = coalesce(d.responsible_id, c.assignee_id) "
            "WHERE d.id = ANY(%s) ON CONFLICT DO NOTHING",
            [now, ids],
        )
        elapsed = (time.perf_counter() - started) * 1000
        transaction.set_rollback(True)
    return elapsed


def deadline_sweep(*, due: int, compare: int, runs: int, size: int) -> Result:
    """`deadline_reminders.sweep_deadlines` (casework.tasks.sweep_deadlines) with `due` open
    deadlines just moved into a reminder window among every pending one; once with `compare`
    first, to see whether its statements grow with the reminders due."""
    from django.db import connection
    from django.utils import timezone

    from casework import deadline_reminders

    result = Result(
        name=f"deadline reminder sweep, {due:,} reminders due",
        target=f"<= {REMINDER_SWEEP_MS} ms; statements independent of the deadlines due",
    )
    today = timezone.localdate()
    pending = _pending_deadlines()
    schedule = deadline_reminders._area_days()
    created_after = None
    if not pending:
        # The loader made none: this run's own, 10 % of the cases (100,000 at 1,000,000).
        created_after = _create_pending(max(size // 10, due), today)
        result.notes.append(
            f"the bench database had no open deadline: {_pending_deadlines():,} made for the "
            "scenario (one INSERT) and deleted afterwards"
        )
    targets = _reminder_targets(schedule, today, due)
    if len(targets) < due:
        # Too few open deadlines beyond every window at this size: the rest made (deleted after).
        missing = due - len(targets)
        made_after = _create_pending(missing, today)
        created_after = made_after if created_after is None else created_after
        targets = _reminder_targets(schedule, today, due)
        result.notes.append(
            f"{missing:,} of the {due:,} deadlines made for the scenario (too few open ones "
            "beyond every reminder window at this size), deleted afterwards"
        )
    if not targets:
        _drop_made(created_after)
        result.skipped = "no open deadline of a case to remind (no area has reminder days?)"
        return result
    if len(targets) < due:
        result.notes.append(f"only {len(targets):,} deadlines could be made due")
    result.extra["open_deadlines_of_cases"] = _pending_deadlines()
    snapshot = measure.Snapshot.take()
    counts: dict[int, tuple[int, list[str], dict]] = {}
    samples, floor_samples = [], []
    try:
        with _deadlines_kept():
            # What fell due since the load is the periodic task's ordinary work: done first.
            result.extra["caught_up_before"] = deadline_reminders.sweep_deadlines()

            def once(chosen, *, capture: bool):
                round_snapshot = measure.Snapshot.take()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT coalesce(max(id), 0) FROM casework_deadlinereminder")
                    reminders_before = cursor.fetchone()[0]
                _due_now(chosen, today)
                now = timezone.now()
                try:
                    started = time.perf_counter()
                    if capture:
                        done, queries = measure.captured(
                            lambda: deadline_reminders.sweep_deadlines(now=now)
                        )
                    else:
                        done, queries = deadline_reminders.sweep_deadlines(now=now), []
                    elapsed = (time.perf_counter() - started) * 1000
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT count(*) FROM casework_notification WHERE id > %s",
                            [round_snapshot.max_ids.get("casework_notification", 0)],
                        )
                        done = {**done, "emails": cursor.fetchone()[0]}
                finally:
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "DELETE FROM casework_deadlinereminder WHERE id > %s",
                            [reminders_before],
                        )
                    round_snapshot.restore()
                    _back_from_kept(chosen)
                return elapsed, queries, done

            small = targets[: min(compare, len(targets))]
            for chosen in (small, targets):
                _elapsed, queries, done = once(chosen, capture=True)
                counts[len(chosen)] = (len(measure.work_queries(queries)), queries, done)
            for _ in range(runs):
                elapsed, _queries, done = once(targets, capture=False)
                samples.append(elapsed)
                _due_now(targets, today)
                try:
                    floor_samples.append(_reminder_floor(targets, timezone.now()))
                finally:
                    _back_from_kept(targets)
    finally:
        removed = snapshot.restore()
        if created_after is not None:
            removed["casework_deadline (made for the scenario)"] = _drop_made(created_after)
        say(f"  deadline sweep: put back what it changed ({removed})")
    (few, few_queries, few_done), (many, _many_queries, many_done) = (
        counts[len(small)],
        counts[len(targets)],
    )
    # Each statement of this list is explained by run.py: the 200-reminder run's first ones
    # (the candidates' batches and the first reminders) show every kind it runs.
    result.sql = measure.work_queries(few_queries)[:PLAN_CHECKED]
    result.queries = many
    result.rows = many_done["reminders"]
    _figures(result, samples)
    result.floor = round(statistics.median(floor_samples), 2)
    result.floor_kind = "set-based lock + INSERT of reminders, events, staff e-mails (rolled back)"
    result.extra.update(
        {
            "reminders_due": len(targets),
            "reminders_sent": many_done["reminders"],
            "emails_queued": many_done["emails"],
            f"statements_{len(small)}": few,
            f"statements_{len(targets)}": many,
            f"reminders_sent_{len(small)}": few_done["reminders"],
        }
    )
    from casework.deadline_reminders import BATCH

    per = (many - few) / max(len(targets) - len(small), 1)
    # The sweep writes the reminders a batch at a time: a few statements more per batch of
    # BATCH deadlines, none per reminder.
    independent = per < 0.1
    if independent:
        result.notes.append(
            f"statements independent of the deadlines due: {few:,} for {len(small):,}, {many:,} "
            f"for {len(targets):,} (a few more per batch of {BATCH:,})"
        )
    else:
        result.notes.append(
            f"statements depend on the deadlines due: {few:,} for {len(small):,}, {many:,} for "
            f"{len(targets):,} (~{per:.1f} per reminder)"
        )
    result.passed = (
        result.median <= REMINDER_SWEEP_MS and independent and result.rows == len(targets)
    )
    if result.rows != len(targets):
        result.notes.append(f"sent {result.rows:,} of the {len(targets):,} reminders made due")
    return result


# --- The recurring-obligation generator -----------------------------------------------------


def _replay_all(queries: list[str]) -> float:
    """Milliseconds to run the statements (reads and writes) on a raw cursor, in a savepoint."""
    from django.db import connection

    statements = measure.work_queries(queries)
    raw = connection.connection
    started = time.perf_counter()
    with raw.transaction(force_rollback=True), raw.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            if cursor.description is not None:
                cursor.fetchall()
    return (time.perf_counter() - started) * 1000


def obligation_generator(*, runs: int) -> list[Result]:
    """`obligations.obligations_generate` (casework.tasks.generate_obligations: the next twelve
    months' deadlines of every active obligation, and the cases now due): a run with nothing to
    do, and a run that rebuilds the busiest obligation's deadlines (all of them, and those of one
    cooperative in ten). Everything happens in one transaction rolled back at the end (each
    sample in a savepoint of its own), so the generators' commits are savepoints here."""
    from django.db import connection, transaction
    from django.db.models import Count

    from casework.models import Cooperative, Deadline, RecurringObligation
    from casework.services import obligations

    target = f"<= {GENERATOR_MS} ms (mine); statements independent of cooperatives and deadlines"
    nothing = Result(name="recurring-obligation generator, nothing to do", target=target)
    work = Result(
        name="recurring-obligation generator, one obligation's deadlines to generate",
        target=target,
    )
    if not RecurringObligation.objects.filter(is_active=True).exists():
        for result in (nothing, work):
            result.skipped = "no active recurring obligation in the bench database"
        return [nothing, work]

    def generate():
        return obligations.obligations_generate().as_dict()

    active = Cooperative.objects.filter(membership_status=Cooperative.MembershipStatus.ACTIVE)
    with transaction.atomic():
        before = Deadline.objects.filter(obligation__isnull=False).count()
        caught_up = generate()  # what the nightly run would have done since the load
        busiest = (
            Deadline.objects.filter(obligation__isnull=False, case__isnull=True)
            .values("obligation")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        facts = {
            "obligations": RecurringObligation.objects.filter(is_active=True).count(),
            "active_cooperatives": active.count(),
            "obligation_deadlines_before": before,
            "caught_up_before": {k: v for k, v in caught_up.items() if k != "runs"},
            "obligation_deadlines": Deadline.objects.filter(obligation__isnull=False).count(),
        }

        # Nothing to do: every deadline of the window is there, every case due is open.
        done, nothing_queries = measure.captured(generate)
        samples = measure.timed(generate, runs=runs, warmup=0)
        floor_samples, _rows = measure.replay_floor(nothing_queries, runs=runs)
        with transaction.atomic():
            # The same run with one cooperative in ten still active: as many statements?
            ids = list(active.order_by("pk").values_list("pk", flat=True))
            Cooperative.objects.filter(pk__in=ids).exclude(pk__in=ids[::10]).update(
                membership_status=Cooperative.MembershipStatus.SUSPENDED
            )
            fewer_cooperatives = active.count()
            _done, few_coop_queries = measure.captured(generate)
            transaction.set_rollback(True)
        nothing.sql = measure.work_queries(nothing_queries)
        nothing.queries = len(nothing.sql)
        _figures(nothing, samples)
        nothing.floor = round(statistics.median(floor_samples), 2)
        nothing.floor_kind = "same SELECTs, raw cursor"
        nothing.rows = done["deadlines_existing"]
        coop_statements = len(measure.work_queries(few_coop_queries))
        nothing.extra.update(
            {**facts, "statements_fewer_cooperatives": coop_statements, "run": done}
        )
        if busiest is None:
            work.skipped = "the obligations generated no deadline without a case"
        else:
            obligation_id = busiest["obligation"]
            mine = Deadline.objects.filter(obligation_id=obligation_id, case__isnull=True)
            cooperative_ids = sorted(set(mine.values_list("cooperative_id", flat=True)))
            some = cooperative_ids[::GENERATOR_SMALL_SHARE]

            def rebuilt(cooperatives, *, capture: bool, floor_of=None):
                """Delete the obligation's deadlines (without a case) of those cooperatives,
                then generate: in a savepoint rolled back."""
                with transaction.atomic():
                    deleted, _ = mine.filter(cooperative_id__in=cooperatives).delete()
                    connection.ensure_connection()
                    if floor_of is not None:
                        elapsed, summary, queries = _replay_all(floor_of), None, []
                    else:
                        started = time.perf_counter()
                        if capture:
                            summary, queries = measure.captured(generate)
                        else:
                            summary, queries = generate(), []
                        elapsed = (time.perf_counter() - started) * 1000
                    transaction.set_rollback(True)
                return elapsed, summary, queries, deleted

            _e, small_summary, small_queries, small_deleted = rebuilt(some, capture=True)
            _e, summary, work_queries, deleted = rebuilt(cooperative_ids, capture=True)
            work_samples = [rebuilt(cooperative_ids, capture=False)[0] for _ in range(max(1, runs))]
            work_floor = [
                rebuilt(cooperative_ids, capture=False, floor_of=work_queries)[0]
                for _ in range(max(1, runs))
            ]
            work.sql = measure.work_queries(work_queries)
            work.queries = len(work.sql)
            _figures(work, work_samples)
            work.floor = round(statistics.median(work_floor), 2)
            work.floor_kind = "same statements (reads and INSERTs), raw cursor"
            work.rows = summary["deadlines_created"]
            small_statements = len(measure.work_queries(small_queries))
            work.extra.update(
                {
                    **facts,
                    "obligation": obligation_id,
                    "deadlines_deleted": deleted,
                    "deadlines_created": summary["deadlines_created"],
                    "cases_opened": summary["cases_opened"],
                    f"statements_{small_deleted}_deadlines": small_statements,
                    f"statements_{deleted}_deadlines": work.queries,
                    "insert_batch": obligations.INSERT_BATCH,
                }
            )
            batches = -(-deleted // obligations.INSERT_BATCH) - -(
                -small_deleted // obligations.INSERT_BATCH
            )
            if small_statements == work.queries:
                work.notes.append("statements independent of the deadlines generated")
            elif work.queries - small_statements <= batches:
                work.notes.append(
                    f"statements grow with the deadlines generated only by their INSERT batches "
                    f"({obligations.INSERT_BATCH:,} rows each): {small_statements} for "
                    f"{small_deleted:,}, {work.queries} for {deleted:,}"
                )
            else:
                work.notes.append(
                    f"statements depend on the deadlines generated: {small_statements} for "
                    f"{small_deleted:,}, {work.queries} for {deleted:,}"
                )
            work.passed = work.median <= GENERATOR_MS and work.queries - small_statements <= (
                batches
            )
            work.notes.append(
                f"{deleted:,} deadlines of obligation {obligation_id} deleted and generated "
                f"again ({len(cooperative_ids):,} cooperatives)"
            )
        transaction.set_rollback(True)
    if coop_statements == nothing.queries:
        nothing.notes.append(
            f"statements independent of the cooperatives: {nothing.queries} with "
            f"{facts['active_cooperatives']:,} active, as many with {fewer_cooperatives:,}"
        )
    else:
        nothing.notes.append(
            f"statements depend on the cooperatives: {nothing.queries} with "
            f"{facts['active_cooperatives']:,} active, {coop_statements} with "
            f"{fewer_cooperatives:,}"
        )
    nothing.passed = nothing.median <= GENERATOR_MS and coop_statements == nothing.queries
    caught = facts["caught_up_before"]
    nothing.notes.append(
        f"{facts['obligations']} obligations, {facts['obligation_deadlines']:,} of their "
        f"deadlines; the catch-up run before made {caught['deadlines_created']:,} and opened "
        f"{caught['cases_opened']:,} cases (rolled back)"
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) casework_deadline")  # the rolled-back rows' dead tuples
    return [nothing, work]


# --- The supervisor dashboard, a cooperative's report, the billing file ------------------------


def _busiest_office() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.code FROM casework_case c JOIN casework_cooperative k "
            "ON k.id = c.cooperative_id JOIN casework_office o ON o.id = k.office_id "
            "GROUP BY o.code ORDER BY count(*) DESC, o.code LIMIT 1"
        )
        row = cursor.fetchone()
    return row[0] if row else ""


def _busiest_area() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.code FROM casework_case c JOIN casework_practicearea a ON a.id = c.area_id "
            "GROUP BY a.code ORDER BY count(*) DESC, a.code LIMIT 1"
        )
        row = cursor.fetchone()
    return row[0] if row else ""


def dashboard(cast_: Cast, *, runs: int, warmup: int) -> list[Result]:
    """`/dashboard/` for a supervisor of every area: as it opens, and filtered by area, office
    and period (this quarter). There is no dashboard in the API (its SLA summary, GET
    /sla/summary/, is measured with the reads)."""
    filters = {"area": _busiest_area(), "office": _busiest_office(), "period": "quarter"}
    variants = (
        ("no filter", "/dashboard/"),
        ("area + office + this quarter", "/dashboard/?" + urlencode(filters)),
    )
    results = []
    with staff_client(cast_.supervisor) as client:
        for label, path in variants:
            result = api_read(
                f"supervisor dashboard /dashboard/, {label}",
                f"<= {DASHBOARD_MS} ms (mine: issue 21 gives the dashboard none)",
                DASHBOARD_MS,
                client,
                [path],
                runs=runs,
                warmup=warmup,
            )
            if not result.skipped:
                result.extra["path"] = path
                result.notes.insert(0, f"{path}; no dashboard endpoint in the API")
            results.append(result)
    return results


def report_period(cast_: Cast, *, runs: int, warmup: int) -> list[Result]:
    """The largest cooperative's report for the last twelve months (`since`/`until`, the opening
    dates of its cases), by the API and as the page, for a supervisor of every area."""
    from django.utils import timezone

    today = timezone.localdate()
    period = {"since": (today - timedelta(days=365)).isoformat(), "until": today.isoformat()}
    query = urlencode(period)
    target = f"<= {REPORT_MS} ms"
    api = api_read(
        "GET /reports/cooperatives/{id}/?since=&until= (largest cooperative, last 12 months)",
        target,
        REPORT_MS,
        client_for(cast_.supervisor, cast_.tokens),
        [f"{API}/reports/cooperatives/{cast_.cooperative_id}/?{query}"],
        runs=runs,
        warmup=warmup,
    )
    with staff_client(cast_.supervisor) as client:
        page = api_read(
            "cooperative report page /reports/cooperatives/{id}/?since=&until= (largest "
            "cooperative, last 12 months)",
            target,
            REPORT_MS,
            client,
            [f"/reports/cooperatives/{cast_.cooperative_id}/?{query}"],
            runs=runs,
            warmup=warmup,
        )
    for result in (api, page):
        result.extra.update(period)
    return [api, page]


def _last_quarter(today: date) -> tuple[date, date]:
    first_this = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    until = first_this - timedelta(days=1)
    return date(until.year, 3 * ((until.month - 1) // 3) + 1, 1), until


def billing_csv(cast_: Cast, *, runs: int, warmup: int) -> Result:
    """`/work/reports/billing.csv` of the last complete quarter for a supervisor of every area:
    the whole federation's time entries of it, streamed; timed until the last byte."""
    from django.utils import timezone

    since, until = _last_quarter(timezone.localdate())
    path = "/work/reports/billing.csv?" + urlencode(
        {"since": since.isoformat(), "until": until.isoformat()}
    )
    result = Result(
        name="billing CSV /work/reports/billing.csv of a quarter, federation-wide",
        target=f"<= {BILLING_MS} ms (mine)",
    )
    with staff_client(cast_.supervisor) as client:

        def download() -> bytes:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} -> {response.status_code}")
            return b"".join(response.streaming_content)

        body, queries = measure.captured(download)
        samples = measure.timed(download, runs=runs, warmup=warmup)
    floor_samples, _rows = measure.replay_floor(queries, runs=runs)
    result.sql = measure.work_queries(queries)
    result.queries = len(result.sql)
    result.rows = max(len(body.decode("utf-8-sig").splitlines()) - 1, 0)  # the header apart
    _figures(result, samples)
    result.floor = round(statistics.median(floor_samples), 2)
    result.floor_kind = "same SELECTs, raw cursor, every row fetched"
    result.passed = result.median <= BILLING_MS
    result.extra.update(
        {"path": path, "bytes": len(body), "since": str(since), "until": str(until)}
    )
    result.notes.append(f"{path}: {result.rows:,} time entries, {len(body):,} bytes")
    return result


# --- The health probe -------------------------------------------------------------------------


@contextmanager
def statements_of_every_thread():
    """Every statement any connection runs meanwhile, in any thread: the health checks run in
    threads of their own, on connections of their own, which no execute wrapper of this
    thread's connection sees."""
    from django.db.backends.utils import CursorWrapper

    seen: list[str] = []
    original = CursorWrapper.execute

    def execute(self, sql, params=None):
        seen.append(sql)
        return original(self, sql, params)

    with mock.patch.object(CursorWrapper, "execute", execute):
        yield seen


@contextmanager
def quiet(*names: str):
    """Those loggers silent meanwhile: a 503 of the probe is logged at every run otherwise."""
    import logging

    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def health(floors: dict, *, runs: int, warmup: int) -> Result:
    """`GET /health/` (answered by its middleware before the rest of the stack): database,
    cache, broker, SLA sweep heartbeat and outbox checks, each in a thread of its own."""
    from django.test import Client

    result = Result(name="health GET /health/", target=f"<= {HEALTH_MS} ms (issue 21)")
    client = Client()
    answers = []

    def probe():
        response = client.get("/health/")
        if response.status_code not in (200, 503):
            raise RuntimeError(f"GET /health/ -> {response.status_code}")
        answers.append(response)
        return response

    from django.utils import timezone

    from casework.models import Heartbeat

    # The bench runs no beat: the sweep's heartbeat is written as a running site's is, and put
    # back afterwards (without it the probe answers 503, which is not what a site measures).
    beat = Heartbeat.objects.filter(job=Heartbeat.Job.SLA_SWEEP).first()
    Heartbeat.objects.update_or_create(
        job=Heartbeat.Job.SLA_SWEEP, defaults={"completed_at": timezone.now()}
    )
    try:
        with quiet("django.request", "casework.config.health"):
            with statements_of_every_thread() as seen:
                response = probe()
            samples = measure.timed(probe, runs=runs, warmup=warmup)
    finally:
        if beat is None:
            Heartbeat.objects.filter(job=Heartbeat.Job.SLA_SWEEP).delete()
        else:
            beat.save()
    result.sql = [sql for sql in seen if "%s" not in sql]
    result.queries = len(seen)
    _figures(result, samples)
    result.floor = floors["get"]
    result.floor_kind = "empty DRF GET"
    result.passed = result.median <= HEALTH_MS
    body = response.json()
    failing = {
        name: check.get("reason")
        for name, check in body["checks"].items()
        if check.get("status") != "ok"
    }
    result.extra.update({"status_code": response.status_code, "failing_checks": failing})
    result.notes.append(
        f"{result.queries} statements on {len(body['checks'])} checks' threads (each check on the "
        "database opens a connection of its own); answers "
        + (
            f"{response.status_code}: " + ", ".join(f"{k} ({v})" for k, v in failing.items())
            if failing
            else "200"
        )
    )
    return result
