"""Bulk-load a synthetic federation into the bench database with COPY: `python -m bench.load`.

On top of the demo registry (`seed_demo --cases 0`) it adds 5,000 cooperatives with their members,
consultants in every office, and SIZE cases spread over three years with their messages, events,
SLA pauses, ratings and viewflow processes and tasks. Every row is what the product itself would
have written: the SLA instants come from the offices' calendars (`casework.sla.clocks` and
`casework.sla.business_time`), states from `casework.sla.clocks.case_state`, and the task rows
mirror what `workflows.flows.CaseFlow` stores (checked against the flow's nodes before loading).

Idempotent: a finished load leaves a marker on the database (its comment); with the same SIZE and
loader version nothing is loaded again. `--reload` drops the bench database and starts over.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import queue
import random
import threading
import time
from bisect import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from types import SimpleNamespace

from bench.common import (
    LOADER_VERSION,
    bench_url,
    connect,
    database_name,
    maintenance_url,
    manage,
    read_marker,
    say,
    setup_django,
    write_marker,
)

SEED = 20261125
COOPERATIVES = 5000
YEARS = 3
CHUNK = 5000  # cases per COPY batch
# The tables whose triggers keep the cases' search documents (migration 0018).
SEARCH_TRIGGERS = ("casework_case", "casework_message", "casework_attachment")
# How cases reach the federation: mostly the portal, then the API, e-mail, phone, PEC, the desk.
CHANNELS = ("portal", "api", "email", "phone", "pec", "desk")
CHANNEL_WEIGHTS = (70, 80, 88, 95, 98, 100)
TIMELINE_EVENTS = 100  # the events of the one case the detail scenario reads

OFFICE_WEIGHTS = {"BO": 22, "MO": 14, "RE": 13, "PR": 10, "PC": 6, "FE": 8, "RA": 11, "FC": 9}
OFFICE_WEIGHTS["RN"] = 7
AREA_WEIGHTS = {"fiscal": 30, "legal": 24, "hr": 24, "startup": 10, "training": 12}
PRIORITY_WEIGHTS = {"low": 15, "normal": 55, "high": 22, "urgent": 8}
# Open share by age: most recent cases are open, a stale tail stays open for months (waiting on
# the cooperative, or forgotten). About 6 % of all cases end up open.
OPEN_RECENT, OPEN_DECAY_DAYS, OPEN_STALE = 0.85, 30.0, 0.037
RECENT_OPEN_WEIGHTS = {"triage": 6, "unassigned": 14, "assigned": 45, "waiting": 15, "resolved": 20}
STALE_OPEN_WEIGHTS = {"assigned": 30, "waiting": 70}
FINAL_WEIGHTS = {"closed": 92, "cancelled": 4, "rejected": 4}
SUPERVISOR_TRIAGE = 0.15  # share of cases no triage rule decides
INFO_REQUEST = 0.4  # share of worked cases where the consultant asks the cooperative
MANUAL_ASSIGNMENT = 0.06  # routing found nobody; a supervisor assigned
RATED = 0.6

SURNAMES = (
    "Rossi Bianchi Ferrari Russo Romano Gallo Costa Fontana Conti Ricci Bruno Moretti Marino "
    "Greco Lombardi Barbieri Giordano Rinaldi Colombo Mancini Benedetti Bassi Zanetti Guidi "
    "Malaguti Tosi Montanari Bertoni Golinelli Pancaldi Morandi Cavazza Zucchini Casadei"
).split()
FIRST_NAMES = (
    "Giulia Marco Francesca Luca Chiara Alessandro Sara Matteo Elena Davide Valentina Andrea "
    "Martina Stefano Federica Lorenzo Silvia Paolo Anna Giorgio Roberta Simone Laura Nicola"
).split()
# The words a cooperative's name ends with, and the kind (`Cooperative.Kind`) they say.
COOP_KINDS = {
    "Cooperativa Sociale": "social",
    "Soc. Coop.": "other",
    "Soc. Coop. Agricola": "agricultural",
    "Cooperativa di Abitanti": "housing",
    "Servizi Soc. Coop.": "services",
    "Cooperativa di Produzione e Lavoro": "labour",
}
SUBJECTS = {
    "legal": [
        ("Modifica dello statuto", "Dobbiamo adeguare lo statuto alle nuove norme."),
        ("Contratto di appalto", "Chiediamo una revisione del contratto con il committente."),
        ("Recupero di un credito", "Un cliente non paga da sei mesi."),
    ],
    "fiscal": [
        ("Bilancio di esercizio", "Dubbi sulla nota integrativa del bilancio."),
        ("Ravvedimento operoso IVA", "Abbiamo omesso un versamento IVA trimestrale."),
        ("Cartella esattoriale", "Ci e' stata notificata una cartella da verificare."),
    ],
    "startup": [
        ("Costituzione di una cooperativa", "Un gruppo di soci vuole costituire una cooperativa."),
        ("Bando per nuove imprese", "Possiamo partecipare al bando regionale?"),
    ],
    "hr": [
        ("Assunzione di un socio lavoratore", "Quale contratto applicare al nuovo socio?"),
        ("Regolamento interno", "Aggiornamento del regolamento dei soci lavoratori."),
        ("Contestazione disciplinare", "Come procedere con una contestazione?"),
    ],
    "training": [
        ("Piano formativo finanziato", "Come presentare un piano al fondo interprofessionale?"),
        ("Formazione sulla sicurezza", "Corsi obbligatori per i nuovi assunti."),
    ],
}
MEMBER_LINES = [
    "Grazie, allego quanto richiesto.",
    "Ecco il verbale dell'assemblea.",
    "Aggiungiamo qualche dettaglio sulla richiesta.",
    "Potete aggiornarci sullo stato della pratica?",
]
CONSULTANT_LINES = [
    "Abbiamo esaminato la documentazione inviata.",
    "Vi inviamo una prima valutazione.",
    "Stiamo verificando con l'ufficio competente.",
]
NOTE_LINES = [
    "Sentito il collega del settore: caso ricorrente.",
    "Da verificare la delibera del CdA.",
    "Cliente storico, dare priorita'.",
]
ACK = "Buongiorno, abbiamo preso in carico la vostra richiesta."
QUESTION = "Potete inviarci la documentazione?"
SUMMARY = "Abbiamo esaminato la documentazione e inviato il nostro parere."

# The CaseFlow nodes the loader writes rows for, with the task type viewflow stores for each.
FLOW = "workflows/flows.CaseFlow"
NODE_TYPES = {
    "start": "START",
    "after_intake": "SWITCH",
    "triage": "HUMAN",
    "after_triage": "SWITCH",
    "rejected": "END",
    "assign_manually": "HUMAN",
    "work": "HUMAN",
    "after_work": "SWITCH",
    "await_information": "FUNCTION",
    "await_confirmation": "FUNCTION",
    "after_confirmation": "EXCLUSIVE_GATEWAY",
    "closed": "END",
}
# Node types viewflow leaves without a start instant (gateways are decided, not started).
UNSTARTED_TYPES = {"EXCLUSIVE_GATEWAY", "SWITCH"}
OPEN_STATUSES = {"triage", "unassigned", "assigned", "waiting", "resolved"}
RUNNING_STATUSES = {"triage", "unassigned", "assigned"}

# Bookkeeping events dropped first when a long story has more than eight.
DROPPABLE_EVENTS = (
    "sla_paused",
    "sla_resumed",
    "sla_at_risk",
    "triaged",
    "sla_breached",
    "acknowledged",
    "routed",
)

NULL = "\\N"
_gmtime = time.gmtime


def ts(epoch: int | None) -> str:
    """An epoch second as a COPY timestamptz literal (UTC)."""
    if epoch is None:
        return NULL
    g = _gmtime(epoch)
    return f"{g[0]:04d}-{g[1]:02d}-{g[2]:02d} {g[3]:02d}:{g[4]:02d}:{g[5]:02d}+00"


def num(value) -> str:
    return NULL if value is None else str(value)


def dumps(value: dict) -> str:
    # Plain ASCII JSON: nothing in it needs COPY escaping (no tabs, newlines or backslashes).
    return json.dumps(value, ensure_ascii=True, separators=(", ", ": "))


# --- COPY plumbing ---------------------------------------------------------------------------


class Table:
    """Rows of one table, kept as COPY text lines until the batch is written."""

    def __init__(self, name: str, columns: str, first_id: int | None = None):
        self.name = name
        self.columns = columns
        self.next_id = first_id
        self.lines: list[str] = []
        self.total = 0

    def take_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def add(self, *fields: str) -> None:
        self.lines.append("\t".join(fields))

    def drain(self) -> tuple[str, str, list[str]] | None:
        if not self.lines:
            return None
        lines, self.lines = self.lines, []
        self.total += len(lines)
        return self.name, self.columns, lines


class CopyWriter:
    """Writes batches with COPY in a background thread, so generating the next batch in Python
    overlaps with PostgreSQL ingesting this one (two cores: one for each)."""

    def __init__(self, url: str):
        self.conn = connect(url)
        # Loader session only: no fsync wait per batch, and no row-by-row FK trigger checks (the
        # generator writes consistent keys; `verify` checks them after a load on request).
        self.conn.execute("SET synchronous_commit = off")
        self.conn.execute("SET session_replication_role = replica")
        self.conn.commit()
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while True:
                batch = self.queue.get()
                if batch is None:
                    return
                with self.conn.cursor() as cursor:
                    for name, columns, lines in batch:
                        with cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                            copy.write("\n".join(lines) + "\n")
                self.conn.commit()
        except BaseException as error:  # noqa: BLE001 - re-raised in the main thread
            self.error = error

    def put(self, tables: list[Table]) -> None:
        if self.error:
            raise self.error
        batch = [drained for table in tables if (drained := table.drain())]
        if batch:
            self.queue.put(batch)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self.conn.close()
        if self.error:
            raise self.error


# --- What the load reads from the demo registry ----------------------------------------------


@dataclass
class Area:
    id: int
    code: str
    prefix: str
    confirmation_days: int
    specialties: list[int]
    outcomes: list[tuple[int, str]]


@dataclass
class Registry:
    now: int
    offices: dict[int, str]  # id -> code
    calendars: dict[int, object]  # office id -> casework.sla.BusinessCalendar
    areas: list[Area]
    policies: dict[tuple[int, str], tuple[int, int, int, int, int]]  # id, fr s, res s, warn s
    supervisor_id: int
    supervisor_username: str
    cooperatives: list[tuple[int, int, list[int]]] = field(
        default_factory=list
    )  # id, office, members
    weights: list[float] = field(default_factory=list)
    consultants: dict[tuple[int, int], list[tuple[int, str]]] = field(default_factory=dict)


def check_flow() -> None:
    """The rows written below must be those viewflow would write for CaseFlow's nodes."""
    from workflows.flows import CaseFlow

    for name, task_type in NODE_TYPES.items():
        node = getattr(CaseFlow, name, None)
        if node is None or node.task_type != task_type:
            found = None if node is None else node.task_type
            raise SystemExit(
                f"bench/load.py is out of date with workflows/flows.py: node {name!r} is "
                f"{found!r}, the loader writes {task_type!r}. Update NODE_TYPES and the paths."
            )


def read_registry(now: int) -> Registry:
    from casework.models import (
        Office,
        OutcomeCode,
        PracticeArea,
        SlaPolicy,
        Specialty,
        Supervisor,
    )
    from casework.sla import clocks
    from casework.sla.business_time import warn_minutes

    offices = dict(Office.objects.values_list("id", "code"))
    calendars = {office_id: clocks.calendar_for_office(office_id) for office_id in offices}
    areas = []
    for area in PracticeArea.objects.filter(is_active=True).order_by("position"):
        areas.append(
            Area(
                id=area.pk,
                code=area.code,
                prefix=area.reference_prefix,
                confirmation_days=area.confirmation_days,
                specialties=list(
                    Specialty.objects.filter(area=area).order_by("id").values_list("id", flat=True)
                ),
                outcomes=list(
                    OutcomeCode.objects.filter(area=area, is_active=True)
                    .order_by("id")
                    .values_list("id", "code")
                ),
            )
        )
    policies = {}
    for policy in SlaPolicy.objects.all():
        policies[(policy.area_id, policy.priority)] = (
            policy.pk,
            policy.first_response_minutes * 60,
            policy.resolution_minutes * 60,
            warn_minutes(policy.first_response_minutes, policy.warning_percent) * 60,
            warn_minutes(policy.resolution_minutes, policy.warning_percent) * 60,
        )
    supervisor = Supervisor.objects.select_related("user").filter(all_areas=True).first()
    return Registry(
        now=now,
        offices=offices,
        calendars=calendars,
        areas=areas,
        policies=policies,
        supervisor_id=supervisor.user_id,
        supervisor_username=supervisor.user.username,
    )


# --- Cooperatives, members and consultants ---------------------------------------------------


def tax_code(serial: int) -> str:
    from casework.validators import partita_iva_check_digit

    first_ten = f"9{serial:06d}{888:03d}"
    return first_ten + str(partita_iva_check_digit(first_ten))


def load_people(conn, writer: CopyWriter, reg: Registry, size: int, rng: random.Random) -> None:
    """5,000 cooperatives with one or two members each, and consultants for every office."""
    from django.contrib.auth.hashers import make_password

    def next_id(table: str) -> int:
        return conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]

    password = make_password("sportello-demo")  # the demo password; hashed once for all
    joined = ts(reg.now - 4 * 365 * 86400)
    users = Table(
        "auth_user",
        "id, password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined",
        next_id("auth_user"),
    )
    cooperatives = Table(
        "casework_cooperative",
        "id, name, tax_code, membership_status, joined_on, city, email, office_id, sector_id, kind",
        next_id("casework_cooperative"),
    )
    memberships = Table(
        "casework_membership",
        "id, role, created_at, cooperative_id, user_id, is_active",
        next_id("casework_membership"),
    )
    consultants = Table(
        "casework_consultant",
        "id, capacity, absent_until, active_cases, is_active, user_id, office_id",
        next_id("casework_consultant"),
    )
    consultant_areas = Table(
        "casework_consultant_areas",
        "id, consultant_id, practicearea_id",
        next_id("casework_consultant_areas"),
    )

    def user(username: str) -> tuple[int, str]:
        user_id = users.take_id()
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        users.add(
            str(user_id),
            password,
            "f",
            username,
            first,
            last,
            f"{username}@example.org",
            "f",
            "t",
            joined,
        )
        return user_id, username

    office_by_code = {code: office_id for office_id, code in reg.offices.items()}
    sectors = [row[0] for row in conn.execute("SELECT id FROM casework_sector ORDER BY id")]
    first_bench_cooperative = cooperatives.next_id
    office_codes = list(OFFICE_WEIGHTS)
    office_cum = list(accumulate(OFFICE_WEIGHTS.values()))
    for number in range(1, COOPERATIVES + 1):
        coop_id = cooperatives.take_id()
        office_id = office_by_code[rng.choices(office_codes, cum_weights=office_cum)[0]]
        surname = rng.choice(SURNAMES)
        kind = rng.choice(list(COOP_KINDS))
        name = f"{surname} {number:04d} {kind}"
        cooperatives.add(
            str(coop_id),
            name,
            tax_code(number),
            "active",
            (date(2025, 1, 1) - timedelta(days=rng.randint(0, 40 * 365))).isoformat(),
            reg.offices[office_id],
            f"coop{number:04d}@example.org",
            str(office_id),
            str(rng.choice(sectors)),
            COOP_KINDS[kind],
        )
        members = []
        for suffix, role in (("", "legal_rep"), ("b", "referent")):
            if suffix and rng.random() > 0.2:
                break
            member_id, _ = user(f"bench.socio.{number:04d}{suffix}")
            memberships.add(
                str(memberships.take_id()), role, joined, str(coop_id), str(member_id), "t"
            )
            members.append(member_id)
        reg.cooperatives.append((coop_id, office_id, members))
        # A heavy tail: a few large cooperatives open many cases, most open a handful.
        reg.weights.append(rng.lognormvariate(0.0, 1.0))

    # Consultants: enough per office that each works about fifty active cases at any SIZE.
    per_office = max(10, size // 10000)
    for office_id, code in sorted(reg.offices.items()):
        for k in range(per_office):
            areas = [reg.areas[k % len(reg.areas)]]
            if rng.random() < 0.3:
                other = (k + 1 + rng.randrange(len(reg.areas) - 1)) % len(reg.areas)
                areas.append(reg.areas[other])
            user_id, username = user(f"bench.consulente.{code.lower()}.{k:03d}")
            consultant_id = consultants.take_id()
            consultants.add(str(consultant_id), "100", NULL, "0", "t", str(user_id), str(office_id))
            for area in areas:
                consultant_areas.add(
                    str(consultant_areas.take_id()), str(consultant_id), str(area.id)
                )
                reg.consultants.setdefault((office_id, area.id), []).append((user_id, username))
    writer.put([users, cooperatives, memberships, consultants, consultant_areas])

    # The demo cooperatives take part too, with their demo members (socio.alfa sees cases).
    rows = conn.execute(
        "SELECT c.id, c.office_id, array_agg(m.user_id ORDER BY m.user_id) "
        "FROM casework_cooperative c JOIN casework_membership m ON m.cooperative_id = c.id "
        "WHERE c.membership_status = 'active' AND c.id < %s GROUP BY c.id ORDER BY c.id",
        [first_bench_cooperative],
    ).fetchall()
    for coop_id, office_id, members in rows:
        reg.cooperatives.append((coop_id, office_id, list(members)))
        reg.weights.append(rng.lognormvariate(0.0, 1.0))
    say(
        f"registry: {COOPERATIVES} cooperatives, {memberships.total} members, "
        f"{consultants.total} consultants in {len(reg.offices)} offices "
        f"(+ {len(rows)} demo cooperatives)"
    )


# --- Cases ----------------------------------------------------------------------------------


class Clock:
    """Business-time arithmetic on epoch seconds, through the office's business calendar."""

    def __init__(self, calendar):
        self.calendar = calendar
        self._days: dict[tuple[int, int], int] = {}

    def add(self, start: int, seconds: int) -> int:
        moment = datetime.fromtimestamp(start, UTC)
        return int(self.calendar.add_seconds(moment, max(seconds, 0)).timestamp())

    def between(self, start: int, end: int) -> int:
        return self.calendar.seconds_between(
            datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
        )

    def business_days_later(self, start: int, days: int) -> int:
        """`casework.services.business_days_later`, on epochs, cached per local day."""
        tz = self.calendar.tz
        local_day = datetime.fromtimestamp(start, tz).date()
        key = (local_day.toordinal(), days)
        cached = self._days.get(key)
        if cached is not None:
            return cached
        day, counted, result = local_day, 0, start + days * 86400
        for _offset in range(366):
            day += timedelta(days=1)
            begin = datetime.combine(day, datetime.min.time(), tzinfo=tz)
            if self.calendar.seconds_between(begin, begin + timedelta(days=1)) > 0:
                counted += 1
                if counted == days:
                    result = int((begin + timedelta(days=1) - timedelta(seconds=1)).timestamp())
                    break
        self._days[key] = result
        return result


def opening_instants(size: int, now: int, rng: random.Random) -> list[int]:
    """SIZE intake instants over the last three years, mostly in office hours, oldest first."""
    first = now - YEARS * 365 * 86400
    instants = []
    for _ in range(size):
        for _attempt in range(3):
            moment = rng.randint(first, now - 120)
            local = time.localtime(moment)  # the process runs with TZ = Europe/Rome (Django)
            if local.tm_wday < 5 and 8 <= local.tm_hour < 19:
                break
        instants.append(moment)
    instants.sort()
    return instants


class CaseFactory:
    """Generates one case's rows in every table, consistent with its story and the clocks."""

    def __init__(self, reg: Registry, conn, rng: random.Random):
        from casework.sla import clocks

        self.reg = reg
        self.rng = rng
        self.case_state = clocks.case_state
        self.clocks = {office_id: Clock(cal) for office_id, cal in reg.calendars.items()}
        self.coop_cum = list(accumulate(reg.weights))
        self.area_by_code = {area.code: area for area in reg.areas}
        self.area_codes = [code for code in AREA_WEIGHTS if code in self.area_by_code]
        self.area_cum = list(accumulate(AREA_WEIGHTS[code] for code in self.area_codes))
        self.priorities = list(PRIORITY_WEIGHTS)
        self.priority_cum = list(accumulate(PRIORITY_WEIGHTS.values()))
        self.counters: dict[tuple[str, int], int] = {}
        self.usernames: dict[int, str] = {}
        for people in reg.consultants.values():
            self.usernames.update(people)

        def next_id(table: str) -> int:
            return conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]

        self.cases = Table(
            "casework_case",
            "id, reference, subject, description, priority, status, resolution_summary, "
            "rejection_reason, minutes_spent, created_at, updated_at, first_response_at, "
            "resolved_at, closed_at, confirmation_due_at, first_response_due_at, "
            "first_response_warn_at, resolution_due_at, resolution_warn_at, "
            "first_response_elapsed_seconds, resolution_elapsed_seconds, clock_running_since, "
            "sla_paused_at, sla_state, first_response_warned_at, first_response_breached_at, "
            "resolution_warned_at, resolution_breached_at, assignee_id, requester_id, "
            "cooperative_id, outcome_id, area_id, sla_policy_id, specialty_id, channel, "
            "last_activity_at, confidential",
            next_id("casework_case"),
        )
        self.events = Table(
            "casework_caseevent",
            'id, kind, created_at, "before", "after", note, actor_id, case_id',
            next_id("casework_caseevent"),
        )
        self.messages = Table(
            "casework_message",
            "id, body, internal, created_at, author_id, case_id",
            next_id("casework_message"),
        )
        self.pauses = Table(
            "casework_slapause",
            "id, reason, started_at, ended_at, case_id",
            next_id("casework_slapause"),
        )
        self.ratings = Table(
            "casework_rating",
            "id, score, comment, created_at, case_id, rated_by_id",
            next_id("casework_rating"),
        )
        self.processes = Table(
            "viewflow_process",
            "id, flow_class, status, created, finished, data",
            next_id("viewflow_process"),
        )
        self.case_processes = Table("workflows_caseprocess", "process_ptr_id, case_id")
        self.tasks = Table(
            "viewflow_task",
            "id, flow_task, flow_task_type, status, created, started, finished, token, "
            "owner_id, process_id, data",
            next_id("viewflow_task"),
        )
        self.previous = Table(
            "viewflow_task_previous",
            "id, from_task_id, to_task_id",
            next_id("viewflow_task_previous"),
        )
        self.tables = [
            self.cases,
            self.processes,
            self.case_processes,
            self.tasks,
            self.previous,
            self.events,
            self.messages,
            self.pauses,
            self.ratings,
        ]
        self.status_counts: dict[str, int] = {}

    # The status a case of this age has reached.
    def _status(self, age_days: float) -> str:
        rng = self.rng
        p_open = OPEN_RECENT * math.exp(-age_days / OPEN_DECAY_DAYS) + OPEN_STALE
        if rng.random() < p_open:
            weights = RECENT_OPEN_WEIGHTS if age_days < 30 else STALE_OPEN_WEIGHTS
            return rng.choices(list(weights), weights=list(weights.values()))[0]
        return rng.choices(list(FINAL_WEIGHTS), weights=list(FINAL_WEIGHTS.values()))[0]

    def reference(self, area: Area, created: int) -> str:
        year = time.localtime(created).tm_year
        key = (area.prefix, year)
        number = self.counters.get(key, 0) + 1
        self.counters[key] = number
        return f"{area.prefix}-{year}-{number:06d}"

    def make(self, created: int) -> int:
        """All rows of one case opened at `created`; returns its id."""
        reg, rng = self.reg, self.rng
        now = reg.now
        coop_id, office_id, members = reg.cooperatives[
            bisect(self.coop_cum, rng.random() * self.coop_cum[-1])
        ]
        clock = self.clocks[office_id]
        requester = rng.choice(members)
        area = self.area_by_code[
            self.area_codes[bisect(self.area_cum, rng.random() * self.area_cum[-1])]
        ]
        priority = self.priorities[bisect(self.priority_cum, rng.random() * self.priority_cum[-1])]
        policy_id, fr_target, res_target, fr_warn_s, res_warn_s = reg.policies[(area.id, priority)]
        specialty = (
            rng.choice(area.specialties) if area.specialties and rng.random() < 0.5 else None
        )
        age_days = (now - created) / 86400
        status = self._status(age_days)
        triage_by_supervisor = status in ("triage", "rejected") or rng.random() < SUPERVISOR_TRIAGE
        release = status == "unassigned" and rng.random() < 0.6
        manual = status == "unassigned" and not release
        if status not in ("triage", "rejected", "unassigned") and rng.random() < MANUAL_ASSIGNMENT:
            manual = True
        cancelled_in_triage = status == "cancelled" and triage_by_supervisor and rng.random() < 0.3
        if status == "resolved" and age_days > 20:
            status = "closed"  # its confirmation window has long ended: auto-closed
        consultants = reg.consultants.get((office_id, area.id)) or next(
            people for (_o, a), people in reg.consultants.items() if a == area.id
        )
        assignee = None

        # --- The story in wall-clock epochs (None: did not happen) --------------------------
        t0 = created
        t_triage = t0 + rng.randint(600, 6 * 3600) if triage_by_supervisor else None
        if status == "triage":
            t_triage = None
        t_route = (t_triage or t0) + rng.randint(1, 5)
        t_assign = t_route + rng.randint(1800, 86400) if manual and status != "unassigned" else None
        start_work = t_assign or t_route
        fr_at = clock.add(t0, int(fr_target * rng.uniform(0.05, 1.1)))
        if fr_at <= start_work:
            fr_at = start_work + rng.randint(60, 3600)
        info = status == "waiting" or rng.random() < INFO_REQUEST
        res_b = int(res_target * rng.uniform(0.15, 1.1))
        t_req = t_prov = None
        if info:
            t_req = max(clock.add(t0, int(res_b * rng.uniform(0.2, 0.6))), fr_at)
            t_prov = t_req + rng.randint(8 * 3600, 10 * 86400)
            t_res = clock.add(t_prov, max(res_b - clock.between(t0, t_req), 600))
        else:
            t_res = max(clock.add(t0, res_b), fr_at + 600)
        t_close = t_res + rng.randint(3600, 3 * 86400)
        auto_closed = rng.random() < 0.3
        t_rate = t_close + rng.randint(3600, 2 * 86400)
        t_cancel = (t_triage if cancelled_in_triage else start_work) + rng.randint(3600, 5 * 86400)
        t_release = t_route + rng.randint(3600, 2 * 86400) if release else None

        # The step that defines the status must be in the past: squeeze the story into
        # [t0, now - 60 s] when it would end in the future (the clocks are computed afterwards
        # from these instants, so the SLA fields stay exact).
        last = {
            "triage": t0,
            "unassigned": t_release or t_route,
            "assigned": start_work,
            "waiting": t_req,
            "resolved": t_res,
            "closed": t_rate,
            "cancelled": t_cancel,
            "rejected": (t_triage or t0) + 1,
        }[status]
        if last > now - 60:
            span = max(now - 60 - t0, 10)
            k = span / max(last - t0, 1)

            def squeeze(t):
                return None if t is None else t0 + int((t - t0) * k)

            t_triage, t_route, t_assign = squeeze(t_triage), squeeze(t_route), squeeze(t_assign)
            fr_at, t_req, t_prov, t_res = (
                squeeze(fr_at),
                squeeze(t_req),
                squeeze(t_prov),
                squeeze(t_res),
            )
            t_close, t_rate, t_cancel = squeeze(t_close), squeeze(t_rate), squeeze(t_cancel)
            t_release = squeeze(t_release)
            start_work = t_assign or t_route
        if status == "assigned":
            # Only what happened before now: an answered request, a first response.
            if info and not (t_prov is not None and t_prov < now):
                info, t_req, t_prov = False, None, None
            if fr_at is not None and fr_at >= now:
                fr_at = None
        if status in ("triage", "unassigned", "rejected") or cancelled_in_triage:
            fr_at = None
        if status == "cancelled" and fr_at is not None and fr_at >= t_cancel:
            fr_at = None
        if status not in ("assigned", "waiting", "resolved", "closed"):
            info, t_req, t_prov = False, None, None
        if status == "waiting":
            t_prov = None
        if fr_at is not None and t_req is not None and fr_at > t_req:
            fr_at = t_req  # the request for information is the first response
        if status == "resolved":
            if clock.business_days_later(t_res, area.confirmation_days) <= now:
                status, auto_closed = "closed", True  # nobody answered: closed by itself
        elif status == "closed" and auto_closed:
            if clock.business_days_later(t_res, area.confirmation_days) > now - 60:
                auto_closed = False  # its window is still open: the member confirmed
        if status not in ("triage", "rejected", "unassigned") and not cancelled_in_triage:
            assignee = rng.choice(consultants)[0]
        released_from = rng.choice(consultants)[0] if release else None

        # --- SLA clocks, replaying casework.sla.clocks on these instants ------------------------
        running = t0
        fr_elapsed = res_elapsed = 0
        fr_due, fr_warn = clock.add(t0, fr_target), clock.add(t0, fr_warn_s)
        res_due, res_warn = clock.add(t0, res_target), clock.add(t0, res_warn_s)
        res_scheduled = t0
        if t_triage is not None and status != "rejected" and not cancelled_in_triage:
            spent = clock.between(t0, t_triage)  # recompute at triage: consume, reschedule
            fr_elapsed += spent
            res_elapsed += spent
            running = res_scheduled = t_triage
            fr_due = clock.add(running, fr_target - fr_elapsed)
            fr_warn = clock.add(running, fr_warn_s - fr_elapsed)
            res_due = clock.add(running, res_target - res_elapsed)
            res_warn = clock.add(running, res_warn_s - res_elapsed)
        if fr_at is not None:
            fr_elapsed += clock.between(running, fr_at)
        paused_at = None
        resolved_at = closed_at = confirmation_due = None
        if t_req is not None:
            res_elapsed += clock.between(running, t_req)
            running, paused_at = None, t_req
            if t_prov is not None:
                running = res_scheduled = t_prov
                res_due = clock.add(running, res_target - res_elapsed)
                res_warn = clock.add(running, res_warn_s - res_elapsed)
        if status in ("resolved", "closed"):
            res_elapsed += clock.between(running, t_res)
            running, paused_at, resolved_at = None, t_res, t_res
            confirmation_due = clock.business_days_later(t_res, area.confirmation_days)
            if status == "closed":
                closed_at = confirmation_due if auto_closed else t_close
                if auto_closed:
                    t_rate = closed_at + rng.randint(3600, 86400)
        elif status == "cancelled":
            running, closed_at = None, t_cancel
        elif status == "rejected":
            running, closed_at = None, t_triage
        # When each clock stopped running (the sweep watches only running clocks).
        stop = {
            "triage": now,
            "unassigned": now,
            "assigned": now,
            "waiting": t_req,
            "resolved": t_res,
            "closed": t_res,
            "cancelled": t_cancel,
            "rejected": t_triage,
        }[status]
        fr_stop = min(fr_at or stop, stop, now)
        res_stop = min(stop, now)

        def mark(instant, until, since=t0):
            # The sweep marked it a few seconds after the instant passed (if it ran since).
            return min(instant + 30, now) if since <= instant <= min(until, now) else None

        fr_warned, fr_breached = mark(fr_warn, fr_stop), mark(fr_due, fr_stop)
        res_warned = mark(res_warn, res_stop, res_scheduled)
        res_breached = mark(res_due, res_stop, res_scheduled)
        if fr_breached and not fr_warned:
            fr_warned = fr_breached
        if res_breached and not res_warned:
            res_warned = res_breached
        last_save = {"waiting": t_req, "resolved": t_res, "closed": closed_at}.get(status)
        last_save = last_save or (closed_at if status in ("cancelled", "rejected") else now)
        state = self.case_state(
            SimpleNamespace(
                status=status,
                clock_running_since=running,
                resolved_at=resolved_at,
                first_response_at=fr_at,
                first_response_due_at=fr_due,
                first_response_warn_at=fr_warn,
                resolution_due_at=res_due,
                resolution_warn_at=res_warn,
            ),
            now=last_save,
        )

        # --- Rows -----------------------------------------------------------------------------
        case_id = self.cases.take_id()
        cid = str(case_id)
        subject, description = rng.choice(SUBJECTS.get(area.code, SUBJECTS["legal"]))
        outcome = rng.choice(area.outcomes) if status in ("resolved", "closed") else None
        minutes = rng.choice((30, 45, 60, 90, 120, 240)) if outcome else 0
        events: list[tuple] = []  # (t, kind, actor, before, after, note)
        msgs: list[tuple] = []  # (t, author, internal, body)
        initial = "triage" if triage_by_supervisor else "unassigned"
        events.append((t0, "opened", requester, {}, {"status": initial, "priority": priority}, ""))
        if not triage_by_supervisor:
            events.append(
                (t0, "triaged", None, {}, {"priority": priority, "rule": None}, "Priority set.")
            )
        elif t_triage is not None and status != "rejected" and not cancelled_in_triage:
            events.append(
                (
                    t_triage,
                    "triaged",
                    reg.supervisor_id,
                    {"status": "triage"},
                    {"status": "unassigned", "area": area.code, "priority": priority},
                    "",
                )
            )
        if status == "rejected":
            reason = rng.choice(("out_of_scope", "duplicate"))
            events.append(
                (
                    t_triage,
                    "rejected",
                    reg.supervisor_id,
                    {"status": "triage"},
                    {"status": "rejected", "reason": reason},
                    "Fuori dai servizi della federazione.",
                )
            )
            msgs.append(
                (t_triage, reg.supervisor_id, False, "La richiesta non rientra nei servizi.")
            )
        routed = status not in ("triage", "rejected") and not cancelled_in_triage
        if routed and manual:
            events.append(
                (t_route, "routing_failed", None, {}, {"reason": "all_at_capacity"}, "Nessuno.")
            )
            if t_assign is not None:
                events.append(
                    (
                        t_assign,
                        "assigned",
                        reg.supervisor_id,
                        {"status": "unassigned"},
                        {"status": "assigned", "assignee": self.usernames.get(assignee, "")},
                        "",
                    )
                )
        elif routed:
            who = released_from if release else assignee
            events.append(
                (
                    t_route,
                    "routed",
                    None,
                    {"status": "unassigned"},
                    {
                        "status": "assigned",
                        "assignee": self.usernames.get(who, ""),
                        "reason": "routed",
                    },
                    "Routed by skills, office and load.",
                )
            )
            if release:
                events.append(
                    (
                        t_release,
                        "released",
                        released_from,
                        {"status": "assigned"},
                        {"status": "unassigned"},
                        "",
                    )
                )
        if fr_at is not None and (t_req is None or fr_at < t_req):
            events.append((fr_at, "acknowledged", assignee, {}, {}, ""))
            msgs.append((fr_at, assignee, False, ACK))
        if t_req is not None:
            events.append(
                (
                    t_req,
                    "info_requested",
                    assignee,
                    {"status": "assigned"},
                    {"status": "waiting"},
                    "",
                )
            )
            events.append((t_req, "sla_paused", None, {}, {"reason": "info_requested"}, ""))
            msgs.append((t_req, assignee, False, QUESTION))
            self.pauses.add(
                str(self.pauses.take_id()), "info_requested", ts(t_req), ts(t_prov), cid
            )
        if t_prov is not None:
            events.append(
                (
                    t_prov,
                    "info_provided",
                    requester,
                    {"status": "waiting"},
                    {"status": "assigned"},
                    "",
                )
            )
            events.append((t_prov, "sla_resumed", None, {}, {}, ""))
            msgs.append((t_prov, requester, False, rng.choice(MEMBER_LINES)))
        if resolved_at is not None:
            events.append(
                (
                    resolved_at,
                    "resolved",
                    assignee,
                    {"status": "assigned"},
                    {"status": "resolved", "outcome": outcome[1], "minutes": minutes},
                    "",
                )
            )
            msgs.append((resolved_at, assignee, False, SUMMARY))
            self.pauses.add(
                str(self.pauses.take_id()),
                "awaiting_confirmation",
                ts(resolved_at),
                ts(closed_at),
                cid,
            )
        if status == "closed":
            if auto_closed:
                events.append(
                    (
                        closed_at,
                        "auto_closed",
                        None,
                        {"status": "resolved"},
                        {"status": "closed"},
                        "",
                    )
                )
            else:
                events.append(
                    (
                        closed_at,
                        "confirmed",
                        requester,
                        {"status": "resolved"},
                        {"status": "closed"},
                        "",
                    )
                )
            if rng.random() < RATED and t_rate < now:
                score = rng.choices((5, 4, 3, 2, 1), weights=(5, 4, 2, 1, 0.5))[0]
                events.append((t_rate, "rated", requester, {}, {"score": score}, ""))
                self.ratings.add(
                    str(self.ratings.take_id()), str(score), "", ts(t_rate), cid, str(requester)
                )
        if status == "cancelled":
            events.append(
                (
                    t_cancel,
                    "cancelled",
                    reg.supervisor_id,
                    {"status": "assigned" if assignee else "triage"},
                    {"status": "cancelled"},
                    "Ritirata dalla cooperativa.",
                )
            )
        for instant, kind, clock_name in (
            (fr_warned if not fr_breached else None, "sla_at_risk", "first_response"),
            (fr_breached, "sla_breached", "first_response"),
            (res_warned if not res_breached else None, "sla_at_risk", "resolution"),
            (res_breached, "sla_breached", "resolution"),
        ):
            if instant is not None:
                events.append((instant, kind, None, {}, {"clock": clock_name}, ""))

        # 4-8 events and 3-6 messages: trim the bookkeeping ones first, pad with everyday work.
        end = min(last_save, now - 1) if status in OPEN_STATUSES else (closed_at or now - 1)
        end = max(end, t0 + 1)
        wanted_events = rng.randint(4, 8)
        while len(events) > 8:
            kinds = [e[1] for e in events]
            kind = next((k for k in DROPPABLE_EVENTS if k in kinds), None)
            events.pop(kinds.index(kind) if kind else 1)
        staff = assignee or reg.supervisor_id
        while len(events) < wanted_events:
            t = rng.randint(t0, end)
            choice = rng.random()
            if choice < 0.4 and assignee:
                spent = rng.choice((15, 30, 60))
                minutes += spent
                events.append((t, "time_recorded", assignee, {}, {"minutes": spent}, ""))
            elif choice < 0.7:
                body = rng.choice(NOTE_LINES)
                msgs.append((t, staff, True, body))
                events.append((t, "note_added", staff, {}, {}, ""))
            else:
                msgs.append((t, requester, False, rng.choice(MEMBER_LINES)))
                events.append((t, "replied", requester, {}, {}, ""))
        wanted_messages = rng.randint(3, 6)
        while len(msgs) < wanted_messages:
            t = rng.randint(t0, end)
            if assignee and rng.random() < 0.5:
                msgs.append((t, assignee, rng.random() < 0.3, rng.choice(CONSULTANT_LINES)))
            else:
                msgs.append((t, requester, False, rng.choice(MEMBER_LINES)))
        del msgs[wanted_messages:]

        events.sort(key=lambda e: e[0])
        for t, kind, actor, before, after, note in events:
            self.events.add(
                str(self.events.take_id()),
                kind,
                ts(t),
                dumps(before),
                dumps(after),
                note,
                num(actor),
                cid,
            )
        msgs.sort(key=lambda m: m[0])
        for t, author, internal, body in msgs:
            self.messages.add(
                str(self.messages.take_id()),
                body,
                "t" if internal else "f",
                ts(t),
                num(author),
                cid,
            )
        updated = max(events[-1][0], msgs[-1][0])
        self.cases.add(
            cid,
            self.reference(area, created),
            subject,
            description,
            priority,
            status,
            SUMMARY if outcome else "",
            reason if status == "rejected" else "",
            str(minutes),
            ts(t0),
            ts(updated),
            ts(fr_at),
            ts(resolved_at),
            ts(closed_at),
            ts(confirmation_due) if status == "resolved" else NULL,
            ts(fr_due),
            ts(fr_warn),
            ts(res_due),
            ts(res_warn),
            str(fr_elapsed),
            str(res_elapsed),
            ts(running),
            ts(paused_at),
            state,
            ts(fr_warned),
            ts(fr_breached),
            ts(res_warned),
            ts(res_breached),
            num(assignee),
            str(requester),
            str(coop_id),
            num(outcome[0] if outcome else None),
            str(area.id),
            str(policy_id),
            num(specialty),
            self.rng.choices(CHANNELS, cum_weights=CHANNEL_WEIGHTS)[0],
            ts(updated),
            "f",
        )
        self.status_counts[status] = self.status_counts.get(status, 0) + 1

        # --- The viewflow process and its tasks ------------------------------------------------
        sup = reg.supervisor_id
        steps: list[tuple[str, str, int | None, int]] = [("start", "DONE", None, t0)]
        steps.append(("after_intake", "DONE", None, t0))
        process_status, finished = "NEW", None
        if triage_by_supervisor:
            if status == "triage":
                steps.append(("triage", "NEW", None, t0))
            elif cancelled_in_triage:
                steps.append(("triage", "CANCELED", None, t0))
            else:
                steps.append(("triage", "DONE", sup, t_triage))
                steps.append(("after_triage", "DONE", None, t_triage))
        if status == "rejected":
            steps.append(("rejected", "DONE", None, t_triage))
        elif routed:
            if manual:
                if t_assign is None:
                    steps.append(("assign_manually", "NEW", None, t_route))
                else:
                    steps.append(("assign_manually", "DONE", sup, t_assign))
            if release:
                steps.append(("work", "NEW", None, t_route))
            elif status == "cancelled":
                steps.append(("work", "CANCELED", assignee, start_work))
            elif status != "unassigned":
                if t_req is not None:
                    steps.append(("work", "DONE", assignee, t_req))
                    steps.append(("after_work", "DONE", None, t_req))
                    if t_prov is None:
                        steps.append(("await_information", "NEW", None, t_req))
                    else:
                        steps.append(("await_information", "DONE", None, t_prov))
                if status == "assigned":
                    steps.append(("work", "ASSIGNED", assignee, t_prov or start_work))
                elif status in ("resolved", "closed"):
                    steps.append(("work", "DONE", assignee, resolved_at))
                    steps.append(("after_work", "DONE", None, resolved_at))
                    if status == "resolved":
                        steps.append(("await_confirmation", "NEW", None, resolved_at))
                    else:
                        steps.append(("await_confirmation", "DONE", None, closed_at))
                        steps.append(("after_confirmation", "DONE", None, closed_at))
                        steps.append(("closed", "DONE", None, closed_at))
        if status in ("closed", "rejected"):
            process_status, finished = "DONE", closed_at
        elif status == "cancelled":
            process_status, finished = "CANCELED", closed_at
        process_id = self.processes.take_id()
        pid = str(process_id)
        self.processes.add(pid, FLOW, process_status, ts(t0), ts(finished), "{}")
        self.case_processes.add(pid, cid)
        previous_id = None
        human_data = dumps({"area": area.id})
        for node, task_status, owner, t in steps:
            task_type = NODE_TYPES[node]
            task_id = self.tasks.take_id()
            done = task_status in ("DONE", "CANCELED")
            started = (
                t if done and task_type not in UNSTARTED_TYPES and task_status == "DONE" else None
            )
            self.tasks.add(
                str(task_id),
                f"{FLOW}.{node}",
                task_type,
                task_status,
                ts(t),
                ts(started),
                ts(t if done else None),
                "start",
                num(owner),
                pid,
                # People's steps carry their case's area (workflows.flows.QueueView).
                human_data if task_type == "HUMAN" else "{}",
            )
            if previous_id is not None:
                self.previous.add(str(self.previous.take_id()), str(task_id), str(previous_id))
            previous_id = task_id
        return case_id

    def timeline(self, case_id: int, actor: int, since: int, count: int) -> None:
        """Pad one case's timeline to `count` events (the detail scenario reads it whole)."""
        rng = self.rng
        for _ in range(count):
            t = rng.randint(since, self.reg.now - 60)
            self.events.add(
                str(self.events.take_id()),
                "time_recorded",
                ts(t),
                "{}",
                dumps({"minutes": 15}),
                "",
                str(actor),
                str(case_id),
            )


# --- The whole load ----------------------------------------------------------------------------


def create_database(url: str, *, drop: bool) -> None:
    from psycopg import sql

    name = database_name(url)
    with connect(maintenance_url(url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            say(f"dropping database {name}")
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            say(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def loaded_marker(url: str, size: int) -> dict | None:
    """The marker of a finished load of this SIZE by this loader version, if it is there."""
    name = database_name(url)
    with connect(maintenance_url(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return None
    with connect(url, autocommit=True) as conn:
        marker = read_marker(conn)
        if not marker or marker.get("size") != size or marker.get("version") != LOADER_VERSION:
            return None
        count = conn.execute("SELECT count(*) FROM casework_case").fetchone()[0]
        if count != size:
            say(f"bench database holds {count} cases, its marker says {size}: loading again")
            return None
        return marker


ANALYSED = (
    "auth_user",
    "casework_cooperative",
    "casework_membership",
    "casework_consultant",
    "casework_consultant_areas",
    "casework_case",
    "casework_caseevent",
    "casework_message",
    "casework_slapause",
    "casework_rating",
    "casework_timeentry",
    "viewflow_process",
    "workflows_caseprocess",
    "viewflow_task",
    "viewflow_task_previous",
)


def secondary_indexes(conn, table: str) -> list[tuple[str, str]]:
    """The table's indexes other than its primary key and unique ones: (name, definition)."""
    return conn.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = %s::regclass AND NOT indisprimary AND NOT indisunique ORDER BY 1",
        [table],
    ).fetchall()


def load(size: int, *, url: str, seed: int = SEED) -> dict:
    create_database(url, drop=True)
    manage(url, "migrate", "--noinput", "-v", "0")
    # The demo registry (offices, areas, policies, calendars, demo people) is the bench's too;
    # seed_demo refuses to write without DEBUG, which the bench's own settings leave off.
    manage(url, "seed_demo", "--cases", "0", "-v", "0", DEBUG="1")
    setup_django(url)
    check_flow()
    rng = random.Random(seed)
    now = int(time.time())
    reg = read_registry(now)
    started = time.monotonic()
    with connect(url) as conn:
        # The search triggers would update a case per message row: off for the COPY, and every
        # case's documents built afterwards in one statement (migration 0018's own backfill).
        for table in SEARCH_TRIGGERS:
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        # The cases' secondary indexes are built once at the end, from the rows as they are
        # then: kept up during the COPY and the backfill's UPDATE of every case, they came out
        # three times their size (eight for the search documents' GIN), which a settled
        # database's are not.
        case_indexes = secondary_indexes(conn, "casework_case")
        for name, _definition in case_indexes:
            conn.execute(f"DROP INDEX {name}")
        conn.commit()
        writer = CopyWriter(url)
        load_people(conn, writer, reg, size, rng)
        factory = CaseFactory(reg, conn, rng)
        instants = opening_instants(size, now, rng)
        say(f"cases: generating {size:,} (chunks of {CHUNK:,}), rows written by COPY")
        timeline_case = None
        last_report = time.monotonic()
        for index, created in enumerate(instants, start=1):
            case_id = factory.make(created)
            if index % CHUNK == 0 or index == size:
                writer.put(factory.tables)
                if time.monotonic() - last_report > 10 or index == size:
                    last_report = time.monotonic()
                    elapsed = last_report - started
                    rate = index / elapsed
                    rows = sum(t.total for t in factory.tables)
                    say(
                        f"cases: {index:,}/{size:,} ({100 * index / size:.0f} %) "
                        f"{rate:,.0f} cases/s, {rows / elapsed:,.0f} rows/s, "
                        f"ETA {(size - index) / rate:,.0f} s"
                    )
            if timeline_case is None and created > now - 20 * 86400:
                timeline_case = case_id  # decided below: the first recent assigned case
        writer.put(factory.tables)
        writer.close()
        say(f"cases: {size:,} written in {time.monotonic() - started:,.0f} s; finishing")
        indexing = time.monotonic()
        conn.execute(importlib.import_module("casework.migrations.0018_search").BACKFILL_SQL)
        for table in SEARCH_TRIGGERS:
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        conn.commit()
        say(f"search documents: built in {time.monotonic() - indexing:,.0f} s")
        indexing = time.monotonic()
        with connect(url, autocommit=True) as settling:
            # The UPDATE left a dead version of every case behind: the table written anew.
            settling.execute("VACUUM FULL casework_case")
            settling.execute("SET maintenance_work_mem = '256MB'")
            for _name, definition in case_indexes:
                settling.execute(definition)
        say(
            f"cases' table rewritten and its {len(case_indexes)} indexes built in "
            f"{time.monotonic() - indexing:,.0f} s"
        )
        # Each case's minutes as one time entry of its assignee, as migration 0019 moved the
        # totals written before time entries existed (the reports and plans sum the entries).
        conn.execute(
            "INSERT INTO casework_timeentry (case_id, consultant_id, day, minutes, note, "
            "billable, created_at) SELECT id, assignee_id, "
            "CAST(COALESCE(resolved_at, updated_at) AT TIME ZONE 'Europe/Rome' AS date), "
            "minutes_spent, '', true, updated_at FROM casework_case WHERE minutes_spent > 0"
        )
        conn.commit()

        # The detail scenario's case: an assigned case with exactly 100 events.
        row = conn.execute(
            "SELECT c.id, c.assignee_id, extract(epoch FROM c.created_at)::bigint, "
            "(SELECT count(*) FROM casework_caseevent e WHERE e.case_id = c.id) "
            "FROM casework_case c WHERE c.status = 'assigned' AND c.id >= %s "
            "ORDER BY c.id LIMIT 1",
            [timeline_case or 0],
        ).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT c.id, c.assignee_id, extract(epoch FROM c.created_at)::bigint, "
                "(SELECT count(*) FROM casework_caseevent e WHERE e.case_id = c.id) "
                "FROM casework_case c WHERE c.status = 'assigned' ORDER BY c.id DESC LIMIT 1"
            ).fetchone()
        timeline_case, actor, since, have = row
        factory.timeline(timeline_case, actor, since, TIMELINE_EVENTS - have)
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY casework_caseevent ({factory.events.columns}) FROM STDIN") as copy,
        ):
            copy.write("\n".join(factory.events.lines) + "\n")
        factory.events.drain()

        # What the services keep up to date: reference counters and consultants' loads.
        for (prefix, year), number in factory.counters.items():
            conn.execute(
                "INSERT INTO casework_casecounter (prefix, year, last_number) VALUES (%s, %s, %s) "
                "ON CONFLICT (prefix, year) DO UPDATE SET last_number = "
                "greatest(casework_casecounter.last_number, excluded.last_number)",
                [prefix, year, number],
            )
        conn.execute(
            "UPDATE casework_consultant k SET active_cases = n FROM ("
            " SELECT assignee_id, count(*) AS n FROM casework_case"
            " WHERE status IN ('assigned', 'waiting') GROUP BY assignee_id) a "
            "WHERE a.assignee_id = k.user_id"
        )
        for table in ANALYSED + ("casework_casecounter",):
            if table == "workflows_caseprocess":
                continue  # keyed by its process
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.commit()
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ANALYSED
        }
    say("vacuum analyse (visibility map and planner statistics, as a settled database has)")
    with connect(url, autocommit=True) as conn:
        for table in ANALYSED:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        seconds = round(time.monotonic() - started, 1)
        marker = {
            "size": size,
            "version": LOADER_VERSION,
            "seed": seed,
            "loaded_at": now,
            "load_seconds": seconds,
            "timeline_case": timeline_case,
            "statuses": dict(sorted(factory.status_counts.items())),
            "rows": counts,
        }
        write_marker(conn, marker)
    total_rows = sum(counts.values())
    say(f"load done in {seconds:,.0f} s: {total_rows:,} rows ({total_rows / seconds:,.0f} rows/s)")
    for table, count in counts.items():
        say(f"  {table:28} {count:>12,}")
    say("  statuses: " + ", ".join(f"{k} {v:,}" for k, v in marker["statuses"].items()))
    return marker


def verify(url: str) -> None:
    """Foreign keys and invariants the COPY load bypassed (FK triggers were off): all must be 0."""
    checks = {
        "task without process": "SELECT count(*) FROM viewflow_task t WHERE NOT EXISTS "
        "(SELECT 1 FROM viewflow_process p WHERE p.id = t.process_id)",
        "case process without case": "SELECT count(*) FROM workflows_caseprocess cp WHERE NOT "
        "EXISTS (SELECT 1 FROM casework_case c WHERE c.id = cp.case_id)",
        "case without process": "SELECT count(*) FROM casework_case c WHERE NOT EXISTS "
        "(SELECT 1 FROM workflows_caseprocess cp WHERE cp.case_id = c.id)",
        "event without case": "SELECT count(*) FROM casework_caseevent e WHERE NOT EXISTS "
        "(SELECT 1 FROM casework_case c WHERE c.id = e.case_id)",
        "message without case": "SELECT count(*) FROM casework_message m WHERE NOT EXISTS "
        "(SELECT 1 FROM casework_case c WHERE c.id = m.case_id)",
        "case with unknown user": "SELECT count(*) FROM casework_case c WHERE NOT EXISTS "
        "(SELECT 1 FROM auth_user u WHERE u.id = c.requester_id) OR (c.assignee_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM auth_user u WHERE u.id = c.assignee_id))",
        "assigned case without its work task": "SELECT count(*) FROM casework_case c "
        "JOIN workflows_caseprocess cp ON cp.case_id = c.id WHERE c.status = 'assigned' AND NOT "
        "EXISTS (SELECT 1 FROM viewflow_task t WHERE t.process_id = cp.process_ptr_id AND "
        "t.flow_task = 'workflows/flows.CaseFlow.work' AND t.status = 'ASSIGNED' "
        "AND t.owner_id = c.assignee_id)",
        "running clock already due and unmarked": "SELECT count(*) FROM casework_case WHERE "
        "status IN ('triage','unassigned','assigned') AND clock_running_since IS NOT NULL AND "
        "resolution_breached_at IS NULL AND resolution_due_at <= to_timestamp(%s)",
        "worked status without assignee": "SELECT count(*) FROM casework_case WHERE status IN "
        "('assigned','waiting','resolved') AND assignee_id IS NULL",
        "events before the case": "SELECT count(*) FROM casework_caseevent e JOIN casework_case c "
        "ON c.id = e.case_id WHERE e.created_at < c.created_at",
        "waiting case without open pause": "SELECT count(*) FROM casework_case c WHERE "
        "c.status = 'waiting' AND NOT EXISTS (SELECT 1 FROM casework_slapause p WHERE "
        "p.case_id = c.id AND p.ended_at IS NULL)",
    }
    with connect(url, autocommit=True) as conn:
        marker = read_marker(conn) or {}
        failures = 0
        for name, query in checks.items():
            params = [marker.get("loaded_at", 0)] if "%s" in query else None
            count = conn.execute(query, params).fetchone()[0]
            failures += bool(count)
            say(f"verify: {name:42} {count}")
    if failures:
        raise SystemExit(f"verify: {failures} checks failed")


def ensure_loaded(size: int, *, reload: bool = False, url: str | None = None) -> dict:
    url = url or bench_url()
    if not reload:
        marker = loaded_marker(url, size)
        if marker:
            say(
                f"bench database {database_name(url)} already holds {size:,} cases "
                f"(loaded {datetime.fromtimestamp(marker['loaded_at']):%Y-%m-%d %H:%M}); "
                "not loading (--reload to start over)"
            )
            # The code may have gained migrations since the load (indexes, fields): apply them.
            manage(url, "migrate", "--noinput", "-v", "0")
            return marker
    return load(size, url=url)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="cases to load")
    parser.add_argument("--reload", action="store_true", help="drop the bench database first")
    parser.add_argument("--verify", action="store_true", help="check keys and invariants after")
    args = parser.parse_args(argv)
    ensure_loaded(args.size, reload=args.reload)
    if args.verify:
        verify(bench_url())


if __name__ == "__main__":
    main()
