"""`seed_demo`: the contract's accounts and codes exist, and running it again changes nothing."""

from datetime import datetime, time
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone, translation

from casework import demo, models
from casework.roles import roles_of
from casework.validators import validate_tax_code

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
PASSWORD = "sportello-demo"
OFFICE_CODES = {"BO", "MO", "RE", "PR", "PC", "FE", "RA", "FC", "RN"}
AREA_CODES = {"legal", "fiscal", "startup", "hr", "training"}
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
CONTRACT_ACCOUNTS = [
    "admin",
    "supervisore",
    "socio.alfa",
    "socio.beta",
    "socio.multi",
    *CONTRACT_CONSULTANTS,
]


def _seed(*args, cases: int = 0) -> str:
    """Run the command; the registry tests skip the (slower) demo cases unless asked."""
    out = StringIO()
    with translation.override("en"):
        call_command("seed_demo", *args, cases=cases, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    """Seed once for the module, in a transaction rolled back at its end.

    Each test runs in a savepoint inside it (pytest-django's per-test atomic nests), so a test
    that changes or deletes demo rows leaves the next one the freshly seeded state.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield _seed()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db):
    return seeded_once


def _row_counts() -> dict[str, int]:
    counted = [*apps.get_app_config("casework").get_models(), get_user_model()]
    return {model._meta.label: model._default_manager.count() for model in counted}


def _snapshot() -> dict:
    """What a demo user would notice if a run came out different."""
    return {
        "users": sorted(
            get_user_model().objects.values_list(
                "username", "first_name", "last_name", "email", "is_staff", "is_superuser"
            )
        ),
        "cooperatives": sorted(
            models.Cooperative.objects.values_list(
                "name", "tax_code", "office__code", "sector__code", "city", "joined_on"
            )
        ),
        "memberships": sorted(
            models.Membership.objects.values_list("user__username", "cooperative__name", "role")
        ),
        "consultants": sorted(
            (c.user.username, c.office.code, c.capacity, c.absent_until)
            + tuple(sorted(s.code for s in c.specialties.all()))
            for c in models.Consultant.objects.select_related("user", "office")
        ),
    }


# --- Running it again changes nothing --------------------------------------------------------


def test_second_run_creates_and_changes_nothing(seeded):
    counts = _row_counts()
    passwords = dict(get_user_model().objects.values_list("username", "password"))
    snapshot = _snapshot()

    again = demo.seed_registry()

    assert {label: row["created"] for label, row in again.items() if row["created"]} == {}
    assert _row_counts() == counts
    assert dict(get_user_model().objects.values_list("username", "password")) == passwords
    assert _snapshot() == snapshot


def test_command_reports_progress_and_a_final_summary(seeded):
    again = _seed()

    assert "Demo data:" in seeded.splitlines()[-1]
    assert "0 already there" in seeded.splitlines()[-1]
    assert again.splitlines()[-1].startswith("Demo data: 0 created")
    assert len(again.splitlines()) > 1


def test_whole_command_with_cases_changes_nothing_the_second_time():
    _seed(cases=5)
    counts = _row_counts()

    again = _seed(cases=5)

    assert again.splitlines()[-1].startswith("Demo data: 0 created")
    assert _row_counts() == counts


def test_quiet_run_prints_only_the_summary():
    out = StringIO()
    call_command("seed_demo", cases=0, verbosity=0, stdout=out)

    assert out.getvalue().count("\n") == 1


def test_existing_passwords_are_kept_unless_reset_is_asked(seeded):
    user = get_user_model().objects.get(username="socio.alfa")
    user.set_password("changed-by-the-member")
    user.save()

    _seed()
    assert authenticate(username="socio.alfa", password="changed-by-the-member") is not None

    _seed("--reset-passwords")
    assert authenticate(username="socio.alfa", password=PASSWORD) is not None


def test_the_data_is_the_same_on_every_fresh_database(seeded):
    first = _snapshot()
    models.Membership.objects.all().delete()
    models.Consultant.objects.all().delete()
    models.Supervisor.objects.all().delete()
    get_user_model().objects.all().delete()
    models.Cooperative.objects.all().delete()
    models.Office.objects.all().delete()
    models.Sector.objects.all().delete()
    models.RecurringObligation.objects.all().delete()
    models.PracticeArea.objects.all().delete()

    _seed()

    assert _snapshot() == first


# --- The contract ------------------------------------------------------------------------------


def test_every_contract_account_signs_in_with_the_demo_password(seeded):
    refused = [
        username
        for username in CONTRACT_ACCOUNTS
        if authenticate(username=username, password=PASSWORD) is None
    ]

    assert refused == []


def test_admin_is_the_only_administrator(seeded):
    admin = get_user_model().objects.get(username="admin")

    assert roles_of(admin).is_admin
    assert admin.is_staff and admin.is_superuser
    assert list(get_user_model().objects.filter(is_staff=True)) == [admin]
    assert list(get_user_model().objects.filter(is_superuser=True)) == [admin]


def test_supervisors(seeded):
    everything = roles_of(get_user_model().objects.get(username="supervisore"))
    legal = roles_of(get_user_model().objects.get(username="supervisore.legale"))

    assert everything.is_supervisor and everything.supervises_all
    assert not everything.is_admin
    assert legal.is_supervisor and not legal.supervises_all
    assert set(
        models.PracticeArea.objects.filter(pk__in=legal.supervised_area_ids).values_list(
            "code", flat=True
        )
    ) == {"legal", "hr"}


@pytest.mark.parametrize(
    ("username", "cooperatives"),
    [
        ("socio.alfa", {"Cooperativa Alfa"}),
        ("socio.beta", {"Cooperativa Beta"}),
        ("socio.multi", {"Cooperativa Alfa", "Cooperativa Beta"}),
    ],
)
def test_contract_members(seeded, username, cooperatives):
    roles = roles_of(get_user_model().objects.get(username=username))

    assert roles.names == ["member"]
    names = set(
        models.Cooperative.objects.filter(pk__in=roles.cooperative_ids).values_list(
            "name", flat=True
        )
    )
    assert names == cooperatives


def test_alfa_is_in_bologna_and_beta_in_modena(seeded):
    assert models.Cooperative.objects.get(name="Cooperativa Alfa").office.code == "BO"
    assert models.Cooperative.objects.get(name="Cooperativa Beta").office.code == "MO"


@pytest.mark.parametrize(("username", "area_code"), CONTRACT_CONSULTANTS.items())
def test_contract_consultants_work_their_area_from_bologna_with_room(seeded, username, area_code):
    user = get_user_model().objects.get(username=username)
    roles = roles_of(user)
    consultant = roles.consultant

    assert roles.names == ["consultant"]
    assert not user.is_staff
    assert consultant.office.code == "BO"
    assert consultant.capacity == 25
    assert consultant.active_cases < consultant.capacity
    assert not consultant.is_absent_on(timezone.localdate())
    assert [area.code for area in consultant.areas.all()] == [area_code]
    specialties = list(consultant.specialties.all())
    assert specialties
    assert {specialty.area.code for specialty in specialties} == {area_code}


def test_about_twenty_consultants_some_absent_some_small(seeded):
    consultants = list(models.Consultant.objects.select_related("office"))
    today = timezone.localdate()

    assert 18 <= len(consultants) <= 24
    assert len({consultant.office.code for consultant in consultants}) >= 6
    assert any(consultant.is_absent_on(today) for consultant in consultants)
    assert any(consultant.capacity <= 5 for consultant in consultants)
    for consultant in consultants:
        area_ids = {area.pk for area in consultant.areas.all()}
        assert area_ids
        assert {specialty.area_id for specialty in consultant.specialties.all()} <= area_ids


def test_consultants_and_supervisors_are_not_django_staff(seeded):
    people = get_user_model().objects.filter(
        consultant__isnull=False
    ) | get_user_model().objects.filter(supervisor__isnull=False)

    assert people.exists()
    assert not people.filter(is_staff=True).exists()


def test_every_other_cooperative_has_one_or_two_members(seeded):
    for cooperative in models.Cooperative.objects.exclude(
        name__in=["Cooperativa Alfa", "Cooperativa Beta"]
    ):
        usernames = set(cooperative.memberships.values_list("user__username", flat=True))
        assert 1 <= len(usernames) <= 2, cooperative
        assert all(username.startswith("socio.") for username in usernames)


# --- Codes and configuration ---------------------------------------------------------------


def test_office_and_area_codes_are_exactly_the_contract_ones(seeded):
    assert set(models.Office.objects.values_list("code", flat=True)) == OFFICE_CODES
    assert set(models.PracticeArea.objects.values_list("code", flat=True)) == AREA_CODES
    assert dict(models.PracticeArea.objects.values_list("code", "reference_prefix")) == {
        "legal": "LEG",
        "fiscal": "FIS",
        "startup": "STA",
        "hr": "LAV",
        "training": "FOR",
    }


def test_every_office_calendar_is_the_demo_one(seeded):
    year = timezone.localdate().year
    expected_hours = [
        (weekday, opens_at, closes_at)
        for weekday in range(5)
        for opens_at, closes_at in [(time(9), time(13)), (time(14), time(18))]
    ]
    expected_closures = sorted(
        (datetime(y, 12, day, 13, tzinfo=ROME), datetime(y, 12, day, 18, tzinfo=ROME))
        for y in (year, year + 1)
        for day in (24, 31)
    )

    for office in models.Office.objects.all():
        calendar = office.calendar
        assert calendar.observe_national_holidays and calendar.observe_patron_day
        hours = list(calendar.opening_hours.values_list("weekday", "opens_at", "closes_at"))
        assert sorted(hours) == expected_hours
        closures = sorted(calendar.closures.values_list("starts_at", "ends_at"))
        assert closures == expected_closures


def test_every_area_is_fully_configured(seeded):
    for area in models.PracticeArea.objects.all():
        assert 3 <= area.specialties.count() <= 5, area
        outcomes = set(area.outcomes.values_list("code", flat=True))
        assert 4 <= len(outcomes) <= 6, area
        assert {"opinion_issued", "filing_done", "referred_outside", "not_in_scope"} <= outcomes
        assert area.usual_documents
        policies = {policy.priority: policy for policy in area.sla_policies.all()}
        assert set(policies) == {"low", "normal", "high", "urgent"}
        assert (
            policies["urgent"].resolution_minutes
            < policies["high"].resolution_minutes
            < policies["normal"].resolution_minutes
            < policies["low"].resolution_minutes
        )
        assert 2 <= area.triage_rules.count() <= 3, area


def test_sectors_and_cooperatives(seeded):
    cooperatives = list(models.Cooperative.objects.select_related("office", "sector"))

    assert models.Sector.objects.count() == 6
    assert 35 <= len(cooperatives) <= 45
    assert len({cooperative.name for cooperative in cooperatives}) == len(cooperatives)
    assert {cooperative.office.code for cooperative in cooperatives} == OFFICE_CODES
    assert {cooperative.sector_id for cooperative in cooperatives} == set(
        models.Sector.objects.values_list("pk", flat=True)
    )
    for cooperative in cooperatives:
        validate_tax_code(cooperative.tax_code)


@pytest.mark.parametrize(
    "model",
    [
        models.Office,
        models.Sector,
        models.Cooperative,
        models.PracticeArea,
        models.Specialty,
        models.OutcomeCode,
        models.SlaPolicy,
        models.TriageRule,
        models.BusinessCalendar,
        models.OpeningHours,
        models.Closure,
        models.Membership,
        models.Consultant,
        models.Supervisor,
    ],
)
def test_every_seeded_row_passes_model_validation(seeded, model):
    rows = list(model._default_manager.all())

    assert rows
    for row in rows:
        row.full_clean()


def test_command_help_is_readable():
    from casework.management.commands.seed_demo import Command

    assert "--reset-passwords" in Command().create_parser("manage.py", "seed_demo").format_help()
