"""What the drills share: throw-away databases, real server processes, an HTTP client, the report.

Nothing here talks to anything but loopback services: PostgreSQL (the server of DATABASE_URL, or
127.0.0.1:5432), RabbitMQ (DRILL_BROKER_URL, default guest on 127.0.0.1:5672) and the processes
the drill starts. Every process is started in a session of its own, so that stopping it stops
its children too (gunicorn's and Celery's workers), and only what a drill started is stopped.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
BROKER_URL = os.environ.get("DRILL_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = "sportello_drill_"
PASSWORD = "sportello-demo"  # the demo accounts' password (DESIGN "Demo data")


def say(line: str = "") -> None:
    print(line, flush=True)


# --- Databases -----------------------------------------------------------------------------


def server_url() -> str:
    """The PostgreSQL server the drills create their databases on."""
    url = os.environ.get("DRILL_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    return url if url.startswith(("postgres://", "postgresql://")) else DEFAULT_SERVER_URL


def database_url(name: str) -> str:
    return urlunsplit(urlsplit(server_url())._replace(path=f"/{name}"))


def _admin() -> psycopg.Connection:
    return psycopg.connect(database_url("postgres"), autocommit=True)


def create_database(name: str, *, template: str | None = None) -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{clause}')


def drop_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_stale_databases() -> list[str]:
    """Databases left by drill runs whose process is gone (a run killed before its clean-up)."""
    dropped = []
    with _admin() as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", [DB_PREFIX + "%"]
            )
        ]
    for name in names:
        match = re.match(rf"{DB_PREFIX}(\d+)_", name)
        if match and not _alive(int(match.group(1))):
            drop_database(name)
            dropped.append(name)
    return dropped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drill_database_name(label: str) -> str:
    return f"{DB_PREFIX}{os.getpid()}_{label}"[:63]


def sql(db: str, query: str, params=None) -> list[tuple]:
    """One statement on a drill database, outside Django (autocommit)."""
    with psycopg.connect(database_url(db), autocommit=True) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def table_counts(db: str) -> dict[str, int]:
    """Row count of every table of the public schema."""
    with psycopg.connect(database_url(db), autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


# --- Processes -----------------------------------------------------------------------------


def django_env(db_name: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a server process: production settings on the drill's database.

    DEBUG off, a secret key, no HTTPS redirect (TLS would end at the proxy), the login throttle
    lifted (the drills sign in many virtual users from one address), the drill's own var folder
    (uploads, static files, mail) and no .env file.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_", "CELERY_", "EMAIL_", "SPORTELLO_TESTING"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.drills.drill_settings",
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url(db_name),
            "DEBUG": "0",
            "SECRET_KEY": "drill-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "LOGIN_THROTTLE_RATE": "100000/min",
            "LOG_LEVEL": "WARNING",
            "SPORTELLO_VAR_DIR": str(var_dir),
            "SPORTELLO_ENV_FILE": str(var_dir / "no.env"),
            "MEDIA_ROOT": str(var_dir / "uploads"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path
    done: bool = False  # the whole group is gone: never signal that process group id again

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def children(self) -> list[int]:
        """Pids of the process's direct children (gunicorn's workers)."""
        try:
            text = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        return sorted(int(p) for p in text.split())

    def signal_group(self, sig: int) -> bool:
        """Signal the session this process leads (itself and its children); False if gone."""
        if self.done:
            return False
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            self.done = True
            return False
        return True

    def _reap(self, timeout: float) -> None:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def stop(self, timeout: float = 20) -> None:
        if self.done:
            return
        if self.alive():
            self.signal_group(signal.SIGTERM)
            self._reap(timeout)
        # Stragglers of the group (a worker of a master that died first), if any.
        if self.signal_group(0):
            self.signal_group(signal.SIGKILL)
            self._reap(5)
            time.sleep(0.2)
        self.done = not self.signal_group(0) or self.done

    def kill(self) -> None:
        """SIGKILL to the whole group: the machine pulled from under the process."""
        self.signal_group(signal.SIGKILL)
        self._reap(10)
        time.sleep(0.2)
        self.signal_group(0)


class Processes:
    """The processes a drill started; stopped at the end whatever happens."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[Proc] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        log = self.log_dir / f"{name}.log"
        handle = log.open("ab")
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        handle.close()
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            proc.stop()

    def gunicorn(self, env, *, name="web", workers=3, threads=4, port=None) -> tuple[Proc, int]:
        port = port or free_port()
        proc = self.start(
            name,
            [
                str(BIN / "gunicorn"),
                "casework.config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "120",
                "--graceful-timeout",
                "10",
                "--backlog",
                "512",
            ],
            env,
        )
        wait_http(port, proc)
        return proc, port

    def worker(self, env, *, name: str, queue: str, pool: str = "solo") -> Proc:
        worker_env = {**env, "DRILL_WORKER_NAME": name}
        argv = [
            str(BIN / "celery"),
            "-A",
            "casework",
            "worker",
            "--pool",
            pool,
            "--queues",
            queue,
            "--hostname",
            f"{name}@drill",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ]
        if pool != "solo":
            argv += ["--concurrency", "1"]
        proc = self.start(name, argv, worker_env)
        wait_log(proc, "ready.", timeout=60)
        return proc

    def beat(self, env, *, name: str = "beat") -> Proc:
        proc = self.start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "casework",
                "beat",
                "--loglevel",
                "INFO",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--max-interval",
                "2",
            ],
            env,
        )
        wait_log(proc, "beat: Starting", timeout=60)
        return proc


def wait_log(proc: Proc, text: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in proc.log.read_text(errors="replace"):
            return
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
        time.sleep(0.2)
    raise RuntimeError(f"{proc.name} not ready after {timeout}s:\n{proc.tail()}")


def wait_http(port: int, proc: Proc | None = None, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = Client(port).get("/api/v1/me/")
            if response.status in (200, 401, 403):
                return
        except OSError:
            pass
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
        time.sleep(0.25)
    raise RuntimeError(f"nothing answers on port {port}:\n{proc.tail() if proc else ''}")


# --- The broker ----------------------------------------------------------------------------


def new_queue() -> str:
    return f"sportello-drill-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def send_task(queue: str, name: str, **kwargs) -> str:
    """Publish a task by name to the drill's queue on the real broker; returns its id."""
    from celery import Celery

    app = Celery("drill-sender", broker=BROKER_URL, set_as_current=False)
    try:
        return app.send_task(name, kwargs=kwargs, queue=queue).id
    finally:
        app.close()


def delete_queue(queue: str) -> None:
    from kombu import Connection

    try:
        with Connection(BROKER_URL, connect_timeout=5) as conn:
            conn.default_channel.queue_delete(queue)
    except Exception:  # noqa: BLE001 - the queue may not exist
        pass


def queue_depth(queue: str) -> int | None:
    from kombu import Connection

    try:
        with Connection(BROKER_URL, connect_timeout=5) as conn:
            _name, messages, _consumers = conn.default_channel.queue_declare(
                queue=queue, passive=True
            )
            return messages
    except Exception:  # noqa: BLE001 - not declared yet
        return None


# --- HTTP ----------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    elapsed: float

    @property
    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


class Client:
    """A small HTTP client on loopback: a fresh connection per request (no stale keep-alive)."""

    def __init__(self, port: int, token: str | None = None, *, timeout: float = 60):
        self.port = port
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, data=None, *, headers=None, raw=None) -> Response:
        head = {"Accept": "application/json", "Connection": "close"}
        if self.token:
            head["Authorization"] = f"Token {self.token}"
        body = None
        if raw is not None:
            body, content_type = raw
            head["Content-Type"] = content_type
        elif data is not None:
            body = json.dumps(data).encode()
            head["Content-Type"] = "application/json"
        head.update(headers or {})
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=head)
            answer = conn.getresponse()
            payload = answer.read()
            return Response(
                answer.status,
                payload,
                answer.getheader("Content-Type", ""),
                time.monotonic() - started,
            )
        finally:
            conn.close()

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data=None, **kwargs) -> Response:
        return self.request("POST", path, data, **kwargs)


def sign_in(port: int, username: str, password: str = PASSWORD) -> Client:
    """A client holding the token of `username` (through the contract's token endpoint)."""
    answer = Client(port).post("/api/v1/auth/token/", {"username": username, "password": password})
    if answer.status != 200:
        raise RuntimeError(f"sign-in of {username}: {answer.status} {answer.body[:300]!r}")
    return Client(port, answer.json["token"])


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]):
    """A multipart/form-data body: (bytes, content type)."""
    boundary = "drill" + uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for key, (filename, content, content_type) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- Counting outcomes ---------------------------------------------------------------------


class Tally:
    """Thread-safe counters and samples: what each operation answered, and how fast."""

    def __init__(self):
        self._lock = threading.Lock()
        self.counts: dict[tuple[str, str], int] = {}
        self.latencies: dict[str, list[float]] = {}
        self.errors: list[str] = []

    def add(self, op: str, outcome: str, elapsed: float | None = None, error: str | None = None):
        with self._lock:
            self.counts[(op, outcome)] = self.counts.get((op, outcome), 0) + 1
            if elapsed is not None:
                self.latencies.setdefault(op, []).append(elapsed)
            if error is not None and len(self.errors) < 50:
                self.errors.append(f"{op}: {error}")

    def total(self, outcome: str | None = None, op: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (o, out), n in self.counts.items()
                if (outcome is None or out == outcome) and (op is None or o == op)
            )

    def lines(self) -> list[str]:
        by_op: dict[str, dict[str, int]] = {}
        for (op, outcome), n in sorted(self.counts.items()):
            by_op.setdefault(op, {})[outcome] = n
        out = []
        for op, outcomes in by_op.items():
            lat = sorted(self.latencies.get(op, []))
            timing = ""
            if lat:
                p50 = lat[len(lat) // 2]
                p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
                timing = (
                    f"  p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
                    f"max {lat[-1] * 1000:.0f} ms"
                )
            detail = ", ".join(f"{k} {v}" for k, v in outcomes.items())
            out.append(f"  {op:<34} {detail}{timing}")
        return out


# --- The report ----------------------------------------------------------------------------

REPORTS: list[Report] = []


@dataclass
class Report:
    """What a drill tried and what held, printed as it goes and as a table at the end."""

    title: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None

    def __post_init__(self):
        REPORTS.append(self)
        say()
        say(f"=== Drill: {self.title}")

    def tried(self, line: str) -> None:
        say(f"  · {line}")

    def check(self, what: str, held: bool, detail: str = "", *, known: str = "") -> bool:
        """One row; `known`: a reported finding (the test is an xfail), shown as FINDING."""
        verdict = "held" if held else ("FINDING" if known else "FAILED")
        self.rows.append((what, verdict, detail))
        say(f"  {'✓' if held else '✗'} {what}" + (f": {detail}" if detail else ""))
        return held

    def finding(self, text: str) -> None:
        self.findings.append(text)
        say(f"  ! finding: {text}")

    def table(self) -> str:
        width = max([len(r[0]) for r in self.rows] + [10])
        seconds = self.seconds if self.seconds is not None else time.monotonic() - self.started
        lines = [f"--- {self.title} ({seconds:.0f} s)"]
        for what, verdict, detail in self.rows:
            lines.append(f"  {what:<{width}}  {verdict:<7}  {detail}")
        lines.extend(f"  finding: {text}" for text in self.findings)
        return "\n".join(lines)

    def print_table(self) -> None:
        self.seconds = time.monotonic() - self.started
        say(self.table())

    @property
    def failed(self) -> list[str]:
        return [f"{what}: {detail}" for what, verdict, detail in self.rows if verdict == "FAILED"]


def pg_cluster() -> tuple[str, str] | None:
    """(version, name) of the PostgreSQL cluster on the drills' port, from pg_lsclusters."""
    port = str(urlsplit(server_url()).port or 5432)
    try:
        out = subprocess.run(
            ["pg_lsclusters", "--no-header"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == port and parts[3] == "online":
            return parts[0], parts[1]
    return None
