"""`load_federation`: a federation's file loads whole and once, in both languages, or not at all."""

import json
import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from casework import federation
from casework.models import (
    BusinessCalendar,
    Closure,
    Office,
    OpeningHours,
    OutcomeCode,
    PracticeArea,
    Sector,
    SlaPolicy,
    Specialty,
    TriageRule,
)

pytestmark = pytest.mark.django_db

EXAMPLE_FILE = federation.EXAMPLE_FILE
LOADED_MODELS = [
    Office,
    BusinessCalendar,
    OpeningHours,
    Closure,
    Sector,
    PracticeArea,
    Specialty,
    OutcomeCode,
    TriageRule,
    SlaPolicy,
]

# A small federation whose names are given in both languages, except the legal area's.
BILINGUAL = """
sectors:
  - {code: social, name: "Cooperative sociali", name_en: "Social cooperatives"}
areas:
  - code: fiscal
    name: "Fiscale"
    name_en: "Tax"
    reference_prefix: FIS
    description: "Bilancio, IVA e rapporti con il fisco."
    description_en: "Accounts, VAT and the tax office."
    specialties:
      - {code: vat, name: "IVA e fatturazione elettronica", name_en: "VAT and e-invoicing"}
    outcomes:
      - {code: opinion_issued, label: "Parere rilasciato", label_en: "Opinion given"}
  - code: legal
    name: "Legale"
    reference_prefix: LEG
    specialties:
      - {code: contracts, name: "Contratti e convenzioni"}
"""


def _load(path, **options) -> str:
    """Run the command in English (its messages can then be asserted) and return what it said."""
    out = StringIO()
    with translation.override("en"):
        call_command("load_federation", str(path), stdout=out, no_color=True, **options)
    return out.getvalue()


def _refused(path) -> tuple[CommandError, list[str]]:
    """Run the command on a bad file: its error and the problem lines it printed."""
    out, err = StringIO(), StringIO()
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("load_federation", str(path), stdout=out, stderr=err, no_color=True)
    return refused.value, err.getvalue().splitlines()


def _rows() -> dict[str, list[dict]]:
    """Every loaded row with every column, by pk: what any page or report could show of them.

    The columns are named, because modeltranslation's `values()` without names leaves out the
    `name_it` / `name_en` columns (and reads `name` in the active language)."""
    return {
        model._meta.label: list(
            model.objects.order_by("pk").values(
                *[column.attname for column in model._meta.concrete_fields]
            )
        )
        for model in LOADED_MODELS
    }


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in LOADED_MODELS}


def _expected_counts(described: federation.Federation) -> dict[str, int]:
    """The rows a file describes, model by model (an every-year closure is laid on this year
    and the next)."""
    today = timezone.localdate()
    calendars = [office.calendar for office in described.offices if office.calendar]
    areas = described.areas
    return {
        Office._meta.label: len(described.offices),
        BusinessCalendar._meta.label: len(calendars),
        OpeningHours._meta.label: sum(len(calendar.hours) for calendar in calendars),
        Closure._meta.label: sum(
            len(closure.instants(today)) for calendar in calendars for closure in calendar.closures
        ),
        Sector._meta.label: len(described.sectors),
        PracticeArea._meta.label: len(areas),
        Specialty._meta.label: sum(len(area.specialties) for area in areas),
        OutcomeCode._meta.label: sum(len(area.outcomes) for area in areas),
        TriageRule._meta.label: sum(len(area.triage_rules) for area in areas),
        SlaPolicy._meta.label: sum(len(area.sla_policies) for area in areas),
    }


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _example() -> dict:
    """The example file as data, to write changed copies of it."""
    return yaml.safe_load(EXAMPLE_FILE.read_text(encoding="utf-8"))


def _problem_places(problems: list[str]) -> list[str]:
    """Where each problem line says it is: `areas[0].name_en` of `areas[0].name_en: at most ...`."""
    return [problem.split(": ", 1)[0] for problem in problems]


# --- The example federation -------------------------------------------------------------------


def test_example_file_loads_into_an_empty_database_with_one_command():
    described = federation.read(EXAMPLE_FILE)
    expected = _expected_counts(described)
    assert set(_counts().values()) == {0}

    said = _load(EXAMPLE_FILE)

    assert _counts() == expected
    assert all(expected.values()), "the example describes at least one row of each kind"
    assert said.splitlines()[-1] == (
        f"Loaded {EXAMPLE_FILE}: {sum(expected.values())} rows created, 0 updated, 0 removed, "
        "0 unchanged."
    )


def test_dry_run_says_what_would_change_and_writes_nothing():
    total = sum(_expected_counts(federation.read(EXAMPLE_FILE)).values())

    said = _load(EXAMPLE_FILE, dry_run=True)

    assert set(_counts().values()) == {0}
    assert said.splitlines()[-1] == (
        f"{EXAMPLE_FILE} would create {total} rows, update 0 and remove 0 (0 unchanged); "
        "nothing was written (--dry-run)."
    )


def test_every_office_of_the_example_opens_on_the_hours_the_file_gives():
    described = federation.read(EXAMPLE_FILE)

    _load(EXAMPLE_FILE)

    for office in described.offices:
        stored = OpeningHours.objects.filter(calendar__office__code=office.code)
        assert sorted(stored.values_list("weekday", "opens_at", "closes_at")) == sorted(
            office.calendar.hours
        )


def test_second_run_changes_nothing_and_says_so():
    _load(EXAMPLE_FILE)
    rows = _rows()

    said = _load(EXAMPLE_FILE)

    assert _rows() == rows
    assert said.splitlines()[-1] == (
        f"Nothing to change: the database already matches {EXAMPLE_FILE} "
        f"({sum(_counts().values())} rows)."
    )
    # Each part's progress line says so too: nothing created, updated or removed anywhere.
    parts = re.findall(r"(\d+) created, (\d+) updated", said)
    assert len(parts) == len(LOADED_MODELS)
    assert set(parts) == {("0", "0")}
    assert "removed" not in said


def test_a_file_changed_in_one_name_updates_that_row_only(tmp_path):
    _load(EXAMPLE_FILE)
    before = _rows()
    changed = _example()
    area = changed["areas"][-1]
    area["name"] = f"{area['name']} e aggiornamento"
    path = _write(tmp_path, "renamed.yaml", yaml.safe_dump(changed, allow_unicode=True))

    said = _load(path)

    total = sum(_counts().values())
    assert said.splitlines()[-1] == (
        f"Loaded {path}: 0 rows created, 1 updated, 0 removed, {total - 1} unchanged."
    )
    renamed = PracticeArea.objects.get(code=area["code"])
    assert renamed.name_it == area["name"]
    after = _rows()
    differing = [
        (label, old["id"])
        for label in before
        for old, new in zip(before[label], after[label], strict=True)
        if old != new
    ]
    assert differing == [(PracticeArea._meta.label, renamed.pk)]

    again = _load(path)

    assert again.splitlines()[-1].startswith("Nothing to change:")
    assert _rows() == after


# --- Names in both languages -------------------------------------------------------------------


@pytest.mark.parametrize("loaded_in", ["en", "it"])
def test_names_land_in_their_own_language_whatever_language_loads_them(tmp_path, loaded_in):
    path = _write(tmp_path, "bilingual.yaml", BILINGUAL)

    with translation.override(loaded_in):
        call_command("load_federation", str(path), stdout=StringIO())

    fiscal = PracticeArea.objects.get(code="fiscal")
    assert (fiscal.name_it, fiscal.name_en) == ("Fiscale", "Tax")
    assert fiscal.description_en == "Accounts, VAT and the tax office."
    vat = Specialty.objects.get(area=fiscal, code="vat")
    assert (vat.name_it, vat.name_en) == ("IVA e fatturazione elettronica", "VAT and e-invoicing")
    opinion = OutcomeCode.objects.get(area=fiscal, code="opinion_issued")
    assert (opinion.label_it, opinion.label_en) == ("Parere rilasciato", "Opinion given")
    social = Sector.objects.get(code="social")
    assert (social.name_it, social.name_en) == ("Cooperative sociali", "Social cooperatives")


def test_an_italian_reader_reads_italian_and_an_english_one_english(tmp_path):
    _load(_write(tmp_path, "bilingual.yaml", BILINGUAL))

    with translation.override("it"):
        fiscal = PracticeArea.objects.get(code="fiscal")
        italian = (
            fiscal.name,
            fiscal.description,
            fiscal.specialties.get(code="vat").name,
            fiscal.outcomes.get(code="opinion_issued").label,
        )
    with translation.override("en"):
        fiscal = PracticeArea.objects.get(code="fiscal")
        english = (
            fiscal.name,
            fiscal.description,
            fiscal.specialties.get(code="vat").name,
            fiscal.outcomes.get(code="opinion_issued").label,
        )

    assert italian == (
        "Fiscale",
        "Bilancio, IVA e rapporti con il fisco.",
        "IVA e fatturazione elettronica",
        "Parere rilasciato",
    )
    assert english == (
        "Tax",
        "Accounts, VAT and the tax office.",
        "VAT and e-invoicing",
        "Opinion given",
    )


def test_a_name_without_english_reads_the_italian_in_english(tmp_path):
    _load(_write(tmp_path, "bilingual.yaml", BILINGUAL))

    with translation.override("en"):
        legal = PracticeArea.objects.get(code="legal")
        names = (legal.name, legal.specialties.get(code="contracts").name)

    assert names == ("Legale", "Contratti e convenzioni")


def test_loading_again_in_the_other_language_changes_nothing(tmp_path):
    path = _write(tmp_path, "bilingual.yaml", BILINGUAL)
    _load(path)
    rows = _rows()
    out = StringIO()

    with translation.override("it"):
        call_command("load_federation", str(path), stdout=out, no_color=True)

    assert _rows() == rows
    assert out.getvalue().splitlines()[-1].startswith("Nulla da modificare:")


# --- A bad file is refused whole ----------------------------------------------------------------

BAD = f"""
offices:
  - code: BO
    name: Bologna
    calendar:
      opening_hours:
        monday: ["09:00-13:00", "14:00-25:00"]
sectors:
  - name: Cooperative sociali
areas:
  - code: fiscal
    name: Fiscale e tributario
    name_en: "{"T" * 101}"
    reference_prefix: FIS
    colour: blue
"""


def test_a_bad_file_is_refused_with_one_line_per_problem_where_it_is(tmp_path):
    path = _write(tmp_path, "bad.yaml", BAD)

    error, problems = _refused(path)

    assert _problem_places(problems) == [
        "offices[0].calendar.opening_hours.monday[1]",
        "sectors[0].code",
        "areas[0].colour",
        "areas[0].name_en",
    ]
    assert problems[0].endswith("must be a time range written HH:MM-HH:MM, not “14:00-25:00”")
    assert problems[1] == "sectors[0].code: required"
    assert problems[2].startswith("areas[0].colour: unknown key")
    assert problems[3] == "areas[0].name_en: at most 100 characters (this one has 101)"
    assert str(error) == f"{path}: 4 problem(s), nothing was written."
    assert error.returncode == 2


def test_a_bad_file_writes_nothing(tmp_path):
    _load(_write(tmp_path, "bilingual.yaml", BILINGUAL))
    rows = _rows()

    _refused(_write(tmp_path, "bad.yaml", BAD))

    assert _rows() == rows
    assert not Office.objects.exists()


def test_a_file_the_database_disagrees_with_writes_nothing(tmp_path):
    # The file is fine on its own; only the database knows FIS is the fiscal area's prefix.
    _load(_write(tmp_path, "bilingual.yaml", BILINGUAL))
    rows = _rows()
    path = _write(
        tmp_path,
        "clash.yaml",
        """
offices:
  - {code: BO, name: Bologna}
areas:
  - {code: tax, name: Tributario, reference_prefix: FIS}
""",
    )

    error, problems = _refused(path)

    assert problems == ["areas[0].reference_prefix: already the prefix of area “fiscal”"]
    assert str(error) == f"{path}: 1 problem(s), nothing was written."
    assert _rows() == rows
    assert not Office.objects.exists()


def test_a_key_that_is_not_text_is_reported_as_unknown(tmp_path):
    path = _write(
        tmp_path, "numbered.yaml", "sectors:\n  - {code: social, name: Sociali, 2024: x}\n"
    )

    _error, problems = _refused(path)

    assert _problem_places(problems) == ["sectors[0].2024"]


# --- JSON -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["example", "bilingual"])
def test_json_describes_the_same_federation_as_yaml(tmp_path, source):
    data = _example() if source == "example" else yaml.safe_load(BILINGUAL)
    as_yaml = _write(tmp_path, f"{source}.yaml", yaml.safe_dump(data, allow_unicode=True))
    as_json = _write(tmp_path, f"{source}.json", json.dumps(data, ensure_ascii=False, indent=2))
    assert federation.read(as_json) == federation.read(as_yaml)

    said = _load(as_json)

    assert _counts() == _expected_counts(federation.read(as_yaml))
    assert said.splitlines()[-1].startswith(f"Loaded {as_json}: ")
    assert _load(as_yaml).splitlines()[-1].startswith("Nothing to change:")
