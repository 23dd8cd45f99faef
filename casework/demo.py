"""Demo data for trying Sportello out: the federation's registry, its people and (later) cases."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models as db_models
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .mailboxes import maildir_create, maildir_path
from .models import (
    BusinessCalendar,
    CannedReply,
    Closure,
    Consultant,
    Cooperative,
    Mailbox,
    Membership,
    Office,
    OpeningHours,
    OutcomeCode,
    PracticeArea,
    Priority,
    Sector,
    SlaPolicy,
    Specialty,
    Supervisor,
    TriageRule,
)
from .validators import partita_iva_check_digit

DEMO_PASSWORD = "sportello-demo"
SEED = 2026
ROME = ZoneInfo("Europe/Rome")

# --- The data ------------------------------------------------------------------------------------

# code, name, main city, the provincial tax office digits of a local partita IVA, other towns.
OFFICES = [
    ("BO", "Bologna", "Bologna", "037", ["Imola", "Casalecchio di Reno", "San Lazzaro di Savena"]),
    ("MO", "Modena", "Modena", "036", ["Carpi", "Sassuolo", "Mirandola"]),
    ("RE", "Reggio Emilia", "Reggio Emilia", "035", ["Correggio", "Scandiano", "Guastalla"]),
    ("PR", "Parma", "Parma", "034", ["Fidenza", "Collecchio", "Langhirano"]),
    ("PC", "Piacenza", "Piacenza", "033", ["Fiorenzuola d'Arda", "Castel San Giovanni"]),
    ("FE", "Ferrara", "Ferrara", "038", ["Cento", "Comacchio", "Codigoro"]),
    ("RA", "Ravenna", "Ravenna", "039", ["Faenza", "Lugo", "Cervia"]),
    ("FC", "Forlì-Cesena", "Forlì", "040", ["Cesena", "Cesenatico", "Savignano sul Rubicone"]),
    ("RN", "Rimini", "Rimini", "099", ["Riccione", "Santarcangelo di Romagna", "Cattolica"]),
]

OPENING_HOURS = [(time(9, 0), time(13, 0)), (time(14, 0), time(18, 0))]
WORKING_WEEKDAYS = range(0, 5)
# Christmas Eve and New Year's Eve afternoons: (month, day, reason).
AFTERNOON_CLOSURES = [
    (12, 24, "Vigilia di Natale: chiuso il pomeriggio"),
    (12, 31, "San Silvestro: chiuso il pomeriggio"),
]

SECTORS = [
    ("agrifood", "Agroalimentare"),
    ("social", "Cooperative sociali"),
    ("production", "Produzione e servizi"),
    ("retail", "Consumo e dettaglio"),
    ("housing", "Abitanti"),
    ("culture", "Cultura, turismo e comunicazione"),
]


@dataclass(frozen=True)
class AreaData:
    code: str
    name: str
    prefix: str
    description: str
    usual_documents: str
    specialties: list[tuple[str, str]]
    outcomes: list[tuple[str, str]]
    # (keyword, specialty code, priority): at least one of keyword and specialty.
    triage_rules: list[tuple[str, str | None, str]]


COMMON_OUTCOMES = [
    ("opinion_issued", "Parere rilasciato"),
    ("filing_done", "Pratica depositata"),
    ("referred_outside", "Inviato a professionista esterno"),
    ("not_in_scope", "Fuori ambito"),
]

AREAS = [
    AreaData(
        code="legal",
        name="Legale",
        prefix="LEG",
        description="Consulenza legale su statuti, contratti, appalti e contenzioso.",
        usual_documents=(
            "Statuto e atto costitutivo vigenti; visura camerale aggiornata; contratti o atti "
            "oggetto della richiesta; corrispondenza con la controparte."
        ),
        specialties=[
            ("company_law", "Diritto societario cooperativo"),
            ("contracts", "Contratti e convenzioni"),
            ("public_procurement", "Appalti pubblici"),
            ("debt_recovery", "Contenzioso e recupero crediti"),
            ("privacy", "Privacy e protezione dei dati"),
        ],
        outcomes=[*COMMON_OUTCOMES, ("document_drafted", "Atto o contratto redatto")],
        triage_rules=[
            ("urgente", None, Priority.URGENT),
            ("sfratto", None, Priority.URGENT),
            ("", "public_procurement", Priority.HIGH),
        ],
    ),
    AreaData(
        code="fiscal",
        name="Fiscale e tributario",
        prefix="FIS",
        description="Bilancio, IVA, agevolazioni delle cooperative e rapporti con il fisco.",
        usual_documents=(
            "Ultimo bilancio approvato; dichiarazioni fiscali dell'ultimo anno; avvisi, cartelle "
            "o comunicazioni dell'Agenzia delle Entrate; registri IVA se pertinenti."
        ),
        specialties=[
            ("financial_statements", "Bilancio e adempimenti contabili"),
            ("vat", "IVA e fatturazione elettronica"),
            ("coop_tax_relief", "Agevolazioni fiscali per le cooperative"),
            ("member_refunds", "Ristorni ai soci"),
            ("tax_disputes", "Accertamenti e contenzioso tributario"),
        ],
        outcomes=[*COMMON_OUTCOMES, ("calculation_provided", "Calcolo o simulazione fornita")],
        triage_rules=[
            ("accertamento", None, Priority.URGENT),
            ("scadenza", None, Priority.HIGH),
            ("", "tax_disputes", Priority.HIGH),
        ],
    ),
    AreaData(
        code="startup",
        name="Avvio d'impresa",
        prefix="STA",
        description="Costituzione di nuove cooperative, business plan, bandi e workers buyout.",
        usual_documents=(
            "Idea progettuale o bozza di business plan; elenco dei soci fondatori con codice "
            "fiscale; preventivi degli investimenti; bando di riferimento, se c'è."
        ),
        specialties=[
            ("incorporation", "Costituzione della cooperativa"),
            ("business_plan", "Business plan"),
            ("funding", "Finanziamenti e bandi"),
            ("workers_buyout", "Workers buyout"),
        ],
        outcomes=[
            *COMMON_OUTCOMES,
            ("cooperative_incorporated", "Cooperativa costituita"),
            ("business_plan_delivered", "Business plan consegnato"),
        ],
        triage_rules=[
            ("scadenza", None, Priority.HIGH),
            ("", "workers_buyout", Priority.HIGH),
        ],
    ),
    AreaData(
        code="hr",
        name="Lavoro e risorse umane",
        prefix="LAV",
        description="Contratti di lavoro, soci lavoratori, paghe, sicurezza e ispezioni.",
        usual_documents=(
            "CCNL applicato e regolamento interno dei soci lavoratori; buste paga e contratti "
            "interessati; verbali di ispezione o contestazioni ricevute."
        ),
        specialties=[
            ("employment_contracts", "Contratti di lavoro e CCNL"),
            ("worker_members", "Soci lavoratori e regolamento interno"),
            ("payroll", "Paghe e contributi"),
            ("workplace_safety", "Salute e sicurezza sul lavoro"),
            ("labour_inspections", "Ispezioni e vertenze"),
        ],
        outcomes=[*COMMON_OUTCOMES, ("dispute_settled", "Vertenza conciliata")],
        triage_rules=[
            ("ispezione", None, Priority.URGENT),
            ("licenziamento", None, Priority.HIGH),
            ("", "labour_inspections", Priority.HIGH),
        ],
    ),
    AreaData(
        code="training",
        name="Formazione",
        prefix="FOR",
        description="Formazione obbligatoria, fondi interprofessionali e percorsi per i soci.",
        usual_documents=(
            "Piano formativo o fabbisogni rilevati; elenco dei partecipanti previsti; avviso del "
            "fondo interprofessionale di riferimento; attestati già conseguiti."
        ),
        specialties=[
            ("safety_training", "Formazione obbligatoria sulla sicurezza"),
            ("training_funds", "Fondi interprofessionali"),
            ("management_training", "Formazione manageriale"),
            ("cooperative_governance", "Governance e cultura cooperativa"),
        ],
        outcomes=[*COMMON_OUTCOMES, ("course_delivered", "Corso erogato")],
        triage_rules=[
            ("urgente", None, Priority.HIGH),
            ("scadenza", None, Priority.HIGH),
        ],
    ),
]

# priority: (first response, resolution) in business minutes.
SLA_TARGETS = {
    Priority.URGENT: (60, 960),
    Priority.HIGH: (120, 1920),
    Priority.NORMAL: (240, 4800),
    Priority.LOW: (480, 9600),
}
SLA_WARNING_PERCENT = 75

# name, short slug (usernames, e-mails), office, sector, membership status.
COOPERATIVES = [
    ("Cooperativa Alfa", "alfa", "BO", "production", "active"),
    ("Cooperativa Beta", "beta", "MO", "social", "active"),
    ("Il Germoglio Cooperativa Sociale", "germoglio", "BO", "social", "active"),
    ("Cooperativa Edile Felsinea", "felsinea", "BO", "production", "active"),
    ("Teatro dei Portici Soc. Coop.", "portici", "BO", "culture", "active"),
    ("Casa Comune Cooperativa di Abitanti", "casacomune", "BO", "housing", "active"),
    ("Ortofrutta Valle del Reno Soc. Coop. Agricola", "vallereno", "BO", "agrifood", "active"),
    ("Cantina dei Colli di Sorbara Soc. Coop. Agricola", "sorbara", "MO", "agrifood", "active"),
    ("La Ghirlandina Servizi Soc. Coop.", "ghirlandina", "MO", "production", "active"),
    ("Emporio Solidale Carpigiano Soc. Coop.", "emporiocarpi", "MO", "retail", "active"),
    ("Abitare Modena Soc. Coop.", "abitaremo", "MO", "housing", "active"),
    ("Caseificio Sociale Val d'Enza Soc. Agr. Coop.", "valdenza", "RE", "agrifood", "active"),
    ("Cooperativa Sociale L'Arcobaleno", "arcobaleno", "RE", "social", "active"),
    ("Trasporti Reggiani Soc. Coop.", "trasportire", "RE", "production", "active"),
    ("Libreria Cooperativa del Tricolore", "tricolore", "RE", "retail", "active"),
    ("Compagnia Teatrale La Pieve Soc. Coop.", "lapieve", "RE", "culture", "active"),
    ("Salumificio Cooperativo delle Colline Parmensi", "collinepr", "PR", "agrifood", "active"),
    ("Cooperativa Sociale Il Faro", "ilfaro", "PR", "social", "active"),
    ("Pulizie e Servizi Ducale Soc. Coop.", "ducale", "PR", "production", "active"),
    ("Casa Nostra Cooperativa Edilizia di Abitanti", "casanostra", "PR", "housing", "active"),
    ("Vignaioli dei Colli Piacentini Soc. Coop. Agricola", "collipc", "PC", "agrifood", "active"),
    ("Cooperativa Sociale Il Sentiero", "sentiero", "PC", "social", "active"),
    ("Logistica Padana Soc. Coop.", "logpadana", "PC", "production", "ceased"),
    ("Pescatori del Delta Soc. Coop.", "delta", "FE", "agrifood", "active"),
    ("Cooperativa Sociale Le Mura", "lemura", "FE", "social", "active"),
    ("Estense Servizi Integrati Soc. Coop.", "estense", "FE", "production", "active"),
    ("Spazio Estense Cultura Soc. Coop.", "spazioestense", "FE", "culture", "active"),
    ("Braccianti Ravennati Soc. Coop. Agricola", "braccianti", "RA", "agrifood", "active"),
    ("Cooperativa Sociale San Vitale", "sanvitale", "RA", "social", "active"),
    ("Porto Servizi Ravenna Soc. Coop.", "portora", "RA", "production", "active"),
    ("Mosaico Cultura e Turismo Soc. Coop.", "mosaico", "RA", "culture", "active"),
    ("Bottega Equa Romagnola Soc. Coop.", "bottegaequa", "RA", "retail", "active"),
    ("Frutticoltori Cesenati Soc. Coop. Agricola", "frutticoltori", "FC", "agrifood", "active"),
    ("Cooperativa Sociale Il Ponte", "ilponte", "FC", "social", "active"),
    ("Abitare Insieme Forlì Soc. Coop.", "abitareinsieme", "FC", "housing", "active"),
    ("Officine Meccaniche Forlivesi Soc. Coop.", "officinefo", "FC", "production", "suspended"),
    ("Bagnini della Riviera Soc. Coop.", "bagnini", "RN", "production", "active"),
    ("Cooperativa Sociale Marecchia", "marecchia", "RN", "social", "active"),
    ("Accoglienza Malatestiana Soc. Coop.", "malatestiana", "RN", "culture", "active"),
    ("Mercato Ittico Riminese Soc. Coop.", "itticorn", "RN", "retail", "active"),
    ("Fattorie della Valconca Soc. Coop. Agricola", "valconca", "RN", "agrifood", "active"),
]

# The accounts of the contract (README, DESIGN "Demo data"): username -> practice area code.
CONTRACT_CONSULTANTS = {
    "consulente.legale": "legal",
    "consulente.legale2": "legal",
    "consulente.fiscale": "fiscal",
    "consulente.fiscale2": "fiscal",
    "consulente.startup": "startup",
    "consulente.startup2": "startup",
    "consulente.lavoro": "hr",
    "consulente.lavoro2": "hr",
    "consulente.formazione": "training",
    "consulente.formazione2": "training",
}
CONTRACT_CONSULTANT_OFFICE = "BO"
CONTRACT_CONSULTANT_CAPACITY = 25

# Consultants of the other offices: username, office, areas, capacity, absent for the next days.
OTHER_CONSULTANTS = [
    ("consulente.legale.mo", "MO", ["legal"], 20, 0),
    ("consulente.fiscale.mo", "MO", ["fiscal", "startup"], 15, 0),
    ("consulente.fiscale.re", "RE", ["fiscal"], 15, 21),
    ("consulente.lavoro.pr", "PR", ["hr"], 12, 0),
    ("consulente.lavoro.pc", "PC", ["hr", "training"], 4, 0),
    ("consulente.formazione.fe", "FE", ["training"], 5, 10),
    ("consulente.startup.ra", "RA", ["startup", "training"], 10, 0),
    ("consulente.legale.ra", "RA", ["legal"], 2, 0),
    ("consulente.fiscale.fc", "FC", ["fiscal"], 3, 0),
    ("consulente.legale.rn", "RN", ["legal", "hr"], 15, 30),
]

# username, every area?, area codes.
SUPERVISORS = [
    ("supervisore", True, []),
    ("supervisore.legale", False, ["legal", "hr"]),
]

ADMIN_USERNAME = "admin"
# username, cooperative slugs, role.
CONTRACT_MEMBERS = [
    ("socio.alfa", ["alfa"], Membership.Role.LEGAL_REPRESENTATIVE),
    ("socio.beta", ["beta"], Membership.Role.LEGAL_REPRESENTATIVE),
    ("socio.multi", ["alfa", "beta"], Membership.Role.REFERENT),
]

FIRST_NAMES = [
    "Giulia", "Marco", "Francesca", "Luca", "Chiara", "Alessandro", "Sara", "Matteo", "Elena",
    "Davide", "Valentina", "Andrea", "Martina", "Stefano", "Federica", "Lorenzo", "Silvia",
    "Paolo", "Anna", "Giorgio", "Roberta", "Simone", "Laura", "Nicola", "Ilaria", "Fabio",
    "Alessia", "Riccardo", "Monica", "Tommaso", "Serena", "Daniele", "Beatrice", "Enrico",
    "Camilla", "Filippo", "Elisa", "Gabriele", "Marta", "Pietro",
]  # fmt: skip
LAST_NAMES = [
    "Rossi", "Bianchi", "Ferrari", "Russo", "Romano", "Gallo", "Costa", "Fontana", "Conti",
    "Ricci", "Bruno", "Moretti", "Marino", "Greco", "Lombardi", "Barbieri", "Giordano",
    "Rinaldi", "Colombo", "Mancini", "Benedetti", "Bassi", "Zanetti", "Guidi", "Malaguti",
    "Tosi", "Montanari", "Bertoni", "Golinelli", "Pancaldi", "Morandi", "Cavazza", "Zucchini",
    "Casadei", "Bertozzi", "Magnani", "Vitali", "Ghetti", "Fabbri", "Baraldi",
]  # fmt: skip


# --- Book-keeping --------------------------------------------------------------------------------


class Tally:
    """What a seeding step created and what it found already there, per model."""

    def __init__(self) -> None:
        self.created: Counter[str] = Counter()
        self.found: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self.labels: dict[str, str] = {}

    def record(self, obj: db_models.Model, created: bool) -> None:
        key = obj._meta.label_lower
        self.labels.setdefault(key, str(obj._meta.verbose_name_plural))
        (self.created if created else self.found)[key] += 1

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            key: {
                "created": self.created[key],
                "found": self.found[key],
                "updated": self.updated[key],
            }
            for key in self.labels
        }

    def line(self, keys: list[str]) -> str:
        parts = [
            _("%(label)s %(created)d new, %(found)d already there")
            % {"label": self.labels[key], "created": self.created[key], "found": self.found[key]}
            for key in keys
            if key in self.labels
        ]
        return "; ".join(parts)


def _get_or_create(tally: Tally, model: type[db_models.Model], defaults=None, **lookup):
    obj, created = model.objects.get_or_create(defaults=defaults or {}, **lookup)
    tally.record(obj, created)
    return obj, created


def _say(stdout, step: str, line: str) -> None:
    if stdout is not None:
        stdout.write(f"{step}: {line}")


def _label(model) -> str:
    return model._meta.label_lower


def demo_tax_code(slug: str, tax_office: str) -> str:
    """A valid, stable partita IVA for a demo cooperative (same slug, same number, every run)."""
    serial = int(hashlib.sha256(slug.encode()).hexdigest(), 16) % 10**7
    first_ten = f"{serial:07d}{tax_office}"
    return first_ten + str(partita_iva_check_digit(first_ten))


# --- The steps -----------------------------------------------------------------------------------


def _seed_offices(tally: Tally, today: date) -> dict[str, Office]:
    offices = {}
    for code, name, city, _tax_office, _towns in OFFICES:
        office, _created = _get_or_create(
            tally,
            Office,
            code=code,
            defaults={"name": name, "city": city, "email": f"sportello.{code.lower()}@example.org"},
        )
        offices[code] = office
        calendar, _created = _get_or_create(
            tally,
            BusinessCalendar,
            office=office,
            defaults={"observe_national_holidays": True, "observe_patron_day": True},
        )
        for weekday in WORKING_WEEKDAYS:
            for opens_at, closes_at in OPENING_HOURS:
                _get_or_create(
                    tally,
                    OpeningHours,
                    calendar=calendar,
                    weekday=weekday,
                    opens_at=opens_at,
                    defaults={"closes_at": closes_at},
                )
        for year in (today.year, today.year + 1):
            for month, day, reason in AFTERNOON_CLOSURES:
                _get_or_create(
                    tally,
                    Closure,
                    calendar=calendar,
                    starts_at=datetime(year, month, day, 13, 0, tzinfo=ROME),
                    defaults={
                        "ends_at": datetime(year, month, day, 18, 0, tzinfo=ROME),
                        "reason": reason,
                    },
                )
    return offices


def _seed_sectors(tally: Tally) -> dict[str, Sector]:
    return {
        code: _get_or_create(tally, Sector, code=code, defaults={"name": name})[0]
        for code, name in SECTORS
    }


def _seed_areas(tally: Tally) -> dict[str, PracticeArea]:
    areas = {}
    for position, data in enumerate(AREAS, start=1):
        area, _created = _get_or_create(
            tally,
            PracticeArea,
            code=data.code,
            defaults={
                "name": data.name,
                "reference_prefix": data.prefix,
                "description": data.description,
                "usual_documents": data.usual_documents,
                "position": position,
            },
        )
        areas[data.code] = area
        specialties = {
            code: _get_or_create(tally, Specialty, area=area, code=code, defaults={"name": name})[0]
            for code, name in data.specialties
        }
        for code, label in data.outcomes:
            _get_or_create(tally, OutcomeCode, area=area, code=code, defaults={"label": label})
        for priority, (first_response, resolution) in SLA_TARGETS.items():
            _get_or_create(
                tally,
                SlaPolicy,
                area=area,
                priority=priority,
                defaults={
                    "first_response_minutes": first_response,
                    "resolution_minutes": resolution,
                    "warning_percent": SLA_WARNING_PERCENT,
                },
            )
        for position_in_area, (keyword, specialty_code, priority) in enumerate(
            data.triage_rules, start=1
        ):
            _get_or_create(
                tally,
                TriageRule,
                area=area,
                keyword=keyword,
                specialty=specialties[specialty_code] if specialty_code else None,
                defaults={"priority": priority, "position": position_in_area},
            )
    return areas


# Canned replies of the composer: (area code or None for every area, language, title, text).
CANNED_REPLIES = (
    (None, "it", "Presa in carico",
     "Gentile {{richiedente}},\nabbiamo preso in carico la pratica {{riferimento}} di "
     "{{cooperativa}}: vi aggiorneremo al più presto."),
    (None, "en", "Taken in charge",
     "Dear {{requester}},\nwe have taken charge of case {{reference}} for {{cooperative}} "
     "and will get back to you shortly."),
    (None, "it", "Documenti mancanti",
     "Gentile {{richiedente}},\nper proseguire con la pratica {{riferimento}} ci servono "
     "i documenti elencati qui sotto:\n- "),
    (None, "en", "Missing documents",
     "Dear {{requester}},\nto go on with case {{reference}} we need the documents listed "
     "below:\n- "),
    ("legal", "it", "Modifica dello statuto",
     "Per la modifica dello statuto di {{cooperativa}} serve la delibera dell'assemblea "
     "straordinaria davanti al notaio: vi inviamo la bozza del verbale."),
    ("legal", "en", "Amending the articles",
     "Amending the articles of {{cooperative}} takes a resolution of an extraordinary "
     "general meeting before a notary: we are sending you a draft of the minutes."),
    ("fiscal", "it", "Scadenza fiscale",
     "Vi ricordiamo che il versamento va effettuato entro la scadenza con il modello F24; "
     "per {{cooperativa}} abbiamo verificato gli importi della pratica {{riferimento}}."),
    ("fiscal", "en", "Tax deadline",
     "Please remember that the payment is due by the deadline with form F24; we have "
     "checked the amounts of case {{reference}} for {{cooperative}}."),
    ("startup", "it", "Primo incontro",
     "Gentile {{richiedente}}, vi proponiamo un primo incontro in sede per impostare il "
     "progetto di {{cooperativa}}: indicateci due date che vi sono comode."),
    ("startup", "en", "First meeting",
     "Dear {{requester}}, we suggest a first meeting at our office to set up the plan of "
     "{{cooperative}}: let us know two dates that suit you."),
    ("hr", "it", "Contratto di lavoro",
     "Per il contratto richiesto da {{cooperativa}} si applica il CCNL delle cooperative "
     "sociali: vi inviamo lo schema con il livello di inquadramento."),
    ("hr", "en", "Employment contract",
     "The contract {{cooperative}} asked about falls under the national agreement for "
     "social cooperatives: we are sending you the outline with the grade."),
    ("training", "it", "Corso di formazione",
     "Il corso richiesto da {{cooperativa}} è finanziabile con il fondo interprofessionale: "
     "vi inviamo il calendario delle prossime edizioni."),
    ("training", "en", "Training course",
     "The course {{cooperative}} asked for can be funded by the joint training fund: we are "
     "sending you the dates of the next sessions."),
)  # fmt: skip


def _seed_canned_replies(tally: Tally, areas: dict[str, PracticeArea]) -> None:
    for position, (area_code, language, title, body) in enumerate(CANNED_REPLIES, start=1):
        _get_or_create(
            tally,
            CannedReply,
            area=areas[area_code] if area_code else None,
            language=language,
            title=title,
            defaults={"body": body, "position": position},
        )


def _seed_cooperatives(
    tally: Tally, rng: random.Random, offices: dict[str, Office], sectors: dict[str, Sector]
) -> dict[str, Cooperative]:
    office_data = {code: (city, tax_office, towns) for code, _n, city, tax_office, towns in OFFICES}
    cooperatives = {}
    for name, slug, office_code, sector_code, status in COOPERATIVES:
        city, tax_office, towns = office_data[office_code]
        # Drawn on every run, created or not, so that each cooperative always gets the same values.
        town = rng.choice([city, city, *towns])
        joined_on = date(rng.randint(1970, 2023), rng.randint(1, 12), rng.randint(1, 28))
        cooperative, _created = _get_or_create(
            tally,
            Cooperative,
            tax_code=demo_tax_code(slug, tax_office),
            defaults={
                "name": name,
                "office": offices[office_code],
                "sector": sectors[sector_code],
                "membership_status": status,
                "joined_on": joined_on,
                "city": town,
                "email": f"segreteria.{slug}@example.org",
            },
        )
        cooperatives[slug] = cooperative
    return cooperatives


class _People:
    """Creates demo users with Italian names; the password is hashed once for all of them."""

    def __init__(self, tally: Tally, rng: random.Random, reset_passwords: bool) -> None:
        self.tally = tally
        self.rng = rng
        self.reset_passwords = reset_passwords
        # One hash for every demo account: hashing a hundred times with Argon2 takes seconds.
        self.password_hash = make_password(DEMO_PASSWORD)

    def user(self, username: str, *, is_staff: bool = False, is_superuser: bool = False):
        first_name = self.rng.choice(FIRST_NAMES)
        last_name = self.rng.choice(LAST_NAMES)
        user, created = _get_or_create(
            self.tally,
            get_user_model(),
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@example.org",
                "is_staff": is_staff,
                "is_superuser": is_superuser,
                "password": self.password_hash,
            },
        )
        if not created and self.reset_passwords:
            user.password = self.password_hash
            user.save(update_fields=["password"])
            self.tally.updated[_label(user)] += 1
        return user


def _seed_people(
    tally: Tally,
    rng: random.Random,
    *,
    offices: dict[str, Office],
    areas: dict[str, PracticeArea],
    cooperatives: dict[str, Cooperative],
    today: date,
    reset_passwords: bool,
) -> None:
    people = _People(tally, rng, reset_passwords)
    people.user(ADMIN_USERNAME, is_staff=True, is_superuser=True)

    for username, all_areas, area_codes in SUPERVISORS:
        user = people.user(username)
        supervisor, created = _get_or_create(
            tally, Supervisor, user=user, defaults={"all_areas": all_areas}
        )
        if created and area_codes:
            supervisor.areas.set([areas[code] for code in area_codes])

    def consultant(
        username, office_code, area_codes, capacity, absent_days, *, every_specialty=False
    ):
        user = people.user(username)
        specialties = []
        for code in area_codes:
            choices = sorted(areas[code].specialties.all(), key=lambda s: s.code)
            # The Bologna consultants of the contract cover their whole area, so a Bologna case
            # stays in Bologna whatever its specialty.
            specialties += (
                choices if every_specialty else rng.sample(choices, k=min(2, len(choices)))
            )
        profile, created = _get_or_create(
            tally,
            Consultant,
            user=user,
            defaults={
                "office": offices[office_code],
                "capacity": capacity,
                "absent_until": today + timedelta(days=absent_days) if absent_days else None,
            },
        )
        if created:
            profile.areas.set([areas[code] for code in area_codes])
            profile.specialties.set(specialties)

    for username, area_code in CONTRACT_CONSULTANTS.items():
        consultant(
            username,
            CONTRACT_CONSULTANT_OFFICE,
            [area_code],
            CONTRACT_CONSULTANT_CAPACITY,
            0,
            every_specialty=True,
        )
    for username, office_code, area_codes, capacity, absent_days in OTHER_CONSULTANTS:
        consultant(username, office_code, area_codes, capacity, absent_days)

    for username, slugs, role in CONTRACT_MEMBERS:
        user = people.user(username)
        for slug in slugs:
            _get_or_create(
                tally,
                Membership,
                user=user,
                cooperative=cooperatives[slug],
                defaults={"role": role},
            )
    contract_slugs = {slug for _u, slugs, _r in CONTRACT_MEMBERS for slug in slugs}
    for _name, slug, *_rest in COOPERATIVES:
        if slug in contract_slugs:
            continue
        members = [(f"socio.{slug}", Membership.Role.LEGAL_REPRESENTATIVE)]
        if rng.random() < 0.5:
            members.append((f"socio.{slug}2", Membership.Role.REFERENT))
        for username, role in members:
            user = people.user(username)
            _get_or_create(
                tally,
                Membership,
                user=user,
                cooperative=cooperatives[slug],
                defaults={"role": role},
            )


# --- Entry points --------------------------------------------------------------------------------


def seed_registry(*, stdout=None, reset_passwords: bool = False) -> dict[str, dict[str, int]]:
    """Create what is missing of the demo registry and people; never alter what is there.

    Returns, per model label ("casework.office", "auth.user", ...), how many rows were created,
    found already there and (passwords only, with `reset_passwords`) updated.
    """
    rng = random.Random(SEED)
    tally = Tally()
    today = timezone.localdate()
    with transaction.atomic():
        offices = _seed_offices(tally, today)
        _say(
            stdout,
            _("Offices and calendars"),
            tally.line([_label(m) for m in (Office, BusinessCalendar, OpeningHours, Closure)]),
        )
        sectors = _seed_sectors(tally)
        _say(stdout, _("Sectors"), tally.line([_label(Sector)]))
        areas = _seed_areas(tally)
        _seed_canned_replies(tally, areas)
        _say(
            stdout,
            _("Practice areas"),
            tally.line(
                [
                    _label(m)
                    for m in (
                        PracticeArea,
                        Specialty,
                        OutcomeCode,
                        SlaPolicy,
                        TriageRule,
                        CannedReply,
                    )
                ]
            ),
        )
        cooperatives = _seed_cooperatives(tally, rng, offices, sectors)
        _say(stdout, _("Cooperatives"), tally.line([_label(Cooperative)]))
        _seed_people(
            tally,
            rng,
            offices=offices,
            areas=areas,
            cooperatives=cooperatives,
            today=today,
            reset_passwords=reset_passwords,
        )
        user_label = _label(get_user_model())
        line = tally.line([user_label, *(_label(m) for m in (Membership, Consultant, Supervisor))])
        if tally.updated[user_label]:
            line += "; " + _("%(count)d passwords reset") % {"count": tally.updated[user_label]}
        _say(stdout, _("People"), line)
        _seed_mailbox(tally)
        _say(stdout, _("Mailboxes"), tally.line([_label(Mailbox)]))
    return tally.as_dict()


def _seed_mailbox(tally: Tally) -> None:
    """The embedded default's mailbox: a Maildir in var/mail/inbox that the scheduler reads every
    minute (a .eml copied into its new/ folder opens a case). No practice area: intake decides
    where its new cases go. Its folders are made when missing, also on a later run."""
    path = Path(settings.VAR_DIR) / "mail" / "inbox"
    try:
        stored = str(path.relative_to(settings.BASE_DIR))  # var/mail/inbox, as the README says
    except ValueError:
        stored = str(path)  # SPORTELLO_VAR_DIR elsewhere
    mailbox, _created = _get_or_create(
        tally,
        Mailbox,
        name="inbox",
        defaults={"kind": Mailbox.Kind.MAILDIR, "path": stored, "address": "sportello@localhost"},
    )
    if mailbox.kind == Mailbox.Kind.MAILDIR and mailbox.path:
        maildir_create(maildir_path(mailbox))


# Case seeding (`seed_cases`) comes after the registry: it reads the rows created above by their
# natural keys and can reuse Tally, _get_or_create and its own random.Random(SEED).
