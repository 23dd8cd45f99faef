"""Bulk-load a synthetic federation into the bench database with COPY: `python -m bench.load`.

On top of the demo registry (`seed_demo --cases 0`) it adds 5,000 cooperatives with their people
(legal representatives, referents and members), consultants in every office, and SIZE cases spread
over three years with their messages, events, SLA pauses, ratings, viewflow processes and tasks,
and what the people did around them: who read each case and when, who follows it (confidential
cases included), the e-mails and PEC messages intake took in (and those it ignored or held), the
deadlines of the cases and of the recurring obligations with the reminders sent, time entries by
day, service plans, and the staff's saved views of the case list. Every row is what the product
itself would have written: the SLA instants come from the offices' calendars
(`casework.sla.clocks` and `casework.sla.business_time`), states from
`casework.sla.clocks.case_state`, deadlines' dates from `casework.sla.deadlines` and
`casework.services.obligations`, events' shapes from `casework.events`, PEC certificates from
`casework.inbound.pec`, and the task rows mirror what `workflows.flows.CaseFlow` stores (checked
against the flow's nodes before loading).

Idempotent: a finished load leaves a marker on the database (its comment); with the same SIZE and
loader version nothing is loaded again. `--reload` drops the bench database and starts over.
"""

from __future__ import annotations

import argparse
import functools
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
from zoneinfo import ZoneInfo

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
ROME = "Europe/Rome"  # the federation's time zone (settings.TIME_ZONE): dates are Rome's

# People of a cooperative besides its legal representative: a referent in some, plain members in
# proportion to its size (its weight below), a second legal representative in the largest.
REFERENT = 0.4
MEMBERS_PER_WEIGHT = 1.2
MAX_MEMBERS = 30
# Read state. Whoever acts on a case has read it (`services.transition._activity` marks it);
# the others open it some time after its last activity, or not yet: the share of the cases
# whose last activity was someone else's that the requester (the assignee) has not opened
# since, for open cases and for finished ones. Tuned so that about 30 % of open cases are
# unread by their requester and 20 % by their assignee.
UNREAD_REQUESTER = {True: 0.48, False: 0.05}
UNREAD_ASSIGNEE = {True: 0.9, False: 0.04}
# The events that are "activity" (a public message or a change of status: `_activity` in
# casework/services/); notes, time, ratings, deadlines, sharing and the SLA's own are not.
ACTIVITY_EVENTS = frozenset(
    {
        "opened",
        "triaged",
        "rejected",
        "routed",
        "assigned",
        "released",
        "acknowledged",
        "info_requested",
        "info_provided",
        "replied",
        "resolved",
        "confirmed",
        "auto_closed",
        "cancelled",
        "reopened",
    }
)
# Confidential cases (`Case.confidential`), marked so by the requester when opening them, and
# people of the cooperative who follow a case (`CaseParticipant`).
CONFIDENTIAL_AREAS = ("hr", "legal")
CONFIDENTIAL = 0.03
FOLLOWED_CONFIDENTIAL = 0.5
FOLLOWED_ORDINARY = 0.04
# Mail intake: the member's replies to a case that came by e-mail or PEC that came by mail too,
# and per case the odds of a message intake ignored or held for a supervisor besides.
REPLIED_BY_MAIL = 0.6
STRAY_MAIL = 0.03
PEC_PROVIDER = "pec.aruba.it"
PEC_PROVIDER_NAME = "ARUBA PEC S.p.A."
# Sent e-mails are purged after PURGE_SENT_EMAILS_DAYS (casework.housekeeping): the outgoing
# PEC e-mails of older cases are gone, their receipts' `receipt_for` set null by the purge.
SENT_EMAILS_KEPT_DAYS = 90
# Deadlines added by the consultant to a case: the share of the cases of each area that get
# some (those being worked on far more: the deadline is why they are open), and the terms.
DEADLINE_SHARE = {"legal": 0.3, "fiscal": 0.25, "hr": 0.12, "startup": 0.05, "training": 0.03}
DEADLINE_OPEN_FACTOR = 4.0
DEADLINE_CLOSED_FACTOR = 0.85
# On a case still open the deadlines that keep it open were added in the last weeks.
RECENT_DEADLINE_DAYS = 45
# (kind, term days, term months, title) per area.
DEADLINE_TERMS = {
    "legal": [
        ("judicial", 30, None, "Termine per l'appello"),
        ("judicial", 20, None, "Deposito della memoria difensiva"),
        ("judicial", 60, None, "Ricorso al tribunale"),
        ("judicial", 120, None, "Termine per la costituzione in giudizio"),
        ("judicial", None, 6, "Impugnazione della sentenza"),
        ("judicial_labour", 60, None, "Impugnazione del licenziamento"),
        ("fixed", None, None, "Udienza"),
        ("business", 15, None, "Risposta alla diffida"),
    ],
    "fiscal": [
        ("tax", 30, None, "Versamento a seguito di avviso bonario"),
        ("tax", 60, None, "Ricorso contro la cartella esattoriale"),
        ("tax", 90, None, "Ravvedimento operoso"),
        ("tax", None, 3, "Dichiarazione integrativa"),
        ("tax", None, 12, "Termine per la rettifica della dichiarazione"),
        ("fixed", None, None, "Invio della dichiarazione"),
        ("business", 10, None, "Documenti per il bilancio"),
    ],
    "hr": [
        ("judicial_labour", 60, None, "Impugnazione stragiudiziale"),
        ("judicial_labour", 180, None, "Deposito del ricorso in tribunale"),
        ("business", 5, None, "Giustificazioni del lavoratore"),
        ("business", 15, None, "Comunicazione al centro per l'impiego"),
        ("fixed", None, None, "Scadenza del contratto a termine"),
    ],
    "startup": [
        ("business", 20, None, "Documenti per il bando"),
        ("fixed", None, None, "Chiusura del bando"),
    ],
    "training": [
        ("business", 30, None, "Rendicontazione del piano formativo"),
        ("fixed", None, None, "Presentazione del piano al fondo"),
    ],
}
SHARED_DEADLINE = 0.35
MISSED_DEADLINE = 0.12  # of the past ones; the others were done in time
DONE_EARLY = 0.15  # of the future ones of open cases
DONE_WHEN_CLOSED = 0.65  # of the future ones of finished cases
# When the recurring obligations' generator first ran (casework.services.obligations): today at
# this local hour, or yesterday before it. The cases it opens then count in SIZE, at most this
# share of it; the deadlines beyond the share keep no case and the marker counts them.
GENERATOR_HOUR = 3
OBLIGATION_CASES = 0.1
# Time entries: the consultant's time on most days is billable, some is not.
BILLABLE = 0.85
RECORDED_ALONG = 0.35  # of the resolved cases, whose consultant recorded time while working
ENTRY_NOTES = ("", "", "Telefonata con la cooperativa", "Studio della pratica", "Riunione")
# Service plans: this share of the cooperatives has one every year, some with hours of their
# own for fiscal matters; sized from what their cases used, so every billable entry fits.
PLAN_MODULO, PLAN_REMAINDERS = 5, (1, 3)
PLAN_WITH_AREA_MODULO = 3
# Saved views of the staff case list (`workflows.workspace.cases`: its query string as a dict
# of lists): (name, filters, shared with the owner's first area).
CONSULTANT_VIEWS = [
    ("I miei casi aperti", {"assignee": ["me"], "status": ["assigned", "waiting"]}, False),
    ("Da leggere", {"assignee": ["me"], "unread": ["true"]}, False),
    ("In scadenza", {"assignee": ["me"], "sla": ["at_risk", "breached"], "sort": ["due"]}, False),
    ("In attesa della cooperativa", {"status": ["waiting"], "sort": ["-activity"]}, False),
    ("Urgenti dell'area", {"priority": ["high", "urgent"], "status": ["assigned"]}, True),
]
SUPERVISOR_VIEWS = [
    ("Da smistare", {"status": ["triage", "unassigned"], "sort": ["opened"]}, False),
    ("Fuori SLA", {"sla": ["breached"], "sort": ["due"]}, True),
    ("Non assegnati", {"assignee": ["nobody"], "status": ["unassigned"]}, False),
    ("Arrivati per PEC", {"channel": ["pec"], "sort": ["-opened"]}, False),
]
DEFAULT_VIEW = 0.4

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
# A timestamp literal is its UTC day and its time of day: the days written once each, the
# 86,400 times of day once for all (the loader writes tens of millions of them).
_DAYS: dict[int, str] = {}
_CLOCK = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(86400)]


def ts(epoch: int | None) -> str:
    """An epoch second as a COPY timestamptz literal (UTC)."""
    if epoch is None:
        return NULL
    days, second = divmod(epoch, 86400)
    day = _DAYS.get(days)
    if day is None:
        g = time.gmtime(days * 86400)
        day = _DAYS[days] = f"{g[0]:04d}-{g[1]:02d}-{g[2]:02d}"
    return day + _CLOCK[second]


def num(value) -> str:
    return NULL if value is None else str(value)


def dumps(value: dict) -> str:
    # Plain ASCII JSON: no tab or newline in it; its backslashes (escaped quotes, \u2019...)
    # doubled for COPY.
    if not value:
        return "{}"
    text = json.dumps(value, ensure_ascii=True, separators=(", ", ": "))
    return text.replace("\\", "\\\\") if "\\" in text else text


def copy_text(value: str) -> str:
    """Free text (a description with paragraphs) as a COPY text field."""
    return (
        value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    )


def iso_day(value: date | None) -> str:
    return NULL if value is None else value.isoformat()


def local_day(epoch: int) -> date:
    """The date in Rome of an epoch second (the process runs with TZ = Europe/Rome)."""
    g = time.localtime(epoch)
    return date(g[0], g[1], g[2])


def local_midnight(value: date) -> int:
    """The epoch second at which a date starts in Rome."""
    return int(time.mktime((value.year, value.month, value.day, 0, 0, 0, 0, 0, -1)))


# The product's event builders (casework.events) need a case to build an event on; the loader
# keeps only what they built: kind, before, after and note (the actor is passed apart, by id).
_EVENT_AT = datetime(2000, 1, 1, tzinfo=UTC)


@functools.cache
def _event_case():
    from casework.models import Case

    return Case()


def built(t: int, actor: int | None, make, /, **values) -> tuple:
    """An event as the loader's stories keep it, (t, kind, actor, before, after, note), built
    by the product's own function for its kind."""
    event = make(_event_case(), at=_EVENT_AT, **values)
    return (t, event.kind, actor, event.before, event.after, event.note)


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
class Coop:
    """A cooperative as the cases, deadlines and mail below need it."""

    id: int
    office_id: int
    name: str
    kind: str
    email: str
    founded_on: date | None = None
    last_audit_on: date | None = None
    statements_approved_on: date | None = None
    # (user id, Membership.Role code) of its active people, legal representatives first.
    people: list[tuple[int, str]] = field(default_factory=list)

    def with_role(self, role: str) -> list[int]:
        return [user_id for user_id, their_role in self.people if their_role == role]


@dataclass
class Registry:
    now: int
    offices: dict[int, str]  # id -> code
    calendars: dict[int, object]  # office id -> casework.sla.BusinessCalendar
    areas: list[Area]
    policies: dict[tuple[int, str], tuple[int, int, int, int, int]]  # id, fr s, res s, warn s
    supervisor_id: int
    supervisor_username: str
    # Every supervisor: (user id, all areas, their area ids).
    supervisors: list[tuple[int, bool, list[int]]] = field(default_factory=list)
    # The days before a deadline each area reminds of it (PracticeArea.deadline_reminder_days).
    reminder_days: dict[int, tuple[int, ...]] = field(default_factory=dict)
    cooperatives: list[tuple[int, int, list[int]]] = field(
        default_factory=list
    )  # id, office, members
    weights: list[float] = field(default_factory=list)
    consultants: dict[tuple[int, int], list[tuple[int, str]]] = field(default_factory=dict)
    coops: dict[int, Coop] = field(default_factory=dict)
    # user id -> (username, e-mail, full name), of everyone the cases name.
    people: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    # The mailboxes intake reads: per area the plain one, and the PEC one (id, address).
    mailboxes: dict[int, tuple[int, str]] = field(default_factory=dict)
    pec_mailbox: tuple[int, str] = (0, "")

    @property
    def today(self) -> date:
        return local_day(self.now)


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
    from django.contrib.auth import get_user_model

    from casework.models import (
        Office,
        OutcomeCode,
        PracticeArea,
        SlaPolicy,
        Specialty,
        Supervisor,
    )
    from casework.models.registry import parse_day_list
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
    reg = Registry(
        now=now,
        offices=offices,
        calendars=calendars,
        areas=areas,
        policies=policies,
        supervisor_id=supervisor.user_id,
        supervisor_username=supervisor.user.username,
    )
    for row in Supervisor.objects.prefetch_related("areas").order_by("id"):
        reg.supervisors.append(
            (row.user_id, row.all_areas, sorted(area.pk for area in row.areas.all()))
        )
    for area_id, days in PracticeArea.objects.values_list("id", "deadline_reminder_days"):
        reg.reminder_days[area_id] = tuple(parse_day_list(days))
    for user_id, username, email, first, last in get_user_model().objects.values_list(
        "id", "username", "email", "first_name", "last_name"
    ):
        reg.people[user_id] = (username, email, f"{first} {last}".strip())
    return reg


# --- Cooperatives, members and consultants ---------------------------------------------------


def tax_code(serial: int) -> str:
    from casework.validators import partita_iva_check_digit

    first_ten = f"9{serial:06d}{888:03d}"
    return first_ten + str(partita_iva_check_digit(first_ten))


def load_people(conn, writer: CopyWriter, reg: Registry, size: int, rng: random.Random) -> None:
    """5,000 cooperatives with their people, and consultants for every office."""
    from django.contrib.auth.hashers import make_password

    from casework.demo import _registry_dates

    def next_id(table: str) -> int:
        return conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]

    password = make_password("sportello-demo")  # the demo password; hashed once for all
    joined_at = reg.now - 4 * 365 * 86400
    joined = ts(joined_at)
    users = Table(
        "auth_user",
        "id, password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined",
        next_id("auth_user"),
    )
    cooperatives = Table(
        "casework_cooperative",
        "id, name, tax_code, membership_status, joined_on, city, email, office_id, sector_id, "
        "kind, founded_on, last_audit_on, statements_approved_on",
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
        email = f"{username}@example.org"
        users.add(str(user_id), password, "f", username, first, last, email, "f", "t", joined)
        reg.people[user_id] = (username, email, f"{first} {last}")
        return user_id, username

    office_by_code = {code: office_id for office_id, code in reg.offices.items()}
    sectors = [row[0] for row in conn.execute("SELECT id FROM casework_sector ORDER BY id")]
    first_bench_cooperative = cooperatives.next_id
    office_codes = list(OFFICE_WEIGHTS)
    office_cum = list(accumulate(OFFICE_WEIGHTS.values()))
    today = reg.today
    for number in range(1, COOPERATIVES + 1):
        coop_id = cooperatives.take_id()
        office_id = office_by_code[rng.choices(office_codes, cum_weights=office_cum)[0]]
        surname = rng.choice(SURNAMES)
        words = rng.choice(list(COOP_KINDS))
        name = f"{surname} {number:04d} {words}"
        joined_on = date(2025, 1, 1) - timedelta(days=rng.randint(0, 40 * 365))
        kind = COOP_KINDS[words]
        # The dates its recurring obligations count from, drawn as the demo draws its own.
        dates = _registry_dates(f"bench-{number:04d}", joined_on, kind, today)
        email = f"coop{number:04d}@example.org"
        cooperatives.add(
            str(coop_id),
            name,
            tax_code(number),
            "active",
            joined_on.isoformat(),
            reg.offices[office_id],
            email,
            str(office_id),
            str(rng.choice(sectors)),
            kind,
            dates["founded_on"].isoformat(),
            dates["last_audit_on"].isoformat(),
            dates["statements_approved_on"].isoformat(),
        )
        # A heavy tail: a few large cooperatives open many cases, most open a handful; the
        # larger ones have more people.
        weight = rng.lognormvariate(0.0, 1.0)
        roles = [("", "legal_rep")]
        if rng.random() < REFERENT:
            roles.append(("b", "referent"))
        if weight > 8 and rng.random() < 0.5:
            roles.append(("c", "legal_rep"))
        plain = min(MAX_MEMBERS, int(weight * MEMBERS_PER_WEIGHT * rng.uniform(0.5, 1.5)))
        roles += [(f"m{k:02d}", "member") for k in range(1, plain + 1)]
        coop = Coop(coop_id, office_id, name, kind, email, **dates)
        members = []
        for position, (suffix, role) in enumerate(roles):
            member_id, _ = user(f"bench.socio.{number:04d}{suffix}")
            memberships.add(
                str(memberships.take_id()),
                role,
                ts(joined_at + position),
                str(coop_id),
                str(member_id),
                "t",
            )
            members.append(member_id)
            coop.people.append((member_id, role))
        coop.people.sort(key=lambda person: person[1] != "legal_rep")
        reg.coops[coop_id] = coop
        reg.cooperatives.append((coop_id, office_id, members))
        reg.weights.append(weight)

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

    # The demo cooperatives take part too, with their demo people (socio.alfa sees cases).
    rows = conn.execute(
        "SELECT c.id, c.office_id, c.name, c.kind, c.email, c.founded_on, c.last_audit_on, "
        "c.statements_approved_on, array_agg(m.user_id ORDER BY m.user_id), "
        "array_agg(m.role ORDER BY m.user_id) "
        "FROM casework_cooperative c JOIN casework_membership m ON m.cooperative_id = c.id "
        "WHERE c.membership_status = 'active' AND c.id < %s AND m.is_active "
        "GROUP BY c.id ORDER BY c.id",
        [first_bench_cooperative],
    ).fetchall()
    for coop_id, office_id, name, kind, email, founded, audited, approved, ids, roles in rows:
        coop = Coop(coop_id, office_id, name, kind, email, founded, audited, approved)
        coop.people = sorted(zip(ids, roles, strict=True), key=lambda p: p[1] != "legal_rep")
        reg.coops[coop_id] = coop
        reg.cooperatives.append((coop_id, office_id, list(ids)))
        reg.weights.append(rng.lognormvariate(0.0, 1.0))
    say(
        f"registry: {COOPERATIVES} cooperatives, {memberships.total} members "
        f"({sum(len(c.with_role('member')) for c in reg.coops.values()):,} plain members), "
        f"{consultants.total} consultants in {len(reg.offices)} offices "
        f"(+ {len(rows)} demo cooperatives)"
    )


def load_mailboxes(reg: Registry) -> None:
    """The mailboxes the e-mail and PEC cases came through: one per area and one PEC mailbox
    (no area: its new cases go to the supervisors' triage). Disabled: nothing polls hosts that
    do not exist during a benchmark."""
    from casework.models import Mailbox

    for area in reg.areas:
        mailbox, _created = Mailbox.objects.get_or_create(
            name=f"bench-{area.code}",
            defaults={
                "address": f"{area.code}@federazione.example",
                "host": "imap.federazione.example",
                "username": f"{area.code}@federazione.example",
                "area_id": area.id,
                "is_enabled": False,
            },
        )
        reg.mailboxes[area.id] = (mailbox.pk, mailbox.address)
    pec, _created = Mailbox.objects.get_or_create(
        name="bench-pec",
        defaults={
            "address": "sportello@pec.federazione.example",
            "host": f"imaps.{PEC_PROVIDER}",
            "username": "sportello@pec.federazione.example",
            "is_pec": True,
            "smtp_host": f"smtps.{PEC_PROVIDER}",
            "smtp_username": "sportello@pec.federazione.example",
            "is_enabled": False,
        },
    )
    reg.pec_mailbox = (pec.pk, pec.address)


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


@dataclass(frozen=True)
class ObligationDeadline:
    """A deadline the recurring obligations' generator writes (`services.obligations`)."""

    coop: Coop
    obligation: object  # casework.models.RecurringObligation
    occurrence: date
    due_on: date
    title: str
    trigger_date: date
    term_days: int | None

    def in_case_window(self, generated_on: date) -> bool:
        """Due within the days before it that the generator opens its case in."""
        return self.due_on <= generated_on + timedelta(days=self.obligation.open_case_days_before)


def generator_run(now: int) -> int:
    """When the obligations' generator ran (its first run: the catalogue is seed_demo's)."""
    today = local_day(now)
    run = local_midnight(today) + GENERATOR_HOUR * 3600
    return (
        run
        if run + 3600 <= now
        else local_midnight(today - timedelta(days=1)) + GENERATOR_HOUR * 3600
    )


def obligation_deadlines(reg: Registry, generated: int) -> list[ObligationDeadline]:
    """Every deadline the generator's run at `generated` wrote: each occurrence of an active
    obligation, for each active cooperative of its kinds with its date set, falling due from
    that day on within the next twelve months (`services.obligations._planned`, whose pure
    functions compute the occurrences, the dates and the titles here)."""
    from casework.models import RecurringObligation
    from casework.services import obligations as generator

    run_day = local_day(generated)
    start = run_day - generator._MOVE_SLACK
    end = generator.terms.add_months(run_day, generator.WINDOW_MONTHS)
    found = []
    catalogue = RecurringObligation.objects.filter(is_active=True).order_by(
        "position", "name", "pk"
    )
    for obligation in catalogue:
        generator.obligation_check(obligation)
        within = obligation.rule == RecurringObligation.Rule.WITHIN
        fixed = obligation.anchor == RecurringObligation.Anchor.FIXED
        business = obligation.deadline_kind == "business"
        dues: dict[tuple, date] = {}
        titles: dict[date, str] = {}
        for coop_id in sorted(reg.coops):
            coop = reg.coops[coop_id]
            if obligation.cooperative_kinds and coop.kind not in obligation.cooperative_kinds:
                continue
            anchor = None if fixed else getattr(coop, obligation.anchor)
            if not fixed and anchor is None:
                continue
            for occurrence in generator.occurrences(obligation, anchor, start=start, end=end):
                key = (
                    occurrence,
                    anchor if within else None,
                    coop.office_id if business else None,
                )
                due = dues.get(key)
                if due is None:
                    calendar = reg.calendars[coop.office_id] if business else None
                    due = dues[key] = generator.due_on(
                        obligation, occurrence, anchor, calendar=calendar
                    )
                if due < run_day:
                    continue
                title = titles.get(occurrence)
                if title is None:
                    title = titles[occurrence] = generator.deadline_title(obligation, occurrence)
                found.append(
                    ObligationDeadline(
                        coop=coop,
                        obligation=obligation,
                        occurrence=occurrence,
                        due_on=due,
                        title=title,
                        trigger_date=anchor if within else occurrence,
                        term_days=obligation.within_days if within else None,
                    )
                )
    return found


class CaseFactory:
    """Generates one case's rows in every table, consistent with its story and the clocks."""

    def __init__(self, reg: Registry, conn, rng: random.Random, *, generated: int):
        from django.conf import settings
        from django.utils import translation
        from django.utils.translation import gettext

        from casework import events, mail
        from casework.inbound import pec
        from casework.services import mail_intake, obligations
        from casework.sla import clocks
        from casework.sla import deadlines as terms

        self.reg = reg
        self.conn = conn
        self.rng = rng
        self.tz = ZoneInfo(ROME)
        self.case_state = clocks.case_state
        self.E = events
        self.pec = pec
        self.reading = mail_intake.Reading
        self.terms = terms
        self.obligations = obligations
        self.id_domain = mail.id_domain()
        # When the recurring obligations' generator ran (the deadlines it wrote, the cases it
        # opened), and the day the missed-deadline sweep last ran on.
        self.generated = generated
        with translation.override(settings.LANGUAGE_CODE):
            # What intake writes on mail it holds for a supervisor (the worker's language).
            self.unknown_sender = gettext(
                "No member or cooperative has the address %(address)s: a supervisor decides."
            )
        self.language = settings.LANGUAGE_CODE
        self.area_by_id = {area.id: area for area in reg.areas}
        self.due_cache: dict[tuple, date] = {}
        self.opened_events: dict[tuple, tuple] = {}
        self.mail_serial = 0
        # The demo's service plans (seed_demo writes this year's): what each has left, so that
        # the time of the cooperatives' bench cases stays within them (else not billable).
        self.plan_left: dict[tuple[int, int], dict[int | None, int]] = {}
        for coop_id, year, plan_hours, own in conn.execute(
            "SELECT p.cooperative_id, p.year, p.hours_included, "
            "array(SELECT array[a.area_id, a.hours_included * 60] FROM casework_serviceplanarea a "
            "WHERE a.plan_id = p.id) FROM casework_serviceplan p"
        ):
            left = {None: int((plan_hours or 0) * 60)}
            left.update({int(area_id): int(minutes) for area_id, minutes in own})
            self.plan_left[(coop_id, year)] = left
        self.read_counts: dict[tuple[str, bool], list[int]] = {}
        self.obligations_waiting = 0
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
        self.reads = Table(
            "casework_caseread", "id, read_at, case_id, user_id", next_id("casework_caseread")
        )
        self.participants = Table(
            "casework_caseparticipant",
            "id, created_at, added_by_id, case_id, user_id",
            next_id("casework_caseparticipant"),
        )
        self.inbound = Table(
            "casework_inboundemail",
            "id, header_message_id, status, ignored_reason, received_at, from_address, "
            "from_name, subject, raw, size, is_pec, certified, decided_at, decision_note, error, "
            "attempts, case_id, cooperative_id, decided_by_id, message_id, receipt_for_id, "
            "mailbox_id",
            next_id("casework_inboundemail"),
        )
        self.notifications = Table(
            "casework_notification",
            "id, email, kind, subject, body, dedupe_key, status, attempts, last_error, "
            "created_at, sent_at, case_id, recipient_id, context, header_message_id, "
            "in_reply_to, message_id, mailbox_id",
            next_id("casework_notification"),
        )
        self.deadlines = Table(
            "casework_deadline",
            "id, title, kind, trigger_date, term_days, term_months, due_on, shared, status, "
            "note, done_at, missed_at, occurrence, created_at, updated_at, area_id, case_id, "
            "cooperative_id, created_by_id, done_by_id, responsible_id, obligation_id",
            next_id("casework_deadline"),
        )
        self.reminders = Table(
            "casework_deadlinereminder",
            "id, days_before, sent_at, deadline_id",
            next_id("casework_deadlinereminder"),
        )
        self.entries = Table(
            "casework_timeentry",
            "id, day, minutes, note, billable, created_at, case_id, consultant_id",
            next_id("casework_timeentry"),
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
            self.reads,
            self.participants,
            self.inbound,
            self.notifications,
            self.deadlines,
            self.reminders,
            self.entries,
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

    def make(self, created: int, obligation: ObligationDeadline | None = None) -> int:
        """All rows of one case opened at `created`; returns its id. `obligation`: the deadline
        of a recurring obligation the generator opened this case for."""
        reg, rng = self.reg, self.rng
        now = reg.now
        if obligation is None:
            coop_id, office_id, members = reg.cooperatives[
                bisect(self.coop_cum, rng.random() * self.coop_cum[-1])
            ]
            requester = rng.choice(members)
            area = self.area_by_code[
                self.area_codes[bisect(self.area_cum, rng.random() * self.area_cum[-1])]
            ]
            channel = rng.choices(CHANNELS, cum_weights=CHANNEL_WEIGHTS)[0]
        else:
            # Opened by Sportello for the cooperative's legal representative, on the API.
            coop_id, office_id = obligation.coop.id, obligation.coop.office_id
            requester = obligation.coop.people[0][0]
            area = self.area_by_id[obligation.obligation.area_id]
            channel = "api"
        coop = reg.coops[coop_id]
        clock = self.clocks[office_id]
        # Requesters mark a case confidential as they open it.
        confidential = (
            obligation is None and area.code in CONFIDENTIAL_AREAS and rng.random() < CONFIDENTIAL
        )
        priority = self.priorities[bisect(self.priority_cum, rng.random() * self.priority_cum[-1])]
        policy_id, fr_target, res_target, fr_warn_s, res_warn_s = reg.policies[(area.id, priority)]
        specialty = (
            rng.choice(area.specialties) if area.specialties and rng.random() < 0.5 else None
        )
        age_days = (now - created) / 86400
        status = self._status(age_days)
        # The PEC mailbox has no area: a supervisor triages what it opens.
        triage_by_supervisor = (
            status in ("triage", "rejected") or rng.random() < SUPERVISOR_TRIAGE or channel == "pec"
        )
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
        if obligation is not None:
            subject = obligation.title
            description = self.obligation_description(obligation)
        outcome = rng.choice(area.outcomes) if status in ("resolved", "closed") else None
        minutes = rng.choice((30, 45, 60, 90, 120, 240)) if outcome else 0
        resolution_minutes = minutes
        events: list[tuple] = []  # (t, kind, actor, before, after, note)
        msgs: list[tuple] = []  # (t, author, internal, body)
        initial = "triage" if triage_by_supervisor else "unassigned"
        # By phone or at the desk, staff open the case on the cooperative's behalf.
        on_behalf = channel in ("phone", "desk")
        kind, before, after, note = self.opened_event(initial, priority, channel, on_behalf)
        events.append(
            (t0, kind, reg.supervisor_id if on_behalf else requester, before, after, note)
        )
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
                # Its entry and its total are written below, in the order of time.
                events.append((t, "time_recorded", assignee, {}, spent, ""))
            elif choice < 0.7:
                body = rng.choice(NOTE_LINES)
                msgs.append((t, staff, True, body))
                events.append((t, "note_added", staff, {}, {}, ""))
            else:
                msgs.append((t, requester, False, rng.choice(MEMBER_LINES)))
                events.append((t, "replied", requester, {}, {}, ""))
        if outcome and rng.random() < RECORDED_ALONG:
            # Time recorded day by day while working the case, besides the resolution's own.
            for _ in range(rng.randint(1, 3)):
                t = rng.randint(start_work, resolved_at) if resolved_at > start_work else t0
                spent = rng.choice((15, 30, 45, 60, 90, 120))
                minutes += spent
                events.append((t, "time_recorded", assignee, {}, spent, ""))
        wanted_messages = rng.randint(3, 6)
        while len(msgs) < wanted_messages:
            t = rng.randint(t0, end)
            if assignee and rng.random() < 0.5:
                msgs.append((t, assignee, rng.random() < 0.3, rng.choice(CONSULTANT_LINES)))
            else:
                msgs.append((t, requester, False, rng.choice(MEMBER_LINES)))
        del msgs[wanted_messages:]

        events.sort(key=lambda e: e[0])
        msgs.sort(key=lambda m: m[0])
        updated = max(events[-1][0], msgs[-1][0])
        # What makes the case unread for the others: its last public message or change of
        # status (`services.transition._activity`).
        last_activity = max(
            max(e[0] for e in events if e[1] in ACTIVITY_EVENTS),
            max((m[0] for m in msgs if not m[2]), default=t0),
        )
        total = self.record_time(events, case_id, coop_id, area.id, t0, resolution_minutes)
        if total != minutes:
            raise AssertionError(f"case {case_id}: {total} minutes in entries, {minutes} spent")
        written_msgs = []  # (id, t, author, internal)
        for t, author, internal, body in msgs:
            message_id = self.messages.take_id()
            written_msgs.append((message_id, t, author, internal))
            self.messages.add(
                str(message_id),
                body,
                "t" if internal else "f",
                ts(t),
                num(author),
                cid,
            )
        reference = self.reference(area, created)

        # --- What happened around the story: sharing, mail, deadlines --------------------------
        if confidential:
            events.append(
                built(
                    t0,
                    requester,
                    self.E.confidentiality_changed,
                    actor=None,
                    old_confidential=False,
                    confidential=True,
                )
            )
        followers = []
        if obligation is None:
            followers = self.follow(events, case_id, coop, requester, confidential, t0, end)
        if channel in ("email", "pec"):
            self.mail_in(
                events, case_id, reference, subject, area, requester, channel, t0, written_msgs
            )
        if channel == "pec":
            self.pec_receipts(events, case_id, reference, subject, requester, written_msgs)
        if obligation is None and rng.random() < STRAY_MAIL:
            self.stray_mail(coop, requester, reference, subject, rng.randint(t0 - 86400, t0))
        cooperative_side = {requester, *followers, *coop.with_role("legal_rep")}
        if obligation is not None:
            routed_to = None
            if routed and not manual:
                routed_to = released_from if release else assignee
            self.obligation_deadline(
                obligation,
                events,
                case_id=case_id,
                case_opened=t0,
                responsible=routed_to,
                cooperative_side=cooperative_side,
            )
        elif assignee is not None:
            share = DEADLINE_SHARE.get(area.code, 0.05) * (
                DEADLINE_OPEN_FACTOR if status in OPEN_STATUSES else DEADLINE_CLOSED_FACTOR
            )
            count = int(share) + (rng.random() < share % 1)
            added_from, added_until = start_work, end
            if status in OPEN_STATUSES:
                # Staff add them while the case waits too, not only when it moves.
                added_until = now - 60
                added_from = max(start_work, added_until - RECENT_DEADLINE_DAYS * 86400)
            if added_until <= added_from:
                count = 0
            for _ in range(count):
                self.case_deadline(
                    events,
                    case_id=case_id,
                    coop=coop,
                    area=area,
                    assignee=assignee,
                    final=status not in OPEN_STATUSES,
                    since=added_from,
                    until=added_until,
                    closed_at=closed_at,
                    cooperative_side=cooperative_side,
                )
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
        self.read_state(
            case_id,
            events,
            written_msgs,
            last_activity=last_activity,
            requester=requester,
            assignee=assignee,
            followers=followers,
            is_open=status in OPEN_STATUSES,
            since=t0,
        )
        self.cases.add(
            cid,
            reference,
            subject,
            copy_text(description),
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
            channel,
            ts(last_activity),
            "t" if confidential else "f",
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

    def opened_event(self, status: str, priority: str, channel: str, on_behalf: bool) -> tuple:
        """The `opened` event's kind, before, after and note (a few dozen variants, each built
        once)."""
        key = (status, priority, channel, on_behalf)
        found = self.opened_events.get(key)
        if found is None:
            _t, kind, _actor, before, after, note = built(
                0,
                None,
                self.E.opened,
                actor=None,
                status=status,
                priority=priority,
                suggested_priority=None,
                channel=channel,
                opened_by=self.reg.supervisor_username if on_behalf else None,
            )
            found = self.opened_events[key] = (kind, before, after, note)
        return found

    # --- Time ------------------------------------------------------------------------------

    def record_time(
        self, events: list, case_id: int, coop_id: int, area_id: int, opened: int, resolution: int
    ) -> int:
        """The case's time entries, in the order of time: the resolution's minutes and each
        time recorded (its event gets the entry and the running total); returns the total."""
        rng = self.rng
        opened_day = local_day(opened)
        total = 0
        for index, (t, kind, actor, _before, after, _note) in enumerate(events):
            if kind == "resolved" and resolution:
                # `case_resolve` records its minutes billable.
                self.entry(
                    case_id, actor, t, local_day(t), resolution, "", coop_id, area_id, billable=True
                )
                total += resolution
            elif kind == "time_recorded" and isinstance(after, int):
                # Recorded on the day, or a day or two later for the day it was spent.
                day = max(local_day(t) - timedelta(days=rng.choice((0, 0, 0, 1, 2))), opened_day)
                note = rng.choice(ENTRY_NOTES)
                entry_id = self.entry(case_id, actor, t, day, after, note, coop_id, area_id)
                total += after
                events[index] = built(
                    t,
                    actor,
                    self.E.time_recorded,
                    actor=None,
                    minutes=after,
                    total=total,
                    note=note,
                    entries=[entry_id],
                )
        return total

    def entry(
        self,
        case_id: int,
        consultant: int,
        t: int,
        day: date,
        minutes: int,
        note: str,
        coop_id: int,
        area_id: int,
        *,
        billable: bool | None = None,
    ) -> int:
        """One time entry; billable when the consultant says so and a plan of the demo (the
        only ones there while loading) still has room for it (`services.hours._allocate`)."""
        if billable is None:
            billable = self.rng.random() < BILLABLE
        left = self.plan_left.get((coop_id, day.year))
        if billable and left is not None:
            bucket = area_id if area_id in left else None
            if left[bucket] >= minutes:
                left[bucket] -= minutes
            else:
                billable = False  # beyond the plan and no estimate: recorded as not billable
        entry_id = self.entries.take_id()
        self.entries.add(
            str(entry_id),
            day.isoformat(),
            str(minutes),
            note,
            "t" if billable else "f",
            ts(t),
            str(case_id),
            str(consultant),
        )
        return entry_id

    # --- Who follows the case and who read it ------------------------------------------------

    def follow(
        self,
        events: list,
        case_id: int,
        coop: Coop,
        requester: int,
        confidential: bool,
        opened: int,
        end: int,
    ) -> list[int]:
        """People of the cooperative added to follow the case (`services.sharing`), by its
        requester or a legal representative; returns them."""
        rng = self.rng
        candidates = [person for person, _role in coop.people if person != requester]
        if not candidates or rng.random() >= (
            FOLLOWED_CONFIDENTIAL if confidential else FOLLOWED_ORDINARY
        ):
            return []
        chosen = rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2))))
        for person in chosen:
            at = rng.randint(opened + 60, end) if end > opened + 60 else end
            adders = [requester] + [rep for rep in coop.with_role("legal_rep") if rep != person]
            added_by = requester if rng.random() < 0.7 else rng.choice(adders)
            self.participants.add(
                str(self.participants.take_id()), ts(at), str(added_by), str(case_id), str(person)
            )
            events.append(
                built(
                    at,
                    added_by,
                    self.E.participant_added,
                    actor=None,
                    participant=person,
                    username=self.reg.people[person][0],
                )
            )
        return chosen

    def read_state(
        self,
        case_id: int,
        events: list,
        msgs: list,
        *,
        last_activity: int,
        requester: int,
        assignee: int | None,
        followers: list[int],
        is_open: bool,
        since: int,
    ) -> None:
        """Who read the case when (`CaseRead`): whoever acted on it read it then (the services
        mark it, and the page was open); the requester, the assignee and the followers opened it
        some time after its last activity, or have not yet (`UNREAD_*`)."""
        rng, now = self.rng, self.reg.now
        reads: dict[int, int] = {}
        for t, _kind, actor, *_rest in events:
            if actor is not None and t > reads.get(actor, 0):
                reads[actor] = t
        for _id, t, author, _internal in msgs:
            if author is not None and t > reads.get(author, 0):
                reads[author] = t
        people = [("requester", requester, UNREAD_REQUESTER[is_open])]
        if assignee is not None:
            people.append(("assignee", assignee, UNREAD_ASSIGNEE[is_open]))
        people += [("follower", person, UNREAD_REQUESTER[is_open]) for person in followers]
        for role, person, unread_share in people:
            counts = self.read_counts.setdefault((role, is_open), [0, 0])
            counts[1] += 1
            if reads.get(person, 0) >= last_activity:
                continue  # they made the last activity themselves
            if rng.random() < unread_share:
                counts[0] += 1
                if person not in reads and last_activity > since and rng.random() < 0.5:
                    reads[person] = rng.randint(since, last_activity - 1)  # a look before
                continue
            later = int(rng.expovariate(1 / 86400)) if rng.random() < 0.8 else 0
            reads[person] = last_activity + 30 + later
        for person, at in reads.items():
            self.reads.add(
                str(self.reads.take_id()), ts(min(at, now - 1)), str(case_id), str(person)
            )

    # --- Mail --------------------------------------------------------------------------------

    def header_id(self, domain: str) -> str:
        self.mail_serial += 1
        return f"{self.mail_serial:x}.{self.rng.getrandbits(64):016x}@{domain}"

    def raw_path(self, mailbox_id: int, at: int) -> str:
        """Where intake keeps the original (`models.inbound.inbound_path`: the take's month, in
        UTC); the file itself is not written."""
        g = time.gmtime(at)
        return f"inbound/{g[0]:04d}/{g[1]:02d}/{mailbox_id}/{self.rng.getrandbits(128):032x}.eml"

    def certificate(self, kind: str, at: int, **values) -> tuple[str, dict, object]:
        """A PEC provider's certified data (daticert.xml) as intake keeps it: the envelope's
        identifier, the JSON of `Reading.certified`, and the certificate."""
        rng = self.rng
        stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(at))
        identifier = (
            f"opec{rng.randint(210000, 219999)}.{stamp}.{rng.randint(10000, 99999)}"
            f".{rng.randint(100, 999)}.1.53@{PEC_PROVIDER}"
        )
        certificate = self.pec.Daticert(
            tipo=kind,
            errore="nessuno",
            gestore_emittente=PEC_PROVIDER_NAME,
            data=datetime.fromtimestamp(at, self.tz),
            identificativo=identifier,
            **values,
        )
        receipt = kind in self.pec.RECEIPTS
        envelope = self.pec.PecEnvelope(
            kind=self.pec.RECEIPT if receipt else self.pec.TRANSPORT,
            receipt=kind if receipt else None,
            inner=None,
            certificate=certificate,
            riferimento_message_id=values.get("msgid") if receipt else None,
        )
        reading = self.reading(
            raw=b"",
            message_id=identifier,
            from_address="",
            from_name="",
            subject="",
            envelope=envelope,
        )
        return identifier, reading.certified, certificate

    def mail_in(
        self,
        events: list,
        case_id: int,
        reference: str,
        subject: str,
        area: Area,
        requester: int,
        channel: str,
        opened: int,
        msgs: list,
    ) -> None:
        """The e-mail (or PEC) that opened the case, and the requester's replies that came by
        mail (`services.mail_intake._open` and `_answer`), each with its `email_received`."""
        rng = self.rng
        is_pec = channel == "pec"
        mailbox_id, mailbox_address = (
            self.reg.pec_mailbox if is_pec else self.reg.mailboxes[area.id]
        )
        _username, address, name = self.reg.people[requester]
        taken = [(opened, None, subject)]
        for message_id, t, author, internal in msgs:
            if author == requester and not internal and t > opened:
                if rng.random() < REPLIED_BY_MAIL:
                    taken.append((t, message_id, f"Re: [{reference}] {subject}"))
        for at, message_id, title in taken:
            inbound_id = self.inbound.take_id()
            inner_id = self.header_id(address.rpartition("@")[2])
            certified, certificate, header, pec_kind = {}, None, inner_id, None
            if is_pec:
                header, certified, certificate = self.certificate(
                    self.pec.TRANSPORT,
                    at,
                    mittente=address,
                    destinatari=(self.pec.Recipient(mailbox_address, "certificato"),),
                    risposte=address,
                    oggetto=title,
                    msgid=inner_id,
                )
                pec_kind = self.pec.TRANSPORT
            self.inbound.add(
                str(inbound_id),
                header,
                "replied" if message_id else "opened",
                "",
                ts(at),
                address,
                name,
                title,
                self.raw_path(mailbox_id, at),
                str(rng.randint(3000, 400000)),
                "t" if is_pec else "f",
                dumps(certified),
                NULL,
                "",
                "",
                "1",
                str(case_id),
                NULL,
                NULL,
                num(message_id),
                NULL,
                str(mailbox_id),
            )
            events.append(
                built(
                    at,
                    requester,
                    self.E.email_received,
                    actor=None,
                    inbound=inbound_id,
                    from_address=address,
                    message_id=header,
                    subject=title,
                    message=message_id,
                    pec=pec_kind,
                    certified_at=certificate.data if certificate else None,
                    certified_id=certificate.identificativo if certificate else None,
                    certified_sender=certificate.mittente if certificate else None,
                    pec_problems=[],
                    follows=None,
                )
            )

    def pec_receipts(
        self, events: list, case_id: int, reference: str, subject: str, requester: int, msgs: list
    ) -> None:
        """A PEC case is answered by PEC: each public message of the staff left from the PEC
        mailbox (`Notification`, purged once old) and its provider sent back an acceptance and
        a delivery receipt (`services.mail_intake._take_receipt`)."""
        rng, now = self.rng, self.reg.now
        mailbox_id, mailbox_address = self.reg.pec_mailbox
        _username, address, _name = self.reg.people[requester]
        title = f"[{reference}] {subject}"
        for message_id, t, author, internal in msgs:
            if internal or author is None or author == requester:
                continue
            sent = t + rng.randint(5, 90)
            if sent >= now - 300:
                continue
            notification_id = self.notifications.take_id()
            header = f"{rng.getrandbits(128):032x}.{reference}@{self.id_domain}"
            kept = t >= now - SENT_EMAILS_KEPT_DAYS * 86400
            if kept:
                self.notifications.add(
                    str(notification_id),
                    address,
                    "message_from_staff",
                    title,
                    "",
                    f"message_from_staff:{message_id}:{requester}",
                    "sent",
                    "1",
                    "",
                    ts(t),
                    ts(sent),
                    str(case_id),
                    str(requester),
                    "{}",
                    header,
                    "",
                    str(message_id),
                    str(mailbox_id),
                )
            at = sent
            for receipt in (self.pec.ACCEPTANCE, self.pec.DELIVERY):
                at += rng.randint(1, 4) if receipt == self.pec.ACCEPTANCE else rng.randint(5, 120)
                if at >= now - 1:
                    break
                delivered = receipt == self.pec.DELIVERY
                identifier, certified, certificate = self.certificate(
                    receipt,
                    at,
                    mittente=mailbox_address,
                    destinatari=(self.pec.Recipient(address, "esterno"),),
                    risposte=mailbox_address,
                    oggetto=title,
                    msgid=header,
                    ricevuta="completa" if delivered else None,
                    consegna=address if delivered else None,
                )
                inbound_id = self.inbound.take_id()
                words = "CONSEGNA" if delivered else "ACCETTAZIONE"
                self.inbound.add(
                    str(inbound_id),
                    identifier,
                    "receipt",
                    "",
                    ts(at),
                    f"posta-certificata@{PEC_PROVIDER}",
                    "",
                    f"{words}: {title}",
                    self.raw_path(mailbox_id, at),
                    str(rng.randint(4000, 9000)),
                    "t",
                    dumps(certified),
                    NULL,
                    "",
                    "",
                    "1",
                    str(case_id),
                    NULL,
                    NULL,
                    NULL,
                    str(notification_id) if kept else NULL,
                    str(mailbox_id),
                )
                events.append(
                    built(
                        at,
                        None,
                        self.E.pec_receipt,
                        inbound=inbound_id,
                        receipt=receipt,
                        failed=False,
                        certified_at=certificate.data,
                        recipient=address,
                        notification=notification_id,
                        error=None,
                    )
                )

    def stray_mail(self, coop: Coop, requester: int, reference: str, subject: str, at: int):
        """A message intake did not make a case of: an auto-reply or a bounce to one of its
        e-mails, its own mail come back, or mail from a stranger held for a supervisor, which
        one discards once it is a few days old (`classify.why_ignored`, `_hold`,
        `mail_discard`)."""
        rng, reg = self.rng, self.reg
        at = min(at, reg.now - 60)
        mailbox_id, mailbox_address = reg.mailboxes[rng.choice(list(reg.mailboxes))]
        _username, address, name = reg.people[requester]
        kind = rng.choices(("auto_reply", "bounce", "own", "unmatched"), weights=(40, 20, 10, 30))[
            0
        ]
        status, error, decided_at, decided_by, note = "ignored", "", None, None, ""
        if kind == "auto_reply":
            sender, title = address, f"Risposta automatica: [{reference}] {subject}"
        elif kind == "bounce":
            sender, name = "mailer-daemon@mx.example.org", "Mail Delivery System"
            title = "Undelivered Mail Returned to Sender"
        elif kind == "own":
            sender, name, title = (
                f"noreply@{self.id_domain}",
                "Sportello",
                f"[{reference}] {subject}",
            )
        else:
            kind, status = "", "unmatched"
            sender = f"info@studio{rng.randint(1, 900)}.example.com"
            name, title = (
                "Studio professionale",
                rng.choice(
                    ("Richiesta di informazioni", "Proposta di collaborazione", "Offerta servizi")
                ),
            )
            error = self.unknown_sender % {"address": sender}
            if at < reg.now - 5 * 86400:
                status, decided_by = "discarded", reg.supervisor_id
                decided_at = at + rng.randint(3600, 4 * 86400)
                note = "Non riguarda una cooperativa della federazione."
        self.inbound.add(
            str(self.inbound.take_id()),
            self.header_id(sender.rpartition("@")[2]),
            status,
            kind,
            ts(at),
            sender,
            name,
            title,
            self.raw_path(mailbox_id, at),
            str(rng.randint(2000, 60000)),
            "f",
            "{}",
            ts(decided_at),
            note,
            error,
            "1",
            NULL,
            NULL,
            num(decided_by),
            NULL,
            NULL,
            str(mailbox_id),
        )

    # --- Deadlines ---------------------------------------------------------------------------

    def due_on(self, kind: str, trigger: date, days, months, office_id: int) -> date:
        """`casework.sla.deadlines` on the office's calendar, as `services.deadlines`
        computes it (cached: many deadlines share a trigger and a term)."""
        key = (kind, trigger, days, months, office_id if kind == "business" else None)
        found = self.due_cache.get(key)
        if found is None:
            calendar = self.reg.calendars[office_id] if kind == "business" else None
            found = self.terms.deadline(
                kind, trigger, days=days, months=months, calendar=calendar
            ).due
            self.due_cache[key] = found
        return found

    def case_deadline(
        self,
        events: list,
        *,
        case_id: int,
        coop: Coop,
        area: Area,
        assignee: int,
        final: bool,
        since: int,
        until: int,
        closed_at: int | None,
        cooperative_side: set[int],
    ) -> None:
        """A deadline the assignee added to the case (`services.deadlines.deadline_add`), done,
        missed or still open, with its reminders."""
        rng, now, today = self.rng, self.reg.now, self.reg.today
        created = rng.randint(since, until)
        created_day = local_day(created)
        kind, days, months, title = rng.choice(
            DEADLINE_TERMS.get(area.code, DEADLINE_TERMS["startup"])
        )
        if kind == "fixed":
            trigger = created_day + timedelta(days=rng.randint(3, 150))
        else:
            trigger = created_day - timedelta(days=rng.randint(0, 20))
        due = self.due_on(kind, trigger, days, months, coop.office_id)
        if due <= created_day:
            trigger = created_day  # the act came today: the term runs from it
            due = self.due_on(kind, trigger, days, months, coop.office_id)
        status, done_at, missed_at = "open", None, None
        if due >= today:
            if rng.random() < (DONE_WHEN_CLOSED if final else DONE_EARLY):
                latest = closed_at if final and closed_at else now - 60
                status, done_at = (
                    "done",
                    created + int((max(latest, created) - created) * rng.random()),
                )
        elif rng.random() < MISSED_DEADLINE:
            # The sweep (every 15 minutes) marks it missed once its day has passed.
            status = "missed"
            missed_at = min(local_midnight(due + timedelta(days=1)) + rng.randint(20, 900), now - 1)
        else:
            latest = min(local_midnight(due + timedelta(days=1)) - 1, now - 60)
            status, done_at = "done", created + int((max(latest, created) - created) * rng.random())
        self.deadline_row(
            events,
            case_id=case_id,
            coop=coop,
            area_id=area.id,
            title=title,
            kind=kind,
            trigger=trigger,
            term_days=days,
            term_months=months,
            due=due,
            shared=rng.random() < SHARED_DEADLINE,
            status=status,
            done_at=done_at,
            missed_at=missed_at,
            created=created,
            created_by=assignee,
            responsible=assignee,
            reminded_from=created,
            cooperative_side=cooperative_side,
        )

    def obligation_deadline(
        self,
        spec: ObligationDeadline,
        events: list | None,
        *,
        case_id: int | None,
        case_opened: int | None = None,
        responsible: int | None = None,
        cooperative_side: set[int] = frozenset(),
    ) -> None:
        """A deadline of a recurring obligation as the generator wrote it, and as the sweep
        left it (missed when its day passed); with its case when the generator opened one
        (`services.obligations._open_case`: responsible the case's assignee then)."""
        status, missed_at = "open", None
        if spec.due_on < self.reg.today:
            status = "missed"
            missed_at = min(
                local_midnight(spec.due_on + timedelta(days=1)) + self.rng.randint(20, 900),
                self.reg.now - 1,
            )
        obligation = spec.obligation
        self.deadline_row(
            events,
            case_id=case_id,
            coop=spec.coop,
            area_id=obligation.area_id,
            title=spec.title,
            kind=obligation.deadline_kind,
            trigger=spec.trigger_date,
            term_days=spec.term_days,
            term_months=None,
            due=spec.due_on,
            shared=obligation.shared,
            status=status,
            done_at=None,
            missed_at=missed_at,
            created=self.generated,
            created_by=None,
            responsible=responsible,
            reminded_from=case_opened,
            cooperative_side=cooperative_side,
            obligation_id=obligation.pk,
            occurrence=spec.occurrence,
            added_at=case_opened,
        )

    def deadline_row(
        self,
        events: list | None,
        *,
        case_id: int | None,
        coop: Coop,
        area_id: int,
        title: str,
        kind: str,
        trigger: date,
        term_days: int | None,
        term_months: int | None,
        due: date,
        shared: bool,
        status: str,
        done_at: int | None,
        missed_at: int | None,
        created: int,
        created_by: int | None,
        responsible: int | None,
        reminded_from: int | None,
        cooperative_side: set[int],
        obligation_id: int | None = None,
        occurrence: date | None = None,
        added_at: int | None = None,
    ) -> None:
        """One deadline; on a case, its events (added, each reminder sent, done or missed) and
        its reminders (`deadline_reminders.sweep_deadlines`)."""
        deadline_id = self.deadlines.take_id()
        opened = ts(created)
        self.deadlines.add(
            str(deadline_id),
            title,
            kind,
            trigger.isoformat(),
            num(term_days),
            num(term_months),
            due.isoformat(),
            "t" if shared else "f",
            status,
            "",
            ts(done_at),
            ts(missed_at),
            iso_day(occurrence),
            opened,
            ts(done_at or missed_at) if done_at or missed_at else opened,
            str(area_id),
            num(case_id),
            str(coop.id),
            num(created_by),
            num(responsible if done_at else None),
            num(responsible),
            num(obligation_id),
        )
        if case_id is None:
            return
        people = self.reg.people
        shown = SimpleNamespace(
            pk=deadline_id,
            title=title,
            kind=kind,
            due_on=due,
            shared=shared,
            responsible_id=responsible,
            responsible=SimpleNamespace(username=people[responsible][0]) if responsible else None,
            status="open",
        )
        events.append(
            built(
                added_at or created,
                created_by,
                self.E.deadline_added,
                actor=None,
                deadline=shown,
            )
        )
        recipients = (1 if responsible else 0) + (
            len(cooperative_side - {responsible}) if shared else 0
        )
        until = done_at or missed_at or self.reg.now
        for days_before, sent_at in self.reminders_of(area_id, due, reminded_from, until):
            self.reminders.add(
                str(self.reminders.take_id()), str(days_before), ts(sent_at), str(deadline_id)
            )
            events.append(
                built(
                    sent_at,
                    None,
                    self.E.deadline_reminded,
                    deadline=shown,
                    days_before=days_before,
                    recipients=recipients,
                )
            )
        if status == "done":
            shown.status = "done"
            events.append(
                built(
                    done_at,
                    responsible,
                    self.E.deadline_done,
                    actor=None,
                    deadline=shown,
                    old_status="open",
                )
            )
        elif status == "missed":
            shown.status = "missed"
            events.append(built(missed_at, None, self.E.deadline_missed, deadline=shown))

    def reminders_of(self, area_id: int, due: date, since: int, until: int) -> list[tuple]:
        """The reminders the sweep sent for a deadline open from `since` to `until`: at its
        first sweep the one of the days already fallen closest to the date, then each later one
        on its day, a few minutes after midnight (`deadline_reminders.due_reminder`)."""
        schedule = self.reg.reminder_days.get(area_id, ())
        left = (due - local_day(since)).days
        if not schedule or left < 0:
            return []
        sent = []
        fallen = [days for days in schedule if days >= left]
        if fallen:
            sent.append((min(fallen), since + self.rng.randint(60, 900)))
        for days in sorted((d for d in schedule if d < left), reverse=True):
            sent.append(
                (days, local_midnight(due - timedelta(days=days)) + self.rng.randint(20, 900))
            )
        return [(days, at) for days, at in sent if at < until and at < self.reg.now]

    def obligation_description(self, spec: ObligationDeadline) -> str:
        """What the generator writes on the case it opens (`obligations.case_description`)."""
        from django.utils import translation

        deadline = SimpleNamespace(
            cooperative=SimpleNamespace(name=spec.coop.name),
            due_on=spec.due_on,
            trigger_date=spec.trigger_date,
            occurrence=spec.occurrence,
        )
        with translation.override(self.language):
            return self.obligations.case_description(deadline, spec.obligation)

    def timeline(self, case_id: int, actor: int, since: int, count: int) -> None:
        """Pad one case's timeline to `count` events (the detail scenario reads it whole): time
        recorded after its last event, each with its entry and the case's running total."""
        rng = self.rng
        row = self.conn.execute(
            "SELECT minutes_spent, cooperative_id, area_id, "
            "(SELECT extract(epoch FROM max(created_at))::bigint FROM casework_caseevent "
            "WHERE case_id = %s) FROM casework_case WHERE id = %s",
            [case_id, case_id],
        ).fetchone()
        total, coop_id, area_id, last = row
        since = max(since, last or since)
        instants = sorted(rng.randint(since, self.reg.now - 60) for _ in range(count))
        for t in instants:
            entry_id = self.entry(case_id, actor, t, local_day(t), 15, "", coop_id, area_id)
            total += 15
            _t, kind, _actor, before, after, note = built(
                t,
                actor,
                self.E.time_recorded,
                actor=None,
                minutes=15,
                total=total,
                note="",
                entries=[entry_id],
            )
            self.events.add(
                str(self.events.take_id()),
                kind,
                ts(t),
                dumps(before),
                dumps(after),
                note,
                str(actor),
                str(case_id),
            )
        self.conn.execute(
            "UPDATE casework_case SET minutes_spent = %s WHERE id = %s", [total, case_id]
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
    "casework_caseread",
    "casework_caseparticipant",
    "casework_mailbox",
    "casework_inboundemail",
    "casework_notification",
    "casework_recurringobligation",
    "casework_deadline",
    "casework_deadlinereminder",
    "casework_serviceplan",
    "casework_serviceplanarea",
    "casework_savedview",
    "casework_userprofile",
    "viewflow_process",
    "workflows_caseprocess",
    "viewflow_task",
    "viewflow_task_previous",
)
# Tables written row by row in id order whose other indexes are built once after the COPY, as
# the cases' are (kept up during it, the (user, case) and date ones come out bloated).
INDEXED_AFTER = (
    "casework_caseread",
    "casework_caseparticipant",
    "casework_inboundemail",
    "casework_deadline",
    "casework_timeentry",
)


def secondary_indexes(conn, table: str) -> list[tuple[str, str]]:
    """The table's indexes other than its primary key and unique ones: (name, definition)."""
    return conn.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = %s::regclass AND NOT indisprimary AND NOT indisunique ORDER BY 1",
        [table],
    ).fetchall()


def copy_now(conn, tables: list[Table]) -> None:
    """Write what the tables hold on this connection, at once (after the writer's thread)."""
    with conn.cursor() as cursor:
        for table in tables:
            drained = table.drain()
            if drained:
                name, columns, lines = drained
                with cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                    copy.write("\n".join(lines) + "\n")


def case_instants(
    size: int, now: int, rng: random.Random, waiting: list[ObligationDeadline], generated: int
) -> tuple[list[tuple[int, ObligationDeadline | None]], int]:
    """When each case was opened, oldest first, with the obligation's deadline of those the
    generator opened (at its run, one after another, in the order of their dates), at most
    `OBLIGATION_CASES` of SIZE; and how many of those deadlines that left without a case."""
    generator_cases = sorted(waiting, key=lambda spec: spec.due_on)[: int(size * OBLIGATION_CASES)]
    opened = [(generated + index, spec) for index, spec in enumerate(generator_cases)]
    ordinary = [(t, None) for t in opening_instants(size - len(opened), now, rng)]
    return sorted(ordinary + opened, key=lambda pair: pair[0]), len(waiting) - len(opened)


def load_plans(conn, reg: Registry) -> None:
    """This share of the cooperatives has a service plan every year of the cases: its hours
    the billable time its cases used plus a margin, in tens of hours, some with hours of their
    own for fiscal matters, so that every entry recorded fits it (`services.hours._allocate`
    refuses time beyond a plan without an estimate)."""
    fiscal = next(area.id for area in reg.areas if area.code == "fiscal")
    first_year = conn.execute(
        "SELECT extract(year FROM min(created_at) AT TIME ZONE %s)::int FROM casework_case",
        [ROME],
    ).fetchone()[0]
    conn.execute(
        "CREATE TEMP TABLE bench_plan_usage ON COMMIT DROP AS "
        "WITH used AS (SELECT c.cooperative_id, extract(year FROM e.day)::int AS year, "
        " sum(e.minutes) FILTER (WHERE e.billable) AS used, "
        " sum(e.minutes) FILTER (WHERE e.billable AND c.area_id = %s) AS fiscal "
        " FROM casework_timeentry e JOIN casework_case c ON c.id = e.case_id GROUP BY 1, 2) "
        "SELECT co.id AS cooperative_id, y.year, co.id %% %s = 0 AS own_fiscal, "
        " coalesce(u.used, 0) AS used, coalesce(u.fiscal, 0) AS fiscal "
        "FROM casework_cooperative co "
        "CROSS JOIN generate_series(%s::int, %s::int) AS y(year) "
        "LEFT JOIN used u ON u.cooperative_id = co.id AND u.year = y.year "
        "WHERE co.membership_status = 'active' AND co.id %% %s = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM casework_serviceplan p "
        " WHERE p.cooperative_id = co.id AND p.year = y.year)",
        [
            fiscal,
            PLAN_WITH_AREA_MODULO,
            first_year,
            reg.today.year,
            PLAN_MODULO,
            list(PLAN_REMAINDERS),
        ],
    )
    # Hours: 25 % over what was used, rounded up to tens (fives for an area), and 10 more.
    conn.execute(
        "INSERT INTO casework_serviceplan (cooperative_id, year, hours_included, "
        "effective_from, effective_until, note) "
        "SELECT cooperative_id, year, "
        " 10 * ceil((used - CASE WHEN own_fiscal THEN fiscal ELSE 0 END) * 1.25 / 600.0) + 10, "
        " make_date(year, 1, 1), make_date(year, 12, 31), '' FROM bench_plan_usage"
    )
    conn.execute(
        "INSERT INTO casework_serviceplanarea (plan_id, area_id, hours_included) "
        "SELECT p.id, %s, 5 * ceil(u.fiscal * 1.25 / 300.0) + 5 FROM bench_plan_usage u "
        "JOIN casework_serviceplan p ON p.cooperative_id = u.cooperative_id AND p.year = u.year "
        "WHERE u.own_fiscal",
        [fiscal],
    )


def load_saved_views(conn, reg: Registry, rng: random.Random) -> tuple[int, int]:
    """A few saved views of the staff case list per consultant and supervisor, some shared with
    their area, and for some the default view `/work/cases/` opens (`UserProfile`)."""
    offices = {office_id: code for office_id, code in reg.offices.items()}
    codes = {area.id: area.code for area in reg.areas}
    consultants: dict[int, tuple[str, list[int]]] = {}
    for (office_id, area_id), people in sorted(reg.consultants.items()):
        for user_id, _username in people:
            consultants.setdefault(user_id, (offices[office_id], []))[1].append(area_id)
    owners: list[tuple[int, list[int], str | None, list]] = [
        (user_id, areas, office, CONSULTANT_VIEWS)
        for user_id, (office, areas) in sorted(consultants.items())
    ]
    for user_id, all_areas, area_ids in reg.supervisors:
        areas = [area.id for area in reg.areas] if all_areas else area_ids
        owners.append((user_id, areas, None, SUPERVISOR_VIEWS))
    views = Table(
        "casework_savedview",
        "id, name, filters, created_at, owner_id, shared_with_area_id",
        conn.execute("SELECT coalesce(max(id), 0) + 1 FROM casework_savedview").fetchone()[0],
    )
    defaults = []
    for user_id, areas, office, catalogue in owners:
        chosen = rng.sample(catalogue, rng.randint(2, min(4, len(catalogue))))
        first_view = None
        for name, filters, shared in chosen:
            filters = dict(filters)
            area_id = areas[0] if areas else None
            if shared and area_id is not None:
                filters["area"] = [codes[area_id]]
            elif office is not None and rng.random() < 0.3:
                filters["office"] = [office]
            view_id = views.take_id()
            first_view = first_view or view_id
            views.add(
                str(view_id),
                name,
                dumps(filters),
                ts(reg.now - rng.randint(86400, 365 * 86400)),
                str(user_id),
                str(area_id) if shared and area_id is not None else NULL,
            )
        if rng.random() < DEFAULT_VIEW:
            defaults.append((user_id, first_view))
    copy_now(conn, [views])
    for user_id, view_id in defaults:
        conn.execute(
            "INSERT INTO casework_userprofile (user_id, language, notify, timeline_order, "
            "default_view_id, calendar_token) VALUES (%s, 'it', 'each', 'newest', %s, '') "
            "ON CONFLICT (user_id) DO UPDATE SET default_view_id = excluded.default_view_id",
            [user_id, view_id],
        )
    return views.total, len(defaults)


def load(size: int, *, url: str, seed: int = SEED) -> dict:
    create_database(url, drop=True)
    manage(url, "migrate", "--noinput", "-v", "0")
    # The demo registry (offices, areas, policies, calendars, demo people, the recurring
    # obligations' catalogue) is the bench's too; seed_demo refuses to write without DEBUG,
    # which the bench's own settings leave off.
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
        later_indexes = [
            index for table in INDEXED_AFTER for index in secondary_indexes(conn, table)
        ]
        for name, _definition in case_indexes + later_indexes:
            conn.execute(f"DROP INDEX {name}")
        conn.commit()
        writer = CopyWriter(url)
        load_people(conn, writer, reg, size, rng)
        load_mailboxes(reg)
        generated = generator_run(now)
        planned = obligation_deadlines(reg, generated)
        run_day = local_day(generated)
        waiting = [spec for spec in planned if spec.in_case_window(run_day)]
        instants, caseless_waiting = case_instants(size, now, rng, waiting, generated)
        say(
            f"recurring obligations: {len(planned):,} deadlines generated, {len(waiting):,} due "
            f"within their case window ({len(waiting) - caseless_waiting:,} cases opened for them"
            + (f", {caseless_waiting:,} left without: SIZE too small)" if caseless_waiting else ")")
        )
        factory = CaseFactory(reg, conn, rng, generated=generated)
        say(f"cases: generating {size:,} (chunks of {CHUNK:,}), rows written by COPY")
        timeline_case = None
        last_report = time.monotonic()
        opened_for = set()
        for index, (created, obligation) in enumerate(instants, start=1):
            case_id = factory.make(created, obligation)
            if obligation is not None:
                opened_for.add(id(obligation))
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
            if timeline_case is None and obligation is None and created > now - 20 * 86400:
                timeline_case = case_id  # decided below: the first recent assigned case
        # The obligations' deadlines whose case is not open yet (or never will be here).
        for spec in planned:
            if id(spec) not in opened_for:
                factory.obligation_deadline(spec, None, case_id=None)
        writer.put(factory.tables)
        writer.close()
        say(
            f"cases: {size:,} written in {time.monotonic() - started:,.0f} s "
            f"({factory.reads.total:,} reads, {factory.participants.total:,} participants, "
            f"{factory.inbound.total:,} e-mails in, {factory.deadlines.total:,} deadlines, "
            f"{factory.reminders.total:,} reminders, {factory.entries.total:,} time entries); "
            "finishing"
        )
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
            for _name, definition in case_indexes + later_indexes:
                settling.execute(definition)
        say(
            f"cases' table rewritten and {len(case_indexes) + len(later_indexes)} indexes built "
            f"in {time.monotonic() - indexing:,.0f} s"
        )

        # The detail scenario's case: an assigned case with exactly 100 events.
        row = conn.execute(
            "SELECT c.id, c.assignee_id, extract(epoch FROM c.created_at)::bigint, "
            "(SELECT count(*) FROM casework_caseevent e WHERE e.case_id = c.id) "
            "FROM casework_case c WHERE c.status = 'assigned' AND c.id >= %s "
            "AND (SELECT count(*) FROM casework_caseevent e WHERE e.case_id = c.id) <= %s "
            "ORDER BY c.id LIMIT 1",
            [timeline_case or 0, TIMELINE_EVENTS],
        ).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT c.id, c.assignee_id, extract(epoch FROM c.created_at)::bigint, "
                "(SELECT count(*) FROM casework_caseevent e WHERE e.case_id = c.id) "
                "FROM casework_case c WHERE c.status = 'assigned' ORDER BY c.id DESC LIMIT 1"
            ).fetchone()
        timeline_case, actor, since, have = row
        factory.timeline(timeline_case, actor, since, TIMELINE_EVENTS - have)
        copy_now(conn, [factory.events, factory.entries])

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
        load_plans(conn, reg)
        views, defaults = load_saved_views(conn, reg, rng)
        say(f"service plans sized from the time recorded; {views} saved views, {defaults} default")
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
        unread = {
            f"{role} ({'open' if is_open else 'finished'})": round(100 * n / max(total, 1), 1)
            for (role, is_open), (n, total) in sorted(factory.read_counts.items())
        }
        marker = {
            "size": size,
            "version": LOADER_VERSION,
            "seed": seed,
            "loaded_at": now,
            "load_seconds": seconds,
            "timeline_case": timeline_case,
            "statuses": dict(sorted(factory.status_counts.items())),
            "unread_percent": unread,
            "obligations_generated_at": generated,
            "obligation_deadlines_without_their_case": caseless_waiting,
            "rows": counts,
        }
        write_marker(conn, marker)
    total_rows = sum(counts.values())
    say(f"load done in {seconds:,.0f} s: {total_rows:,} rows ({total_rows / seconds:,.0f} rows/s)")
    for table, count in counts.items():
        say(f"  {table:28} {count:>12,}")
    say("  statuses: " + ", ".join(f"{k} {v:,}" for k, v in marker["statuses"].items()))
    say("  unread %: " + ", ".join(f"{k} {v}" for k, v in unread.items()))
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
        # Read state: `last_activity_at` and `CaseRead.read_at` are what `selectors.is_unread`
        # compares.
        "public message after the last activity": "SELECT count(*) FROM casework_case c WHERE "
        "c.last_activity_at < (SELECT max(m.created_at) FROM casework_message m "
        "WHERE m.case_id = c.id AND NOT m.internal)",
        "read of an unknown case or person": "SELECT count(*) FROM casework_caseread r WHERE "
        "NOT EXISTS (SELECT 1 FROM casework_case c WHERE c.id = r.case_id) OR NOT EXISTS "
        "(SELECT 1 FROM auth_user u WHERE u.id = r.user_id)",
        "read in the future": "SELECT count(*) FROM casework_caseread "
        "WHERE read_at > to_timestamp(%s)",
        "read before the case was opened": "SELECT count(*) FROM casework_caseread r "
        "JOIN casework_case c ON c.id = r.case_id WHERE r.read_at < c.created_at",
        # Who follows a case (services.sharing.check_participant).
        "participant from another cooperative": "SELECT count(*) FROM casework_caseparticipant "
        "p JOIN casework_case c ON c.id = p.case_id WHERE NOT EXISTS (SELECT 1 FROM "
        "casework_membership m WHERE m.user_id = p.user_id AND m.cooperative_id = "
        "c.cooperative_id AND m.is_active)",
        "participant who is the requester": "SELECT count(*) FROM casework_caseparticipant p "
        "JOIN casework_case c ON c.id = p.case_id WHERE p.user_id = c.requester_id",
        "requester not of the case's cooperative": "SELECT count(*) FROM casework_case c WHERE "
        "NOT EXISTS (SELECT 1 FROM casework_membership m WHERE m.user_id = c.requester_id AND "
        "m.cooperative_id = c.cooperative_id)",
        # Mail intake.
        "e-mail of an unknown case or message": "SELECT count(*) FROM casework_inboundemail i "
        "WHERE (i.case_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM casework_case c WHERE "
        "c.id = i.case_id)) OR (i.message_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
        "casework_message m WHERE m.id = i.message_id AND m.case_id = i.case_id))",
        "e-mail or PEC case without its e-mail": "SELECT count(*) FROM casework_case c WHERE "
        "c.channel IN ('email', 'pec') AND NOT EXISTS (SELECT 1 FROM casework_inboundemail i "
        "WHERE i.case_id = c.id AND i.status = 'opened')",
        "opened by e-mail, not an e-mail case": "SELECT count(*) FROM casework_inboundemail i "
        "JOIN casework_case c ON c.id = i.case_id WHERE i.status = 'opened' AND "
        "c.channel NOT IN ('email', 'pec')",
        "PEC on a mailbox that is not PEC": "SELECT count(*) FROM casework_inboundemail i JOIN "
        "casework_mailbox b ON b.id = i.mailbox_id WHERE i.is_pec AND NOT b.is_pec",
        "receipt of an unknown e-mail": "SELECT count(*) FROM casework_inboundemail i WHERE "
        "(i.receipt_for_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM casework_notification n "
        "WHERE n.id = i.receipt_for_id AND n.case_id = i.case_id)) OR (i.status = 'receipt' "
        "AND i.case_id IS NULL)",
        # Deadlines (the sweep marks those whose day passed missed every 15 minutes).
        "open deadline past its day": "SELECT count(*) FROM casework_deadline WHERE "
        "status = 'open' AND due_on < (to_timestamp(%s) AT TIME ZONE 'Europe/Rome')::date",
        "deadline done or missed without when": "SELECT count(*) FROM casework_deadline WHERE "
        "(status = 'done' AND (done_at IS NULL OR done_by_id IS NULL)) OR "
        "(status = 'missed' AND missed_at IS NULL) OR (status = 'open' AND "
        "(done_at IS NOT NULL OR missed_at IS NOT NULL))",
        "deadline of another cooperative or area": "SELECT count(*) FROM casework_deadline d "
        "JOIN casework_case c ON c.id = d.case_id WHERE c.cooperative_id <> d.cooperative_id "
        "OR c.area_id <> d.area_id",
        "obligation deadline without occurrence": "SELECT count(*) FROM casework_deadline "
        "WHERE (obligation_id IS NULL) <> (occurrence IS NULL)",
        "reminder not on its area's days": "SELECT count(*) FROM casework_deadlinereminder r "
        "JOIN casework_deadline d ON d.id = r.deadline_id JOIN casework_practicearea a ON "
        "a.id = d.area_id WHERE NOT r.days_before::text = ANY(string_to_array("
        "replace(a.deadline_reminder_days, ' ', ''), ','))",
        "reminder of no case, or after the day": "SELECT count(*) FROM casework_deadlinereminder "
        "r JOIN casework_deadline d ON d.id = r.deadline_id WHERE d.case_id IS NULL OR "
        "(r.sent_at AT TIME ZONE 'Europe/Rome')::date > d.due_on OR r.sent_at < d.created_at",
        # Hours (services.hours: minutes_spent is the sum of the entries; billable time within
        # a plan fits what the plan includes, or an accepted estimate covers it).
        "minutes spent not the sum of the entries": "SELECT count(*) FROM casework_case c WHERE "
        "c.minutes_spent <> coalesce((SELECT sum(e.minutes) FROM casework_timeentry e "
        "WHERE e.case_id = c.id), 0)",
        "time entry before its case or in the future": "SELECT count(*) FROM casework_timeentry "
        "e JOIN casework_case c ON c.id = e.case_id WHERE e.day < (c.created_at AT TIME ZONE "
        "'Europe/Rome')::date OR e.day > (to_timestamp(%s) AT TIME ZONE 'Europe/Rome')::date",
        "billable time beyond a service plan": "WITH own AS (SELECT plan_id, area_id, "
        "hours_included * 60 AS included FROM casework_serviceplanarea), used AS (SELECT p.id "
        "AS plan_id, o.area_id AS bucket, sum(e.minutes) AS minutes FROM casework_serviceplan p "
        "JOIN casework_case c ON c.cooperative_id = p.cooperative_id JOIN casework_timeentry e "
        "ON e.case_id = c.id AND e.day BETWEEN p.effective_from AND p.effective_until AND "
        "e.billable AND e.estimate_id IS NULL LEFT JOIN own o ON o.plan_id = p.id AND "
        "o.area_id = c.area_id GROUP BY 1, 2) SELECT count(*) FROM used u JOIN "
        "casework_serviceplan p ON p.id = u.plan_id LEFT JOIN own o ON o.plan_id = u.plan_id "
        "AND o.area_id = u.bucket WHERE u.minutes > coalesce(CASE WHEN u.bucket IS NULL THEN "
        "p.hours_included * 60 ELSE o.included END, 0)",
        # Saved views (workflows.workspace.cases.saved_views_for).
        "view shared with an area not its owner's": "SELECT count(*) FROM casework_savedview v "
        "WHERE v.shared_with_area_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
        "casework_consultant k JOIN casework_consultant_areas ka ON ka.consultant_id = k.id "
        "WHERE k.user_id = v.owner_id AND ka.practicearea_id = v.shared_with_area_id) AND NOT "
        "EXISTS (SELECT 1 FROM casework_supervisor s WHERE s.user_id = v.owner_id AND "
        "(s.all_areas OR EXISTS (SELECT 1 FROM casework_supervisor_areas sa WHERE "
        "sa.supervisor_id = s.id AND sa.practicearea_id = v.shared_with_area_id)))",
        "default view not its owner's": "SELECT count(*) FROM casework_userprofile p JOIN "
        "casework_savedview v ON v.id = p.default_view_id WHERE v.owner_id <> p.user_id",
    }
    # What the loader may leave as it is (too few cases for what the generator opens): shown.
    notes = {
        "obligation deadlines in their case window without a case": "SELECT count(*) FROM "
        "casework_deadline d JOIN casework_recurringobligation o ON o.id = d.obligation_id "
        "WHERE d.case_id IS NULL AND d.status = 'open' AND d.due_on <= (to_timestamp(%s) AT "
        "TIME ZONE 'Europe/Rome')::date + o.open_case_days_before",
    }
    with connect(url, autocommit=True) as conn:
        marker = read_marker(conn) or {}
        failures = 0
        for name, query in (checks | notes).items():
            params = [marker.get("loaded_at", 0)] * query.count("%s") or None
            count = conn.execute(query, params).fetchone()[0]
            if name in checks:
                failures += bool(count)
                say(f"verify: {name:42} {count}")
            else:
                say(f"verify: {name:42} {count} (noted, not a failure)")
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
