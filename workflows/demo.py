"""Demo cases, driven through the real process so that every state, event and task is genuine."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from casework.errors import CaseError
from casework.models import (
    Case,
    Channel,
    Consultant,
    Cooperative,
    Membership,
    Notification,
    OutcomeCode,
    PracticeArea,
    Supervisor,
)
from casework.sla import watch

from . import process
from .flows import CaseFlow

SEED = 2026
DEMO_MARK = "[demo]"
# What cooperatives ask, per area: (subject, description).
REQUESTS = {
    "legal": [
        ("Modifica dello statuto", "Dobbiamo adeguare lo statuto alla riforma del Terzo settore."),
        ("Contratto di appalto con il Comune", "Chiediamo un parere sulle clausole di recesso."),
        ("Recesso di un socio", "Un socio lavoratore chiede di recedere: quali passaggi?"),
        ("Sfratto della sede operativa", "Il proprietario ha notificato lo sfratto, è urgente."),
        ("Regolamento interno", "Vorremmo aggiornare il regolamento dei soci lavoratori."),
    ],
    "fiscal": [
        ("Dichiarazione IVA annuale", "Dubbi sulla detrazione per gli acquisti promiscui."),
        ("Ristorni ai soci", "Come trattare fiscalmente i ristorni deliberati dall'assemblea?"),
        ("Scadenza F24 e ravvedimento", "Abbiamo saltato una scadenza, come regolarizzare?"),
        ("Agevolazioni per cooperative sociali", "Possiamo applicare l'IVA al 5%?"),
        ("Bilancio e riserve indivisibili", "Domande sulla destinazione degli utili."),
    ],
    "startup": [
        ("Costituzione di una nuova cooperativa", "Sette soci vogliono costituire una coop."),
        ("Business plan", "Ci serve aiuto per il piano economico-finanziario."),
        ("Bando regionale per nuove imprese", "Requisiti del bando e scadenze."),
        ("Workers buyout", "I dipendenti vogliono rilevare l'azienda in crisi."),
    ],
    "hr": [
        ("Applicazione del CCNL", "Quale contratto collettivo applicare ai nuovi assunti?"),
        ("Ispezione dell'Ispettorato del lavoro", "Abbiamo ricevuto un verbale di ispezione."),
        ("Turni e straordinari", "Come organizzare i turni nel servizio di assistenza?"),
        ("Provvedimento disciplinare", "Procedura corretta per una contestazione."),
    ],
    "training": [
        ("Corso sicurezza sul lavoro", "Formazione obbligatoria per dieci nuovi soci."),
        ("Fondo interprofessionale", "Come presentare un piano formativo finanziato?"),
        ("Formazione per il CdA", "Percorso per i nuovi amministratori."),
    ],
}
ANSWERS = [
    "Grazie, allego quanto richiesto.",
    "Ecco il verbale dell'assemblea.",
    "Le informazioni richieste sono nel documento inviato per e-mail.",
]
# How the demo cases came: weights per channel; staff open those by phone, desk, e-mail or PEC.
CHANNELS = [
    (Channel.PORTAL, 55),
    (Channel.API, 5),
    (Channel.PHONE, 18),
    (Channel.EMAIL, 12),
    (Channel.DESK, 6),
    (Channel.PEC, 4),
]
# Where each demo case stops: weights of the final state.
STAGES = [
    ("triage", 4),
    ("unassigned", 3),
    ("assigned", 22),
    ("acknowledged", 14),
    ("waiting", 10),
    ("resolved", 12),
    ("closed", 25),
    ("cancelled", 3),
    ("rejected", 3),
]


def _stage(rng: random.Random) -> str:
    names, weights = zip(*STAGES, strict=True)
    return rng.choices(names, weights=weights)[0]


def _later(rng: random.Random, start: datetime, now: datetime, hours: tuple[int, int]) -> datetime:
    moment = start + timedelta(hours=rng.randint(*hours), minutes=rng.randint(0, 59))
    return min(moment, now - timedelta(minutes=5))


def _drive(
    case: Case, stage: str, rng: random.Random, opened: datetime, now: datetime, staff
) -> None:
    supervisor, members = staff
    member = case.requester
    if stage == "triage":
        return
    if stage == "unassigned":
        # Released by its consultant: it waits in the area's queue for a colleague to claim it.
        task = process.active_task(case, CaseFlow.work)
        if task is not None and task.owner_id:
            process.task_release(task=task, actor=task.owner)
        return
    if stage == "rejected":
        if case.status == "triage":
            process.case_reject(
                case=case,
                actor=supervisor,
                reason=rng.choice(["out_of_scope", "duplicate"]),
                explanation="La richiesta non rientra nei servizi offerti dalla federazione.",
                at=_later(rng, opened, now, (1, 20)),
            )
        return
    if case.status == "triage":
        process.case_triage(
            case=case,
            actor=supervisor,
            priority=rng.choice(["normal", "high", "low"]),
            at=_later(rng, opened, now, (1, 6)),
        )
        case.refresh_from_db()
    if case.status == "unassigned":
        consultant = (
            Consultant.objects.filter(areas=case.area, absent_until__isnull=True)
            .order_by("active_cases", "user__username")
            .first()
        )
        if consultant is None:
            return
        process.case_assign(case=case, actor=supervisor, consultant=consultant.user)
        case.refresh_from_db()
    if stage == "cancelled":
        process.case_cancel(
            case=case,
            actor=supervisor,
            reason="Ritirata dalla cooperativa.",
            at=_later(rng, opened, now, (2, 48)),
        )
        return
    if stage == "assigned":
        return
    clock = _later(rng, opened, now, (0, 3))
    process.case_acknowledge(case=case, actor=case.assignee, at=clock)
    if stage == "acknowledged":
        return
    if rng.random() < 0.6 or stage == "waiting":
        clock = _later(rng, clock, now, (2, 60))
        process.case_request_info(
            case=case, actor=case.assignee, question="Potete inviarci la documentazione?", at=clock
        )
        if stage == "waiting":
            return
        clock = _later(rng, clock, now, (4, 72))
        process.case_post_message(case=case, author=member, body=rng.choice(ANSWERS), at=clock)
    case.refresh_from_db()
    clock = _later(rng, clock, now, (4, 70))
    outcome = rng.choice(list(OutcomeCode.objects.filter(area=case.area, is_active=True)))
    process.case_resolve(
        case=case,
        actor=case.assignee,
        outcome=outcome,
        minutes_spent=rng.choice([30, 45, 60, 90, 120, 240]),
        summary="Abbiamo esaminato la documentazione e inviato il nostro parere.",
        at=clock,
    )
    if stage == "resolved":
        return
    clock = _later(rng, clock, now, (2, 48))
    process.case_confirm(case=case, actor=member, at=clock)
    if rng.random() < 0.7:
        process.case_rate(
            case=case,
            actor=member,
            score=rng.choices([5, 4, 3, 2], weights=[5, 4, 2, 1])[0],
            comment="",
            at=_later(rng, clock, now, (1, 24)),
        )


def seed_cases(*, count: int = 300, days: int = 90, stdout=None) -> dict[str, dict[str, int]]:
    """A few hundred cases over the last `days` days, in every state; nothing if already seeded."""
    if Case.objects.filter(subject__startswith=DEMO_MARK).exists():
        found = Case.objects.filter(subject__startswith=DEMO_MARK).count()
        if stdout:
            stdout.write(f"cases: {found} demo cases already there")
        return {"cases": {"created": 0, "found": found}}
    rng = random.Random(SEED)
    now = timezone.now()
    supervisor = Supervisor.objects.filter(all_areas=True).select_related("user").first().user
    memberships = list(
        Membership.objects.filter(cooperative__membership_status="active")
        .select_related("user", "cooperative")
        .order_by("cooperative__name", "user__username")
    )
    areas = list(PracticeArea.objects.filter(is_active=True).order_by("position"))
    # Staff who take a call or a visit: the area's consultants. A random source of its own, so
    # the cases' states and dates stay those the demo always had.
    channel_rng = random.Random(SEED + 1)
    takers = {
        area.pk: [c.user for c in Consultant.objects.filter(areas=area).select_related("user")]
        or [supervisor]
        for area in areas
    }
    created = 0
    openings = sorted(now - timedelta(days=rng.uniform(0, days)) for _ in range(count))
    for number, opened in enumerate(openings, start=1):
        membership = rng.choice(memberships)
        # socio.alfa and socio.beta get more cases, so the demo accounts have plenty to look at.
        if rng.random() < 0.25:
            membership = rng.choice(
                [
                    m
                    for m in memberships
                    if m.user.username in ("socio.alfa", "socio.beta", "socio.multi")
                ]
                or memberships
            )
        area = rng.choice(areas)
        subject, description = rng.choice(REQUESTS.get(area.code, REQUESTS["legal"]))
        stage = _stage(rng)
        # Old cases are mostly finished: the backlog of a real desk is recent.
        if (
            (now - opened).days > 21
            and stage not in ("cancelled", "rejected")
            and rng.random() < 0.85
        ):
            stage = "closed"
        channels, weights = zip(*CHANNELS, strict=True)
        channel = channel_rng.choices(channels, weights=weights)[0]
        own = channel in (Channel.PORTAL, Channel.API)
        try:
            with transaction.atomic():
                case = process.case_open(
                    requester=membership.user,
                    cooperative=membership.cooperative,
                    area=area,
                    subject=f"{DEMO_MARK} {subject}",
                    description=description,
                    priority=rng.choice(["normal", "normal", "high", "low", "urgent"]),
                    channel=channel,
                    opened_by=None if own else channel_rng.choice(takers[area.pk]),
                    at=opened,
                )
                _drive(case, stage, rng, opened, now, (supervisor, memberships))
        except CaseError as refused:
            if stdout:
                stdout.write(f"  case {number}: skipped ({refused})")
            continue
        created += 1
        if stdout and number % 50 == 0:
            stdout.write(f"cases: {number}/{count}")
    # Past SLA transitions are history: mark them now and count their e-mails as sent long ago.
    watch.sweep(now=now)
    Notification.objects.filter(status=Notification.Status.PENDING).update(
        status=Notification.Status.SENT, sent_at=now
    )
    # One overdue case left for the worker: its breach is what `make run` shows within a minute.
    alfa = Cooperative.objects.filter(name="Cooperativa Alfa").first()
    alfa_member = get_user_model().objects.filter(username="socio.alfa").first()
    fiscal = PracticeArea.objects.filter(code="fiscal").first()
    if alfa and alfa_member and fiscal:
        process.case_open(
            requester=alfa_member,
            cooperative=alfa,
            area=fiscal,
            subject=f"{DEMO_MARK} Cartella esattoriale da contestare",
            description="Termine di impugnazione vicino: chiediamo assistenza.",
            priority="urgent",
            at=now - timedelta(days=21),
        )
        created += 1
    # A confidential matter of Alfa's legal representative: socio.alfa2, an ordinary member, and
    # socio.multi, a referent, never see it (DESIGN.md, "People and accounts").
    hr = PracticeArea.objects.filter(code="hr").first()
    if alfa and alfa_member and hr:
        process.case_open(
            requester=alfa_member,
            cooperative=alfa,
            area=hr,
            subject=f"{DEMO_MARK} Procedimento disciplinare verso un socio lavoratore",
            description=(
                "Contestazione di addebito a un socio lavoratore per assenze ripetute: "
                "come procedere nel rispetto del regolamento interno?"
            ),
            confidential=True,
            at=now - timedelta(days=2),
        )
        created += 1
    if stdout:
        stdout.write(f"cases: {created} created")
    return {"cases": {"created": created, "found": 0}}
