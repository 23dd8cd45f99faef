"""Concurrent load: 50 clients on gunicorn (3 workers) doing a mixed read/write API workload.

Loopback only, bounded in time and in requests. Each client is a thread with its own HTTP
connections (`http.client`); between requests it thinks for an exponential time (mean `think`
seconds), as a person clicking through the API's screens would. The same mix is also run by one
client without thinking (the floor: no concurrency) and, briefly, by all clients without thinking
(saturation: how many requests per second the machine serves).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench import measure
from bench.common import ROOT, django_env, say
from bench.scenarios import API, Result, endpoint_missing

PORT = 8765
WORKERS = 3
MAX_REQUESTS = 50_000  # a hard bound, whatever the duration


@dataclass
class Persona:
    token: str
    cooperative_id: int | None = None
    cases: tuple[int, ...] = ()  # cases to read
    writable: tuple[int, ...] = ()  # assigned cases to write messages on


# name: (weight, who, method, path template, JSON body)
OPS = {
    "member: case list": (25, "member", "GET", "/cases/?page_size=25", None),
    "member: case detail": (15, "member", "GET", "/cases/{case}/", None),
    "member: timeline": (5, "member", "GET", "/cases/{case}/events/", None),
    "member: reply (write)": (
        5,
        "member",
        "POST",
        "/cases/{writable}/messages/",
        {"body": "Grazie, ecco i dettagli.", "internal": False},
    ),
    "member: intake (write)": (
        3,
        "member",
        "POST",
        "/cases/",
        {
            "cooperative": "{cooperative}",
            "area": "fiscal",
            "subject": "Richiesta (carico)",
            "description": "Chiediamo assistenza.",
        },
    ),
    "consultant: my tasks": (15, "consultant", "GET", "/tasks/?scope=mine&page_size=25", None),
    "consultant: available": (7, "consultant", "GET", "/tasks/?scope=available&page_size=25", None),
    "consultant: case detail": (10, "consultant", "GET", "/cases/{writable}/", None),
    "consultant: internal note (write)": (
        5,
        "consultant",
        "POST",
        "/cases/{writable}/messages/",
        {"body": "Nota interna.", "internal": True},
    ),
    "supervisor: SLA summary": (5, "supervisor", "GET", "/sla/summary/", None),
    "supervisor: cooperative report": (
        5,
        "supervisor",
        "GET",
        "/reports/cooperatives/{cooperative}/",
        None,
    ),
}


def personas(members: int = 40, consultants: int = 20) -> dict[str, list[Persona]]:
    """Members of cooperatives with assigned cases, consultants holding cases, the supervisor."""
    from django.db import connection
    from rest_framework.authtoken.models import Token

    def token(user_id: int) -> str:
        return Token.objects.get_or_create(user_id=user_id)[0].key

    cast: dict[str, list[Persona]] = {"member": [], "consultant": [], "supervisor": []}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.requester_id, c.cooperative_id, array_agg(c.id ORDER BY c.id) "
            "FROM casework_case c WHERE c.status = 'assigned' AND c.requester_id IN ("
            " SELECT user_id FROM casework_membership GROUP BY user_id HAVING count(*) = 1) "
            "GROUP BY c.requester_id, c.cooperative_id ORDER BY count(*) DESC LIMIT %s",
            [members],
        )
        for user_id, cooperative_id, cases in cursor.fetchall():
            cast["member"].append(
                Persona(token(user_id), cooperative_id, tuple(cases[:20]), tuple(cases[:20]))
            )
        cursor.execute(
            "SELECT assignee_id, array_agg(id ORDER BY id) FROM casework_case "
            "WHERE status = 'assigned' GROUP BY assignee_id ORDER BY count(*) DESC LIMIT %s",
            [consultants],
        )
        for user_id, cases in cursor.fetchall():
            cast["consultant"].append(Persona(token(user_id), None, (), tuple(cases[:50])))
        cursor.execute("SELECT user_id FROM casework_supervisor WHERE all_areas LIMIT 1")
        supervisor = token(cursor.fetchone()[0])
    cooperatives = [p.cooperative_id for p in cast["member"]]
    cast["supervisor"] = [Persona(supervisor, c) for c in cooperatives]
    return cast


class Load:
    def __init__(self, cast: dict[str, list[Persona]], port: int):
        self.cast = cast
        self.port = port
        self.ops = {
            name: op
            for name, op in OPS.items()
            if not endpoint_missing(
                API + op[3].split("?")[0].format(case=1, writable=1, cooperative=1)
            )
        }
        self.missing = sorted(set(OPS) - set(self.ops))
        self.names = list(self.ops)
        self.weights = [self.ops[name][0] for name in self.names]

    def request(self, rng: random.Random, name: str) -> tuple[int, float]:
        _weight, who, method, template, body = self.ops[name]
        persona = rng.choice(self.cast[who])
        values = {
            "case": rng.choice(persona.cases) if persona.cases else 0,
            "writable": rng.choice(persona.writable) if persona.writable else 0,
            "cooperative": persona.cooperative_id,
        }
        path = API + template.format(**values)
        payload = None
        if body is not None:
            # "{cooperative}" stands for the persona's cooperative id (a number in the JSON).
            payload = json.dumps(
                {k: values["cooperative"] if v == "{cooperative}" else v for k, v in body.items()}
            )
        headers = {"Authorization": f"Token {persona.token}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 599
        finally:
            connection.close()
        return status, (time.perf_counter() - started) * 1000

    def run(self, *, clients: int, seconds: float, think: float, seed: int) -> list[tuple]:
        """[(op, status, ms)] of every request made by `clients` threads for `seconds`."""
        records: list[tuple] = []
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def client(number: int) -> None:
            rng = random.Random(seed * 1000 + number)
            mine = []
            if think:
                time.sleep(rng.uniform(0, think))
            while time.monotonic() < deadline:
                with lock:
                    if len(records) + len(mine) >= MAX_REQUESTS:
                        break
                name = rng.choices(self.names, weights=self.weights)[0]
                status, ms = self.request(rng, name)
                mine.append((name, status, ms))
                if think:
                    pause = rng.expovariate(1 / think)
                    time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
            with lock:
                records.extend(mine)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return records


def _port_busy(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_gunicorn(url: str, port: int, log_path: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [
        str(gunicorn),
        "casework.config.wsgi",
        "-w",
        str(WORKERS),
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    say(f"  $ {' '.join(command[1:])} (DATABASE_URL=bench, DEBUG=0)")
    log = log_path.open("w")
    # Its own session, so that stopping it stops its workers too and nothing else.
    return subprocess.Popen(
        command, cwd=ROOT, env=django_env(url), stdout=log, stderr=log, start_new_session=True
    )


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def _wait_ready(load: Load, server: subprocess.Popen, timeout: float = 60) -> None:
    rng = random.Random(0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited; see var/bench-gunicorn.log")
        status, _ms = load.request(rng, "supervisor: SLA summary")
        if status == 200:
            return
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer within a minute; see var/bench-gunicorn.log")


def _stats(records: list[tuple], seconds: float) -> dict:
    latencies = [ms for _op, _status, ms in records]
    errors = [(op, status) for op, status, _ms in records if status >= 400]
    by_op = {}
    for name in sorted({op for op, _s, _m in records}):
        values = [ms for op, _s, ms in records if op == name]
        by_op[name] = {
            "requests": len(values),
            "p50_ms": round(measure.percentile(values, 0.5), 1),
            "p99_ms": round(measure.percentile(values, 0.99), 1),
            "errors": sum(1 for op, status in errors if op == name),
        }
    return {
        "requests": len(records),
        "throughput_rps": round(len(records) / seconds, 1),
        "p50_ms": round(measure.percentile(latencies, 0.5), 1) if latencies else None,
        "p95_ms": round(measure.percentile(latencies, 0.95), 1) if latencies else None,
        "p99_ms": round(measure.percentile(latencies, 0.99), 1) if latencies else None,
        "errors": len(errors),
        "error_statuses": sorted({status for _op, status in errors}),
        "by_op": by_op,
    }


def concurrent(
    url: str,
    *,
    clients: int = 50,
    seconds: float = 40,
    think: float = 1.0,
    saturation_seconds: float = 10,
    port: int = PORT,
) -> list[Result]:
    result = Result(
        name=f"concurrent load: {clients} clients on gunicorn -w {WORKERS}, mixed read/write",
        target="p99 <= 250 ms, 0 errors",
    )
    if _port_busy(port):
        result.skipped = f"port {port} is in use: not starting gunicorn"
        return [result]
    cast = personas()
    load = Load(cast, port)
    if load.missing:
        result.notes.append("endpoint missing, left out of the mix: " + ", ".join(load.missing))
    snapshot = measure.Snapshot.take()
    log_path = ROOT / "var" / "bench-gunicorn.log"  # var/ is the project's ignored runtime dir
    log_path.parent.mkdir(exist_ok=True)
    server = start_gunicorn(url, port, log_path)
    saturation = Result(
        name=f"saturation (information): {clients} clients without think time",
        target="no target: capacity of this machine",
        unit="req/s",
    )
    try:
        _wait_ready(load, server)
        say("  warm-up: 5 s, every worker connects and imports")
        load.run(clients=clients, seconds=5, think=0.2, seed=1)
        say("  floor: one client, no think time, 8 s")
        single = _stats(load.run(clients=1, seconds=8, think=0, seed=2), 8)
        say(f"  load: {clients} clients, think {think} s (exponential), {seconds:.0f} s")
        records = load.run(clients=clients, seconds=seconds, think=think, seed=3)
        stats = _stats(records, seconds)
        if saturation_seconds:
            say(f"  saturation: {clients} clients, no think time, {saturation_seconds:.0f} s")
            saturated = _stats(
                load.run(clients=clients, seconds=saturation_seconds, think=0, seed=4),
                saturation_seconds,
            )
    finally:
        stop_gunicorn(server)
        removed = snapshot.restore()
        say(f"  concurrent: gunicorn stopped; removed what the load wrote ({removed})")
    result.median, result.p95 = stats["p50_ms"], stats["p99_ms"]
    result.queries = "-"
    result.rows = stats["requests"]
    result.floor = single["p99_ms"]
    result.floor_kind = "p99 of the same mix, one client, no concurrency"
    result.passed = stats["p99_ms"] <= 250 and stats["errors"] == 0
    result.extra = {
        "load": stats,
        "single_client": single,
        "think_mean_s": think,
        "seconds": seconds,
        "workers": WORKERS,
    }
    result.notes.append(
        f"p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms, p99 {stats['p99_ms']} ms over "
        f"{stats['requests']:,} requests ({stats['throughput_rps']} req/s), "
        f"{stats['errors']} errors (the p95 column holds the p99)"
    )
    results = [result]
    if saturation_seconds:
        saturation.median = saturated["throughput_rps"]
        saturation.p95 = saturated["p99_ms"]
        saturation.rows = saturated["requests"]
        saturation.queries = "-"
        saturation.extra = {"load": saturated}
        saturation.notes.append(
            f"{saturated['throughput_rps']} req/s, p50 {saturated['p50_ms']} ms, "
            f"p99 {saturated['p99_ms']} ms, {saturated['errors']} errors (p95 column: p99 in ms)"
        )
        results.append(saturation)
    return results
