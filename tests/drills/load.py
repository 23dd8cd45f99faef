"""Virtual users for the load and scale-out drills: members, consultants and supervisors on the API.

Each virtual user is a thread with its own token, doing what its role does all day, with an
exponential think time between requests (mean `think` seconds). Every answer is judged: reads must
be 200; writes 200/201, or 409 when someone else changed the case first (the contract's answer to
a race). Anything else (another status, a refused or dropped connection) is an error.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field

from .harness import Client, Tally, sign_in

AREAS = ["legal", "fiscal", "startup", "hr", "training"]
# Words the demo triage rules know (some cases are triaged at intake, the others by a supervisor).
URGENT_WORDS = ["urgente", "accertamento", "ispezione", "scadenza", ""]
OPEN = {"triage", "unassigned", "assigned", "waiting", "resolved"}


@dataclass
class Persona:
    role: str
    username: str
    cooperative_id: int | None = None
    client: Client | None = None
    cases: dict[int, str] = field(default_factory=dict)  # case id -> status last seen
    tasks: list[dict] = field(default_factory=list)
    available: list[dict] = field(default_factory=list)


class LoadRun:
    def __init__(
        self,
        *,
        ports: list[int],
        personas: list[Persona],
        seconds: float,
        think: float,
        max_requests: int,
        outcomes: dict[str, list[str]],
        consultants_by_area: dict[str, list[str]],
    ):
        self.ports = ports
        self.personas = personas
        self.seconds = seconds
        self.think = think
        self.max_requests = max_requests
        self.outcomes = outcomes
        self.consultants_by_area = consultants_by_area
        self.tally = Tally()
        self.created: set[int] = set()
        self.retried: list[tuple[int, int | None]] = []
        self.requests = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # --- Plumbing ------------------------------------------------------------------------

    def sign_in_all(self) -> None:
        tokens: dict[str, str] = {}
        for persona in self.personas:
            if persona.username not in tokens:
                tokens[persona.username] = sign_in(self.ports[0], persona.username).token
            persona.client = Client(self.ports[0], tokens[persona.username], timeout=120)

    def _budget(self) -> bool:
        with self._lock:
            self.requests += 1
            return self.requests <= self.max_requests

    def call(self, persona, op, method, path, data=None, *, ok=(200,), headers=None):
        if self._stop.is_set() or not self._budget():
            self._stop.set()
            return None
        client = Client(random.choice(self.ports), persona.client.token, timeout=120)
        began = time.monotonic()
        try:
            answer = client.request(method, path, data, headers=headers)
        except OSError as error:
            self.tally.add(op, "ERROR:connection", time.monotonic() - began, error=repr(error))
            return None
        elapsed = time.monotonic() - began
        if answer.status in ok:
            self.tally.add(op, "ok", elapsed)
            return answer
        if answer.status == 409 and method == "POST":
            self.tally.add(op, "409", elapsed)
            return answer
        self.tally.add(
            op,
            f"ERROR:{answer.status}",
            elapsed,
            error=f"{method} {path} as {persona.username}: {answer.status} {answer.body[:300]!r}",
        )
        return answer

    def run(self) -> float:
        threads = [
            threading.Thread(target=self._live, args=(persona, n), daemon=True)
            for n, persona in enumerate(self.personas)
        ]
        began = time.monotonic()
        for t in threads:
            t.start()
        deadline = began + self.seconds
        while time.monotonic() < deadline and not self._stop.is_set():
            time.sleep(0.5)
        self._stop.set()
        for t in threads:
            t.join(180)
        return time.monotonic() - began

    def _live(self, persona: Persona, n: int) -> None:
        rng = random.Random(n)
        act = {"member": self._member, "consultant": self._consultant, "supervisor": self._boss}
        # Users arrive over the first seconds, not all at the same instant.
        time.sleep(rng.uniform(0, min(5.0, self.think * 3)))
        while not self._stop.is_set():
            act[persona.role](persona, rng)
            time.sleep(min(rng.expovariate(1 / self.think), self.think * 5))

    # --- Members -------------------------------------------------------------------------

    def _member(self, p: Persona, rng: random.Random) -> None:
        choice = rng.choices(
            ["list", "detail", "timeline", "open", "answer", "confirm", "reply"],
            weights=[30, 15, 5, 15, 12, 10, 13],
        )[0]
        known = [cid for cid, status in p.cases.items() if status in OPEN]
        if not p.cases and choice != "open":
            choice = "list" if rng.random() < 0.5 else "open"
        if choice == "list":
            answer = self.call(p, "member: case list", "GET", "/api/v1/cases/?page_size=20")
            if answer is not None and answer.status == 200:
                for case in answer.json["results"]:
                    p.cases[case["id"]] = case["status"]
            return
        if choice == "detail":
            case_id = rng.choice(list(p.cases))
            answer = self.call(p, "member: case detail", "GET", f"/api/v1/cases/{case_id}/")
            if answer is not None and answer.status == 200:
                p.cases[case_id] = answer.json["status"]
            return
        if choice == "timeline":
            self.call(
                p,
                "member: timeline",
                "GET",
                f"/api/v1/cases/{rng.choice(list(p.cases))}/events/",
            )
            return
        if choice == "open":
            self._open(p, rng)
            return
        if choice == "answer":
            waiting = [cid for cid, status in p.cases.items() if status == "waiting"]
            if waiting:
                case_id = rng.choice(waiting)
                answer = self.call(
                    p,
                    "member: answer a question",
                    "POST",
                    f"/api/v1/cases/{case_id}/provide-info/",
                    {"body": "Ecco i documenti richiesti."},
                )
                self._seen(p, case_id, answer)
            return
        if choice == "confirm":
            resolved = [cid for cid, status in p.cases.items() if status == "resolved"]
            if resolved:
                case_id = rng.choice(resolved)
                if rng.random() < 0.6:
                    answer = self.call(
                        p, "member: confirm", "POST", f"/api/v1/cases/{case_id}/confirm/"
                    )
                else:
                    answer = self.call(
                        p,
                        "member: reopen",
                        "POST",
                        f"/api/v1/cases/{case_id}/reopen/",
                        {"reason": "Manca ancora una risposta."},
                    )
                self._seen(p, case_id, answer)
            return
        if choice == "reply" and known:
            self.call(
                p,
                "member: reply",
                "POST",
                f"/api/v1/cases/{rng.choice(known)}/messages/",
                {"body": "Grazie, restiamo in attesa.", "internal": False},
                ok=(201,),
            )

    def _open(self, p: Persona, rng: random.Random) -> None:
        key = str(uuid.uuid4())
        body = {
            "cooperative": p.cooperative_id,
            "area": rng.choice(AREAS),
            "subject": f"Richiesta di carico {key[:8]} {rng.choice(URGENT_WORDS)}".strip(),
            "description": "Una richiesta aperta dal drill di carico.",
        }
        answer = self.call(
            p,
            "member: open a case",
            "POST",
            "/api/v1/cases/",
            body,
            ok=(201,),
            headers={"Idempotency-Key": key},
        )
        if answer is None or answer.status != 201:
            return
        case_id = answer.json["id"]
        with self._lock:
            self.created.add(case_id)
        p.cases[case_id] = answer.json["status"]
        if rng.random() < 0.2:  # the client did not see the answer and retries
            again = self.call(
                p,
                "member: open (retry, same key)",
                "POST",
                "/api/v1/cases/",
                body,
                ok=(200,),
                headers={"Idempotency-Key": key},
            )
            if again is None:
                return  # the run ended before the retry went out: nothing to compare
            with self._lock:
                self.retried.append((case_id, again.json.get("id") if again.json else None))

    @staticmethod
    def _seen(p: Persona, case_id: int, answer) -> None:
        if answer is not None and answer.status == 200 and answer.json:
            p.cases[case_id] = answer.json.get("status", p.cases.get(case_id))
        elif answer is not None and answer.status == 409:
            p.cases[case_id] = "?"  # changed meanwhile: look again at the next list

    # --- Consultants ---------------------------------------------------------------------

    def _consultant(self, p: Persona, rng: random.Random) -> None:
        choice = rng.choices(
            ["mine", "available", "claim", "acknowledge", "note", "ask", "resolve", "release"],
            weights=[22, 14, 12, 10, 12, 10, 14, 6],
        )[0]
        work = [t for t in p.tasks if t["step"] == "work" and t["case"]]
        if choice == "mine" or (not p.tasks and choice != "available"):
            answer = self.call(
                p, "consultant: my tasks", "GET", "/api/v1/tasks/?scope=mine&page_size=50"
            )
            if answer is not None and answer.status == 200:
                p.tasks = answer.json["results"]
            return
        if choice == "available":
            answer = self.call(
                p,
                "consultant: available tasks",
                "GET",
                "/api/v1/tasks/?scope=available&page_size=50",
            )
            if answer is not None and answer.status == 200:
                p.available = [t for t in answer.json["results"] if t["step"] == "work"]
            return
        if choice == "claim":
            if p.available:
                task = p.available.pop(rng.randrange(len(p.available)))
                answer = self.call(
                    p, "consultant: claim", "POST", f"/api/v1/tasks/{task['id']}/claim/"
                )
                if answer is not None and answer.status == 200:
                    p.tasks.append(answer.json)
            return
        if not work:
            return
        task = rng.choice(work)
        case = task["case"]
        path = f"/api/v1/cases/{case['id']}"
        if choice == "acknowledge":
            self.call(p, "consultant: acknowledge", "POST", f"{path}/acknowledge/", {})
        elif choice == "note":
            internal = rng.random() < 0.5
            self.call(
                p,
                "consultant: note or reply",
                "POST",
                f"{path}/messages/",
                {"body": "Sto lavorando alla pratica.", "internal": internal},
                ok=(201,),
            )
        elif choice == "ask":
            answer = self.call(
                p,
                "consultant: request info",
                "POST",
                f"{path}/request-info/",
                {"question": "Ci inviate l'ultimo bilancio?"},
            )
            if answer is not None and answer.status == 200:
                p.tasks.remove(task)
        elif choice == "resolve":
            answer = self.call(
                p,
                "consultant: resolve",
                "POST",
                f"{path}/resolve/",
                {
                    "outcome": rng.choice(self.outcomes[case["area"]]),
                    "summary": "Parere inviato alla cooperativa.",
                    "minutes_spent": rng.randint(5, 90),
                },
            )
            if answer is not None and answer.status == 200:
                p.tasks.remove(task)
        elif choice == "release":
            answer = self.call(
                p, "consultant: release", "POST", f"/api/v1/tasks/{task['id']}/release/"
            )
            if answer is not None and answer.status == 200:
                p.tasks.remove(task)

    # --- Supervisors ---------------------------------------------------------------------

    def _boss(self, p: Persona, rng: random.Random) -> None:
        choice = rng.choices(
            ["queue", "triage", "assign", "summary", "report", "list"],
            weights=[25, 30, 10, 15, 10, 10],
        )[0]
        if choice == "queue" or (choice in ("triage", "assign") and not p.available):
            answer = self.call(
                p,
                "supervisor: available tasks",
                "GET",
                "/api/v1/tasks/?scope=available&page_size=50",
            )
            if answer is not None and answer.status == 200:
                p.available = [
                    t
                    for t in answer.json["results"]
                    if t["step"] in ("triage", "assign_manually") and t["case"]
                ]
            return
        if choice == "triage":
            triage = [t for t in p.available if t["step"] == "triage"]
            if triage:
                task = triage[rng.randrange(len(triage))]
                p.available.remove(task)
                self.call(
                    p,
                    "supervisor: triage",
                    "POST",
                    f"/api/v1/cases/{task['case']['id']}/triage/",
                    {"priority": rng.choice(["low", "normal", "high"])},
                )
            return
        if choice == "assign":
            manual = [t for t in p.available if t["step"] == "assign_manually"]
            if manual:
                task = manual[rng.randrange(len(manual))]
                p.available.remove(task)
                self.call(
                    p,
                    "supervisor: assign",
                    "POST",
                    f"/api/v1/cases/{task['case']['id']}/assign/",
                    {"consultant": rng.choice(self.consultants_by_area[task["case"]["area"]])},
                )
            return
        if choice == "summary":
            self.call(p, "supervisor: SLA summary", "GET", "/api/v1/sla/summary/")
        elif choice == "report":
            self.call(
                p,
                "supervisor: cooperative report",
                "GET",
                f"/api/v1/reports/cooperatives/{rng.randint(1, 10)}/",
            )
        else:
            self.call(
                p,
                "supervisor: cases in triage",
                "GET",
                "/api/v1/cases/?status=triage&page_size=20",
            )


def personas_for(users: int, orm_people: dict) -> list[Persona]:
    """`users` virtual users: 60 % members, 30 % consultants, 10 % supervisors, spread over the
    demo accounts (distinct accounts as long as there are enough)."""
    members = orm_people["members"]  # [(username, cooperative_id)]
    consultants = orm_people["consultants"]
    supervisors = orm_people["supervisors"]
    n_boss = max(1, users // 10)
    n_consultants = max(1, users * 3 // 10)
    n_members = max(1, users - n_boss - n_consultants)
    personas = [Persona("member", *members[i % len(members)]) for i in range(n_members)]
    personas += [
        Persona("consultant", consultants[i % len(consultants)]) for i in range(n_consultants)
    ]
    personas += [Persona("supervisor", supervisors[i % len(supervisors)]) for i in range(n_boss)]
    return personas


def people_from_orm() -> tuple[dict, dict[str, list[str]], dict[str, list[str]]]:
    """The demo accounts the virtual users play, the consultants and the outcomes of each area."""
    from casework.models import Consultant, Membership, OutcomeCode, PracticeArea, Supervisor

    members = list(
        Membership.objects.filter(cooperative__membership_status="active", user__is_active=True)
        .order_by("user__username")
        .values_list("user__username", "cooperative_id")
    )
    seen, unique = set(), []
    for username, cooperative_id in members:
        if username not in seen:
            seen.add(username)
            unique.append((username, cooperative_id))
    contract_first = sorted(
        Consultant.objects.filter(is_active=True).values_list("user__username", flat=True),
        key=lambda name: (name.count(".") > 1, name),
    )
    people = {
        "members": unique,
        "consultants": contract_first,
        "supervisors": sorted(Supervisor.objects.values_list("user__username", flat=True)),
    }
    consultants_by_area = {
        area.code: list(
            Consultant.objects.filter(areas=area, is_active=True).values_list(
                "user__username", flat=True
            )
        )
        for area in PracticeArea.objects.all()
    }
    outcomes = {
        area.code: list(
            OutcomeCode.objects.filter(area=area, is_active=True).values_list("code", flat=True)
        )
        for area in PracticeArea.objects.all()
    }
    return people, consultants_by_area, outcomes
