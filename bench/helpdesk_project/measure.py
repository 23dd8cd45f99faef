"""Time django-helpdesk's REST ticket create; run by bench/helpdesk.py inside its own venv.

    var/bench-helpdesk/venv/bin/python bench/helpdesk_project/measure.py \
        --tickets 10000 --runs 60 --warmup 10 --out result.json

Drops and recreates the database, migrates, makes a queue and a staff agent, bulk-loads TICKETS
tickets (each with the follow-up a create writes), then POSTs bare tickets (title, queue,
description, submitter_email, and the priority helpdesk's form requires) to
/helpdesk/api/tickets/ with DRF's APIClient logged in by session: WARMUP untimed, RUNS timed,
each inside CaptureQueriesContext as Sportello's own intake is timed (bench/measure.py
`captured`). Then the same for an empty DRF POST (the floor).
Progress goes to stdout; on failure one line starting "error:" and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import traceback
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sportello_bench_helpdesk"
BOOKKEEPING = re.compile(r"^\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|SET)\b", re.I)
_started = time.monotonic()


def say(line: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f}s] helpdesk: {line}", flush=True)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile, as bench/measure.py computes it."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def figures(samples: list[float]) -> dict:
    median = statistics.median(samples)
    return {
        "median_ms": round(median, 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "min_ms": round(min(samples), 2),
        "max_ms": round(max(samples), 2),
        "per_s": round(1000 / median, 1),
        "runs": len(samples),
    }


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def load(queue, agent, count: int) -> None:
    """COUNT tickets as the API leaves them: open, one public follow-up each."""
    from django.utils import timezone
    from helpdesk.models import FollowUp, Ticket

    now = timezone.now()
    batch = 2000
    for start in range(0, count, batch):
        tickets = Ticket.objects.bulk_create(
            Ticket(
                title=f"Loaded ticket {n}",
                queue=queue,
                submitter_email=f"member{n % 500}@example.com",
                status=Ticket.OPEN_STATUS,
                description="A question about the documents attached.",
                priority=3,
            )
            for n in range(start, min(start + batch, count))
        )
        FollowUp.objects.bulk_create(
            FollowUp(
                ticket=ticket,
                title="Ticket Opened",
                date=now - timedelta(minutes=count - ticket.pk),
                public=True,
                comment=ticket.description,
                user=agent,
                email_recipients=[ticket.submitter_email],
            )
            for ticket in tickets
        )


def timed_creates(client, path: str, queue_id: int, *, runs: int, warmup: int) -> dict:
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # helpdesk's serializer hands the data to TicketForm, whose priority is required (the model's
    # default does not reach the form): without one a bare ticket answers 400, so it is sent
    # as 3, the form's initial value and the model's default, as the API docs' example sends one.
    def body(n: int) -> dict:
        return {
            "queue": queue_id,
            "title": f"Bench ticket {n}",
            "description": "We would like advice on the documents attached.",
            "submitter_email": f"bench{n}@example.com",
            "priority": 3,
        }

    for n in range(warmup):
        response = client.post(path, body(n), format="json")
        if response.status_code != 201:
            raise RuntimeError(
                f"warm-up create answered {response.status_code}: {response.content[:300]!r}"
            )
    say(f"warm-up done ({warmup} creates), timing {runs}")
    samples, statuses, mails, statements = [], [], [], []
    for n in range(warmup, warmup + runs):
        mail.outbox = []
        connection.queries_log.clear()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as context:
            response = client.post(path, body(n), format="json")
        samples.append((time.perf_counter() - started) * 1000)
        statuses.append(response.status_code)
        mails.append(len(mail.outbox))
        statements.append(
            [q["sql"] for q in context.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
        )
    work = [[sql for sql in run if not BOOKKEEPING.match(sql)] for run in statements]
    result = figures(samples)
    result.update(
        {
            "statements": max(len(run) for run in work),
            "statements_min": min(len(run) for run in work),
            "statements_with_savepoints": max(len(run) for run in statements),
            "status_codes": {str(code): statuses.count(code) for code in sorted(set(statuses))},
            "all_201": all(code == 201 for code in statuses),
            "emails_per_create": sorted(set(mails)),
            "sustained_per_s": round(len(samples) / (sum(samples) / 1000), 1),
            "sql_of_one_create": [sql[:240] for sql in statements[-1]],
        }
    )
    if mail.outbox:
        message = mail.outbox[-1]
        result["last_email"] = {"to": message.to, "subject": message.subject}
    return result


def timed_floor(client, *, runs: int, warmup: int) -> dict:
    def one():
        return client.post("/bench/empty/", {"a": 1}, format="json").status_code

    for _ in range(warmup):
        one()
    samples, statuses = [], []
    for _ in range(runs):
        started = time.perf_counter()
        statuses.append(one())
        samples.append((time.perf_counter() - started) * 1000)
    result = figures(samples)
    result["all_201"] = all(code == 201 for code in statuses)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    url = os.environ.setdefault("HELPDESK_BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hdbench.settings"
    sys.path.insert(0, str(HERE))

    database = urlsplit(url).path.lstrip("/")
    say(f"dropping and creating database {database}")
    recreate_database(url)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.urls import reverse
    from helpdesk.models import EmailTemplate, Queue, Ticket
    from rest_framework.test import APIClient

    say("migrating")
    call_command("migrate", verbosity=0, interactive=False)
    if not EmailTemplate.objects.filter(template_name__iexact="newticket_submitter").exists():
        raise RuntimeError("helpdesk's migrations loaded no newticket_submitter e-mail template")
    queue = Queue.objects.create(
        title="Bench queue", slug="bench", email_address="helpdesk@example.com"
    )
    agent = get_user_model().objects.create_user(
        "agent", "agent@example.com", "not-used", is_staff=True
    )

    say(f"loading {args.tickets} tickets")
    loading = time.perf_counter()
    load(queue, agent, args.tickets)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    loaded = Ticket.objects.count()
    say(f"loaded {loaded} tickets in {time.perf_counter() - loading:.1f}s")

    client = APIClient()
    client.force_login(agent)
    path = reverse("helpdesk:ticket-list")
    load_before = os.getloadavg()
    say(f"timing POST {path}")
    create = timed_creates(client, path, queue.pk, runs=args.runs, warmup=args.warmup)
    load_after = os.getloadavg()
    say(f"create: median {create['median_ms']} ms, {create['statements']} statements")
    floor = timed_floor(client, runs=args.runs, warmup=args.warmup)
    say(f"empty DRF POST: median {floor['median_ms']} ms")
    payload = {
        "endpoint": f"POST {path}",
        "body": ["title", "queue", "description", "submitter_email", "priority (3, required)"],
        "auth": "session (APIClient.force_login), staff agent",
        "tickets_before": loaded,
        "tickets_after": Ticket.objects.count(),
        "create": create,
        "empty_drf_post": floor,
        "postgres": server_version,
        "loadavg_timing": {
            "start": [round(v, 2) for v in load_before],
            "end": [round(v, 2) for v in load_after],
        },
    }
    Path(args.out).write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # reported in one line, the traceback kept in a file
        log = Path(os.environ.get("HELPDESK_BENCH_ERROR_LOG", "/tmp/helpdesk-bench-error.log"))
        log.write_text(traceback.format_exc())
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(f"error: {type(error).__name__}: {first} (traceback in {log})", flush=True)
        sys.exit(1)
