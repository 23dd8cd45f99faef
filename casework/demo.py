"""Demo data for trying Sportello out: the federation's registry, its people and (later) cases."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models as db_models
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import federation
from .mailboxes import maildir_create, maildir_path
from .models import (
    CannedReply,
    Consultant,
    Cooperative,
    Mailbox,
    Membership,
    Office,
    PracticeArea,
    Sector,
    Supervisor,
)
from .validators import partita_iva_check_digit

DEMO_PASSWORD = "sportello-demo"
SEED = 2026

# --- The data ------------------------------------------------------------------------------------

# The registry (offices and their calendars, sectors, practice areas with their specialties,
# outcomes, triage rules and SLA policies) is described once, in deploy/federation.example.yaml,
# and loaded by casework.federation; what follows is the rest of the demo.

# Per office code: the provincial tax office digits of a local partita IVA, the towns other
# than the office's city where its cooperatives are.
OFFICE_TOWNS = {
    "BO": ("037", ["Imola", "Casalecchio di Reno", "San Lazzaro di Savena"]),
    "MO": ("036", ["Carpi", "Sassuolo", "Mirandola"]),
    "RE": ("035", ["Correggio", "Scandiano", "Guastalla"]),
    "PR": ("034", ["Fidenza", "Collecchio", "Langhirano"]),
    "PC": ("033", ["Fiorenzuola d'Arda", "Castel San Giovanni"]),
    "FE": ("038", ["Cento", "Comacchio", "Codigoro"]),
    "RA": ("039", ["Faenza", "Lugo", "Cervia"]),
    "FC": ("040", ["Cesena", "Cesenatico", "Savignano sul Rubicone"]),
    "RN": ("099", ["Riccione", "Santarcangelo di Romagna", "Cattolica"]),
}

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

# The kind the law treats a demo cooperative as (its recurring obligations follow it), by sector.
KIND_BY_SECTOR = {
    "agrifood": Cooperative.Kind.AGRICULTURAL,
    "social": Cooperative.Kind.SOCIAL,
    "production": Cooperative.Kind.LABOUR,
    "retail": Cooperative.Kind.CONSUMER,
    "housing": Cooperative.Kind.HOUSING,
    "culture": Cooperative.Kind.SERVICES,
}

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
# An ordinary member of Alfa: sees the cases they opened or follow, not a confidential one of
# socio.alfa. Created after everyone else, so that the names drawn for the others stay theirs.
ORDINARY_MEMBER = ("socio.alfa2", "alfa", Membership.Role.MEMBER)

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


def _labels(models) -> list[str]:
    return [_label(model) for model in models]


class DemoRefused(Exception):
    """Demo data (with its published password and its administrator) outside development."""


def refuse_outside_development() -> None:
    """Demo accounts share a published password and one is a superuser: they belong in a
    development checkout (DEBUG on, as `make run` sets it) or the test suite, never on a
    server. A production's first administrator is made with `createsuperuser`."""
    if not (settings.DEBUG or settings.TESTING):
        raise DemoRefused(
            _(
                "The demo data is for development only and DEBUG is off: nothing was written. "
                "Create the first administrator with `manage.py createsuperuser` and load the "
                "federation with `manage.py load_federation FILE`."
            )
        )


def demo_tax_code(slug: str, tax_office: str) -> str:
    """A valid, stable partita IVA for a demo cooperative (same slug, same number, every run)."""
    serial = int(hashlib.sha256(slug.encode()).hexdigest(), 16) % 10**7
    first_ten = f"{serial:07d}{tax_office}"
    return first_ten + str(partita_iva_check_digit(first_ten))


# --- The steps -----------------------------------------------------------------------------------


def _seed_federation(tally: Tally, today: date) -> None:
    """The registry of deploy/federation.example.yaml: what is missing is added, nothing altered."""
    summary = federation.load(
        federation.read(federation.EXAMPLE_FILE), update_existing=False, today=today
    )
    for label, counts in summary.counts.items():
        tally.labels.setdefault(label, summary.names[label])
        tally.created[label] += counts["created"]
        tally.found[label] += counts["unchanged"] + counts["updated"]


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


def _registry_dates(slug: str, joined_on: date, kind: str, today: date) -> dict[str, date]:
    """When a demo cooperative was founded, last audited and last approved its statements: the
    dates its recurring obligations count from. Drawn from a source of their own per cooperative,
    so that the draws of the rest of the demo stay what they always were."""
    rng = random.Random(f"{SEED}:{slug}")
    founded_on = joined_on - timedelta(days=rng.randint(0, 5 * 365))
    # Audits every year for social cooperatives, every two for the others: some come due soon.
    audit_every = 365 if kind == Cooperative.Kind.SOCIAL else 730
    last_audit_on = today - timedelta(days=rng.randint(audit_every // 3, audit_every - 20))
    # Financial statements are approved in spring, for the year before.
    approved = date(today.year, rng.choice([4, 5, 6]), rng.randint(1, 28))
    if approved > today:
        approved = approved.replace(year=today.year - 1)
    return {
        "founded_on": founded_on,
        "last_audit_on": max(last_audit_on, founded_on),
        "statements_approved_on": approved,
    }


def _seed_cooperatives(
    tally: Tally,
    rng: random.Random,
    offices: dict[str, Office],
    sectors: dict[str, Sector],
    today: date,
) -> dict[str, Cooperative]:
    cooperatives = {}
    for name, slug, office_code, sector_code, status in COOPERATIVES:
        city = offices[office_code].city
        tax_office, towns = OFFICE_TOWNS[office_code]
        # Drawn on every run, created or not, so that each cooperative always gets the same values.
        town = rng.choice([city, city, *towns])
        joined_on = date(rng.randint(1970, 2023), rng.randint(1, 12), rng.randint(1, 28))
        kind = KIND_BY_SECTOR[sector_code]
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
                "kind": kind,
                **_registry_dates(slug, joined_on, kind, today),
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
    username, slug, role = ORDINARY_MEMBER
    _get_or_create(
        tally,
        Membership,
        user=people.user(username),
        cooperative=cooperatives[slug],
        defaults={"role": role},
    )


# --- Entry points --------------------------------------------------------------------------------


def seed_registry(*, stdout=None, reset_passwords: bool = False) -> dict[str, dict[str, int]]:
    """Create what is missing of the demo registry and people; never alter what is there.

    Returns, per model label ("casework.office", "auth.user", ...), how many rows were created,
    found already there and (passwords only, with `reset_passwords`) updated.
    """
    refuse_outside_development()
    rng = random.Random(SEED)
    tally = Tally()
    today = timezone.localdate()
    with transaction.atomic():
        _seed_federation(tally, today)
        offices = {office.code: office for office in Office.objects.all()}
        sectors = {sector.code: sector for sector in Sector.objects.all()}
        areas = {area.code: area for area in PracticeArea.objects.all()}
        _say(stdout, _("Offices and calendars"), tally.line(_labels(federation.OFFICE_MODELS)))
        _say(stdout, _("Sectors"), tally.line(_labels(federation.SECTOR_MODELS)))
        _seed_canned_replies(tally, areas)
        _say(
            stdout,
            _("Practice areas"),
            tally.line(_labels([*federation.AREA_MODELS, CannedReply])),
        )
        cooperatives = _seed_cooperatives(tally, rng, offices, sectors, today)
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
