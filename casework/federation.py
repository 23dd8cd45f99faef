"""A federation's registry from a YAML or JSON file: read, checked whole, then written in one go.

`read` parses the file and checks all of it without the database, so a bad file is refused with
one line per problem, each naming where it is (`areas[2].outcomes[0].code: required`). `load`
writes what it describes in one transaction, matching rows by their natural keys (office and
sector codes, area codes, a specialty's or outcome's code in its area, a policy's priority, a
triage rule's keyword and specialty, opening hours by weekday and time, a closure by its start),
so running it again changes nothing. Rows the file does not name are left alone, except an
office's opening hours: the file gives the whole week, and hours it no longer lists go.
`manage.py load_federation` is the command; `seed_demo` loads `deploy/federation.example.yaml`
through the same functions without touching what is already there.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models as db_models
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from modeltranslation.translator import translator

from . import tasks
from .models import (
    BusinessCalendar,
    Closure,
    Office,
    OpeningHours,
    OutcomeCode,
    PracticeArea,
    Priority,
    Sector,
    SlaPolicy,
    Specialty,
    TriageRule,
)
from .sla.recompute import running_cases

# The one description of the demo federation (README "Useful commands", seed_demo).
EXAMPLE_FILE = Path(settings.BASE_DIR) / "deploy" / "federation.example.yaml"
# Business calendars carry no time zone of their own: every office counts in this one.
TIME_ZONE = "Europe/Rome"
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
PRIORITIES = [choice.value for choice in Priority]
# The data names in both languages, as casework/translation.py registers them: the file's
# `name` is the Italian one.
TRANSLATED_FIELDS = frozenset(
    name
    for model in (Sector, PracticeArea, Specialty, OutcomeCode)
    for name in translator.get_options_for_model(model).fields
)
DEFAULT_LANGUAGE = settings.MODELTRANSLATION_DEFAULT_LANGUAGE

_SLUG = re.compile(r"^[-a-z0-9_]+$")
_OFFICE_CODE = re.compile(r"^[A-Z]{2,4}$")
_PREFIX = re.compile(r"^[A-Z]{2,5}$")
_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_RANGE = re.compile(r"^\s*(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class FederationFileError(Exception):
    """The file cannot be loaded; `problems` holds one line per problem, each with its path."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# --- What a valid file describes -----------------------------------------------------------


@dataclass(frozen=True)
class ClosureData:
    path: str
    first: date | None  # a dated closure ...
    last: date | None
    every_year: tuple[int, int] | None  # ... or (month, day), laid on this year and the next
    starts: time | None  # on the first day; None for the start of the day
    ends: time | None  # on the last day; None for the end of the day
    reason: str

    def instants(self, today: date) -> list[tuple[datetime, datetime]]:
        zone = ZoneInfo(TIME_ZONE)
        if self.every_year:
            month, day = self.every_year
            days = [(date(year, month, day),) * 2 for year in (today.year, today.year + 1)]
        else:
            days = [(self.first, self.last or self.first)]
        spans = []
        for first, last in days:
            start = datetime.combine(first, self.starts or time(0), tzinfo=zone)
            if self.ends is None:
                end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
            else:
                end = datetime.combine(last, self.ends, tzinfo=zone)
            spans.append((start, end))
        return spans


@dataclass(frozen=True)
class CalendarData:
    values: dict[str, Any]
    hours: list[tuple[int, time, time]]
    closures: list[ClosureData]


@dataclass(frozen=True)
class OfficeData:
    path: str
    code: str
    values: dict[str, Any]
    calendar: CalendarData | None


@dataclass(frozen=True)
class SectorData:
    path: str
    code: str
    values: dict[str, Any]


@dataclass(frozen=True)
class RuleData:
    path: str
    keyword: str
    specialty: str | None
    values: dict[str, Any]


@dataclass(frozen=True)
class AreaData:
    path: str
    code: str
    values: dict[str, Any]
    position: int
    specialties: list[tuple[str, str, dict[str, Any]]]  # (path, code, values)
    outcomes: list[tuple[str, str, dict[str, Any]]]
    triage_rules: list[RuleData]
    sla_policies: list[tuple[str, str, dict[str, Any]]]  # (path, priority, values)


@dataclass(frozen=True)
class Federation:
    offices: list[OfficeData] = field(default_factory=list)
    sectors: list[SectorData] = field(default_factory=list)
    areas: list[AreaData] = field(default_factory=list)


# --- Reading and checking the file ----------------------------------------------------------


def read(path: str | Path) -> Federation:
    """The federation a file describes; FederationFileError lists every problem of a bad one."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise FederationFileError(
            [_("%(file)s: cannot be read (%(error)s)") % {"file": path, "error": error.strerror}]
        ) from error
    return parse(raw, kind=_kind_by_name(path))


def parse(raw: bytes | str, *, kind: str | None = None) -> Federation:
    """`kind` is "yaml" or "json"; None decides by the content (a JSON file starts with `{`)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise FederationFileError(
                [_("byte %(position)d: the file is not UTF-8 text") % {"position": error.start}]
            ) from error
    if kind is None:
        kind = "json" if raw.lstrip().startswith(("{", "[")) else "yaml"
    data = _parse_json(raw) if kind == "json" else _parse_yaml(raw)
    return check(data)


def _kind_by_name(path: Path) -> str | None:
    return {".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(path.suffix.lower())


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FederationFileError(
            [
                _("line %(line)d, column %(column)d: %(problem)s")
                % {"line": error.lineno, "column": error.colno, "problem": error.msg}
            ]
        ) from error


class _YamlLoader(yaml.SafeLoader):
    """YAML's safe loader, but dates stay text (so a bad one is reported at its place, not
    raised by the parser) and 14:00 is the time it looks like, not the base-60 number 840."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag
        not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Whole numbers and decimals as YAML 1.2 writes them (no base 60, no leading-zero octal).
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(0|[1-9][0-9_]*)$"), list("-+0123456789")
)
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def _parse_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader, see above
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or str(error)
        if mark is None:
            raise FederationFileError([problem]) from error
        raise FederationFileError(
            [
                _("line %(line)d, column %(column)d: %(problem)s")
                % {"line": mark.line + 1, "column": mark.column + 1, "problem": problem}
            ]
        ) from error
    except yaml.YAMLError as error:
        raise FederationFileError([str(error).splitlines()[0]]) from error
    except ValueError as error:  # a value the safe constructors refuse
        raise FederationFileError([str(error)]) from error


def check(data: Any) -> Federation:
    """Check a parsed file whole; every problem found is reported, not only the first."""
    checker = _Checker()
    federation = checker.federation(data)
    if checker.problems:
        raise FederationFileError(checker.problems)
    return federation


def _str_time(value: time) -> str:
    return value.strftime("%H:%M")


class _Checker:
    """Walks the parsed file, collecting `path: problem` lines and building the data."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    # -- Shapes -------------------------------------------------------------------------------

    def mapping(
        self, value: Any, path: str, *, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> dict | None:
        if not isinstance(value, dict):
            self.problem(path, _("must be a mapping of keys and values"))
            return None
        known = (*required, *optional)
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = (
                    _("unknown key (did you mean “%(key)s”?)") % {"key": close[0]}
                    if close
                    else _("unknown key (expected one of: %(keys)s)") % {"keys": ", ".join(known)}
                )
                self.problem(_join(path, key), hint)
        for key in required:
            if value.get(key) in (None, ""):
                self.problem(_join(path, key), _("required"))
        return value

    def items(self, value: Any, path: str) -> list[tuple[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, _("must be a list"))
            return []
        return [(f"{path}[{index}]", item) for index, item in enumerate(value)]

    def text(
        self,
        value: Any,
        path: str,
        *,
        max_length: int | None = None,
        pattern: re.Pattern | None = None,
        pattern_says: str = "",
    ) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problem(path, _("must be text"))
            return ""
        value = value.strip()
        if max_length is not None and len(value) > max_length:
            self.problem(
                path,
                _("at most %(max)d characters (this one has %(length)d)")
                % {"max": max_length, "length": len(value)},
            )
        if pattern is not None and value and not pattern.match(value):
            self.problem(path, pattern_says)
        return value

    def code(self, value: Any, path: str, *, max_length: int) -> str:
        return self.text(
            value,
            path,
            max_length=max_length,
            pattern=_SLUG,
            pattern_says=_("lower-case letters, digits, - and _ only"),
        )

    def number(self, value: Any, path: str, *, low: int, high: int | None = None) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, _("must be a whole number"))
            return None
        if value < low or (high is not None and value > high):
            self.problem(
                path,
                _("must be between %(low)d and %(high)d") % {"low": low, "high": high}
                if high is not None
                else _("must be at least %(low)d") % {"low": low},
            )
            return None
        return value

    def flag(self, value: Any, path: str, *, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(path, _("must be true or false"))
            return default
        return value

    def day(self, value: Any, path: str) -> date | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            self.problem(path, _("must be a date (YYYY-MM-DD), without a time"))
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.problem(
            path, _("must be a date written YYYY-MM-DD, not “%(value)s”") % {"value": value}
        )
        return None

    def clock(self, value: Any, path: str) -> time | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML 1.1 reads an unquoted 14:00 as the number 840 (base 60).
            self.problem(path, _('write the time in quotes, e.g. "14:00"'))
            return None
        parsed = _parse_time(value) if isinstance(value, str) else None
        if parsed is None:
            self.problem(
                path, _("must be a time written HH:MM, not “%(value)s”") % {"value": value}
            )
        return parsed

    def day_list(self, value: Any, path: str, *, low: int, high: int) -> str | None:
        """A list of whole days ([3, 7]) or the admin's text ("3,7"), stored as the admin's text."""
        if value is None:
            return None
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not all(part.isascii() and part.isdigit() for part in parts):
                self.problem(path, _("must be a list of whole days, e.g. [3, 7]"))
                return None
            value = [int(part) for part in parts]
        if not isinstance(value, list) or not all(
            isinstance(day, int) and not isinstance(day, bool) for day in value
        ):
            self.problem(path, _("must be a list of whole days, e.g. [3, 7]"))
            return None
        wrong = [day for day in value if not low <= day <= high]
        if wrong:
            self.problem(
                path,
                _("days must be between %(low)d and %(high)d, not %(days)s")
                % {"low": low, "high": high, "days": ", ".join(str(day) for day in wrong)},
            )
            return None
        return ",".join(str(day) for day in dict.fromkeys(value))

    def unique(self, seen: dict, key: Any, path: str) -> None:
        if key in seen:
            self.problem(path, _("the same as %(other)s") % {"other": seen[key]})
        else:
            seen[key] = path

    # -- The file -----------------------------------------------------------------------------

    def federation(self, data: Any) -> Federation:
        if data is None or data == {}:
            self.problems.append(_("the file is empty: expected offices, sectors or areas"))
            return Federation()
        top = self.mapping(data, "", required=(), optional=("offices", "sectors", "areas"))
        if top is None:
            return Federation()
        offices, codes = [], {}
        for path, item in self.items(top.get("offices"), "offices"):
            office = self.office(item, path)
            if office is not None:
                self.unique(codes, office.code, f"{path}.code")
                offices.append(office)
        sectors, codes = [], {}
        for path, item in self.items(top.get("sectors"), "sectors"):
            sector = self.sector(item, path)
            if sector is not None:
                self.unique(codes, sector.code, f"{path}.code")
                sectors.append(sector)
        areas, codes, prefixes = [], {}, {}
        for position, (path, item) in enumerate(self.items(top.get("areas"), "areas"), start=1):
            area = self.area(item, path, position)
            if area is not None:
                self.unique(codes, area.code, f"{path}.code")
                prefix = area.values.get("reference_prefix")
                self.unique(prefixes, prefix, f"{path}.reference_prefix")
                areas.append(area)
        return Federation(offices=offices, sectors=sectors, areas=areas)

    def office(self, item: Any, path: str) -> OfficeData | None:
        data = self.mapping(
            item, path, required=("code", "name"), optional=("city", "email", "calendar")
        )
        if data is None:
            return None
        code = self.text(
            data.get("code"),
            f"{path}.code",
            max_length=4,
            pattern=_OFFICE_CODE,
            pattern_says=_("2 to 4 capital letters (the province code, e.g. BO)"),
        )
        email = self.text(data.get("email"), f"{path}.email", max_length=254)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                self.problem(
                    f"{path}.email", _("not an e-mail address: “%(value)s”") % {"value": email}
                )
        values = _given(
            data,
            name=self.text(data.get("name"), f"{path}.name", max_length=100),
            city=self.text(data.get("city"), f"{path}.city", max_length=100),
            email=email,
        )
        calendar = None
        if data.get("calendar") is not None:
            calendar = self.calendar(data["calendar"], f"{path}.calendar", code)
        return OfficeData(path=path, code=code, values=values, calendar=calendar)

    def calendar(self, item: Any, path: str, office_code: str) -> CalendarData | None:
        data = self.mapping(
            item,
            path,
            required=("opening_hours",),
            optional=("timezone", "national_holidays", "patron_day", "closures"),
        )
        if data is None:
            return None
        zone = data.get("timezone")
        if zone is not None and zone != TIME_ZONE:
            self.problem(
                f"{path}.timezone",
                _("only %(zone)s: every office's business time is counted in it")
                % {"zone": TIME_ZONE},
            )
        patron_day = self.flag(data.get("patron_day"), f"{path}.patron_day", default=True)
        if patron_day and office_code and office_code not in holidays.IT.subdivisions:
            self.problem(
                f"{path}.patron_day",
                _(
                    "the patron-saint day comes from the office code, and %(code)s is not an "
                    "Italian province the holidays calendar knows; set patron_day: false"
                )
                % {"code": office_code},
            )
        return CalendarData(
            values=_given(
                data,
                observe_national_holidays=self.flag(
                    data.get("national_holidays"), f"{path}.national_holidays", default=True
                ),
                observe_patron_day=patron_day,
                keys={
                    "observe_national_holidays": "national_holidays",
                    "observe_patron_day": "patron_day",
                },
            ),
            hours=self.opening_hours(data.get("opening_hours"), f"{path}.opening_hours"),
            closures=self.closures(data.get("closures"), f"{path}.closures"),
        )

    def opening_hours(self, item: Any, path: str) -> list[tuple[int, time, time]]:
        if item is None:
            return []
        data = self.mapping(item, path, required=(), optional=tuple(WEEKDAYS))
        if data is None:
            return []
        hours = []
        for weekday, name in enumerate(WEEKDAYS):
            ranges = data.get(name)
            if isinstance(ranges, str):
                ranges = [ranges]
            day_hours = []
            for range_path, text in self.items(ranges, f"{path}.{name}"):
                found = _RANGE.match(text) if isinstance(text, str) else None
                opens = _parse_time(found.group(1)) if found else None
                closes = _parse_time(found.group(2)) if found else None
                if opens is None or closes is None:
                    self.problem(
                        range_path,
                        _("must be a time range written HH:MM-HH:MM, not “%(value)s”")
                        % {"value": text},
                    )
                    continue
                if closes <= opens:
                    self.problem(range_path, _("closes before it opens"))
                    continue
                for other_opens, other_closes in day_hours:
                    if opens < other_closes and other_opens < closes:
                        self.problem(
                            range_path,
                            _("overlaps %(opens)s-%(closes)s")
                            % {"opens": _str_time(other_opens), "closes": _str_time(other_closes)},
                        )
                day_hours.append((opens, closes))
            hours += [(weekday, opens, closes) for opens, closes in day_hours]
        if not hours and not any(problem.startswith(path) for problem in self.problems):
            self.problem(path, _("open at least one weekday"))
        return hours

    def closures(self, item: Any, path: str) -> list[ClosureData]:
        closures, starts = [], {}
        for closure_path, entry in self.items(item, path):
            data = self.mapping(
                entry,
                closure_path,
                required=(),
                optional=("date", "until", "every_year", "from", "to", "reason"),
            )
            if data is None:
                continue
            first = self.day(data.get("date"), f"{closure_path}.date")
            last = self.day(data.get("until"), f"{closure_path}.until")
            every_year = self.month_day(data.get("every_year"), f"{closure_path}.every_year")
            if data.get("date") is None and data.get("every_year") is None:
                self.problem(closure_path, _("needs a date or every_year"))
            if data.get("date") is not None and data.get("every_year") is not None:
                self.problem(closure_path, _("a date or every_year, not both"))
            if every_year and data.get("until") is not None:
                self.problem(f"{closure_path}.until", _("only with a date, not with every_year"))
            if first and last and last < first:
                self.problem(f"{closure_path}.until", _("before the closure's date"))
            starts_at = self.clock(data.get("from"), f"{closure_path}.from")
            ends_at = self.clock(data.get("to"), f"{closure_path}.to")
            if starts_at and ends_at and ends_at <= starts_at and (last is None or last == first):
                self.problem(f"{closure_path}.to", _("must be after “from” on a one-day closure"))
            closure = ClosureData(
                path=closure_path,
                first=first,
                last=last,
                every_year=every_year,
                starts=starts_at,
                ends=ends_at,
                reason=self.text(data.get("reason"), f"{closure_path}.reason", max_length=200),
            )
            if first or every_year:
                key = (first, every_year, starts_at)
                self.unique(starts, key, closure_path)
                closures.append(closure)
        return closures

    def month_day(self, value: Any, path: str) -> tuple[int, int] | None:
        if value is None:
            return None
        found = _MONTH_DAY.match(value.strip()) if isinstance(value, str) else None
        if found:
            month, day = int(found.group(1)), int(found.group(2))
            try:
                date(2001, month, day)  # not a leap year: 02-29 is not every year
                return month, day
            except ValueError:
                pass
        self.problem(path, _('must be a day of every year written MM-DD, e.g. "12-24"'))
        return None

    def sector(self, item: Any, path: str) -> SectorData | None:
        data = self.mapping(item, path, required=("code", "name"), optional=("name_en",))
        if data is None:
            return None
        return SectorData(
            path=path,
            code=self.code(data.get("code"), f"{path}.code", max_length=40),
            values=self.translated(
                data,
                path,
                {"name": self.text(data.get("name"), f"{path}.name", max_length=100)},
                max_lengths={"name": 100},
            ),
        )

    def area(self, item: Any, path: str, position: int) -> AreaData | None:
        data = self.mapping(
            item,
            path,
            required=("code", "name", "reference_prefix"),
            optional=(
                "name_en",
                "description",
                "description_en",
                "usual_documents",
                "usual_documents_en",
                "default_priority",
                "confirmation_days",
                "waiting_reminder_days",
                "deadline_reminder_days",
                "auto_close_warning_days",
                "is_active",
                "position",
                "specialties",
                "outcomes",
                "triage_rules",
                "sla_policies",
            ),
        )
        if data is None:
            return None
        default_priority = self.text(data.get("default_priority"), f"{path}.default_priority")
        if default_priority and default_priority not in PRIORITIES:
            self.problem(f"{path}.default_priority", _priority_problem(default_priority))
        values = _given(
            data,
            name=self.text(data.get("name"), f"{path}.name", max_length=100),
            reference_prefix=self.text(
                data.get("reference_prefix"),
                f"{path}.reference_prefix",
                pattern=_PREFIX,
                pattern_says=_("2 to 5 capital letters, e.g. LEG"),
            ),
            description=self.text(data.get("description"), f"{path}.description"),
            usual_documents=self.text(data.get("usual_documents"), f"{path}.usual_documents"),
            default_priority=default_priority,
            is_active=self.flag(data.get("is_active"), f"{path}.is_active", default=True),
            position=self.number(data.get("position"), f"{path}.position", low=0, high=32767),
            confirmation_days=self.number(
                data.get("confirmation_days"), f"{path}.confirmation_days", low=1, high=60
            ),
            auto_close_warning_days=self.number(
                data.get("auto_close_warning_days"),
                f"{path}.auto_close_warning_days",
                low=0,
                high=30,
            ),
            waiting_reminder_days=self.day_list(
                data.get("waiting_reminder_days"), f"{path}.waiting_reminder_days", low=1, high=60
            ),
            deadline_reminder_days=self.day_list(
                data.get("deadline_reminder_days"),
                f"{path}.deadline_reminder_days",
                low=1,
                high=60,
            ),
        )
        values = self.translated(data, path, values, max_lengths={"name": 100})
        specialties = self.named(
            data.get("specialties"), f"{path}.specialties", label_key="name", label_length=100
        )
        outcomes = self.named(
            data.get("outcomes"), f"{path}.outcomes", label_key="label", label_length=120
        )
        return AreaData(
            path=path,
            code=self.code(data.get("code"), f"{path}.code", max_length=20),
            values=values,
            # A new area without a position goes where the file puts it.
            position=position,
            specialties=specialties,
            outcomes=outcomes,
            triage_rules=self.triage_rules(
                data.get("triage_rules"),
                f"{path}.triage_rules",
                {code for _path, code, _values in specialties},
            ),
            sla_policies=self.sla_policies(data.get("sla_policies"), f"{path}.sla_policies"),
        )

    def named(
        self, item: Any, path: str, *, label_key: str, label_length: int
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """Specialties ({code, name}) and outcomes ({code, label, is_active})."""
        found, codes = [], {}
        optional = (f"{label_key}_en", *(("is_active",) if label_key == "label" else ()))
        for entry_path, entry in self.items(item, path):
            data = self.mapping(entry, entry_path, required=("code", label_key), optional=optional)
            if data is None:
                continue
            code = self.code(data.get("code"), f"{entry_path}.code", max_length=40)
            values = _given(
                data,
                **{
                    label_key: self.text(
                        data.get(label_key), f"{entry_path}.{label_key}", max_length=label_length
                    ),
                    "is_active": self.flag(
                        data.get("is_active"), f"{entry_path}.is_active", default=True
                    ),
                },
            )
            values = self.translated(
                data, entry_path, values, max_lengths={label_key: label_length}
            )
            if code:
                self.unique(codes, code, f"{entry_path}.code")
            found.append((entry_path, code, values))
        return found

    def translated(
        self, data: dict, path: str, values: dict[str, Any], *, max_lengths: dict[str, int]
    ) -> dict[str, Any]:
        """The translated names (casework/translation.py) in their columns, whatever language is
        active: the file's `name` is the Italian one, `name_en` the English one (optional: left
        out, the English reads the Italian). Other values stay as they are."""
        translated = TRANSLATED_FIELDS.intersection(values) | {
            key.removesuffix("_en") for key in data if isinstance(key, str) and key.endswith("_en")
        }
        values = dict(values)
        for name in sorted(translated):
            if name in values:
                values[f"{name}_{DEFAULT_LANGUAGE}"] = values.pop(name)
            english = data.get(f"{name}_en")
            if english is not None:
                values[f"{name}_en"] = self.text(
                    english, f"{path}.{name}_en", max_length=max_lengths.get(name)
                )
        return values

    def triage_rules(self, item: Any, path: str, specialties: set[str]) -> list[RuleData]:
        rules, keys = [], {}
        for position, (rule_path, entry) in enumerate(self.items(item, path), start=1):
            data = self.mapping(
                entry,
                rule_path,
                required=("priority",),
                optional=("keyword", "specialty", "is_active"),
            )
            if data is None:
                continue
            keyword = self.text(data.get("keyword"), f"{rule_path}.keyword", max_length=80)
            specialty = self.code(data.get("specialty"), f"{rule_path}.specialty", max_length=40)
            if not keyword and not specialty:
                self.problem(rule_path, _("needs a keyword, a specialty or both"))
            if specialty and specialty not in specialties:
                self.problem(
                    f"{rule_path}.specialty",
                    _("“%(code)s” is not one of this area's specialties") % {"code": specialty},
                )
            priority = self.text(data.get("priority"), f"{rule_path}.priority")
            if priority and priority not in PRIORITIES:
                self.problem(f"{rule_path}.priority", _priority_problem(priority))
            self.unique(keys, (keyword.lower(), specialty), rule_path)
            rules.append(
                RuleData(
                    path=rule_path,
                    keyword=keyword,
                    specialty=specialty or None,
                    values={
                        **_given(
                            data,
                            priority=priority,
                            is_active=self.flag(
                                data.get("is_active"), f"{rule_path}.is_active", default=True
                            ),
                        ),
                        "position": position,
                    },
                )
            )
        return rules

    def sla_policies(self, item: Any, path: str) -> list[tuple[str, str, dict[str, Any]]]:
        if item is None:
            return []
        data = self.mapping(item, path, required=(), optional=tuple(PRIORITIES))
        if data is None:
            return []
        policies = []
        for priority in PRIORITIES:
            if priority not in data:
                continue
            policy_path = f"{path}.{priority}"
            targets = self.mapping(
                data[priority],
                policy_path,
                required=("first_response_minutes", "resolution_minutes"),
                optional=("warning_percent",),
            )
            if targets is None:
                continue
            first = self.number(
                targets.get("first_response_minutes"),
                f"{policy_path}.first_response_minutes",
                low=1,
            )
            resolution = self.number(
                targets.get("resolution_minutes"), f"{policy_path}.resolution_minutes", low=1
            )
            warning = self.number(
                targets.get("warning_percent"), f"{policy_path}.warning_percent", low=1, high=100
            )
            if first and resolution and first > resolution:
                self.problem(
                    f"{policy_path}.first_response_minutes",
                    _("longer than the resolution target (%(minutes)d)") % {"minutes": resolution},
                )
            policies.append(
                (
                    policy_path,
                    priority,
                    _given(
                        targets,
                        first_response_minutes=first,
                        resolution_minutes=resolution,
                        warning_percent=warning,
                    ),
                )
            )
        return policies


def _given(data: dict, *, keys: dict[str, str] | None = None, **values: Any) -> dict[str, Any]:
    """The values of the keys the file gives (`keys` maps a field to its key in the file when
    they differ): what it leaves out keeps the model's default on a new row and the stored
    value on an existing one."""
    keys = keys or {}
    return {
        name: value for name, value in values.items() if data.get(keys.get(name, name)) is not None
    }


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _parse_time(text: str) -> time | None:
    found = _TIME.match(text.strip())
    if not found:
        return None
    hours, minutes = int(found.group(1)), int(found.group(2))
    if hours == 24 and minutes == 0:
        return None  # a range ends at 23:59 at the latest: times are within one day
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


def _priority_problem(value: str) -> str:
    return _("unknown priority “%(value)s” (one of: %(known)s)") % {
        "value": value,
        "known": ", ".join(PRIORITIES),
    }


# --- Writing it ------------------------------------------------------------------------------


@dataclass
class Summary:
    """Per model (its label, e.g. "casework.office"): rows created, updated, unchanged, deleted."""

    counts: dict[str, Counter] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def add(self, model: type[db_models.Model], outcome: str, number: int = 1) -> None:
        label = model._meta.label_lower
        self.names.setdefault(label, str(model._meta.verbose_name_plural))
        self.counts.setdefault(label, Counter())[outcome] += number

    @property
    def changed(self) -> int:
        return sum(c["created"] + c["updated"] + c["deleted"] for c in self.counts.values())

    def line(self, label: str) -> str:
        counts = self.counts[label]
        text = _("%(name)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged") % {
            "name": self.names[label],
            "created": counts["created"],
            "updated": counts["updated"],
            "unchanged": counts["unchanged"],
        }
        if counts["deleted"]:
            text += _(", %(deleted)d removed") % {"deleted": counts["deleted"]}
        return text

    def lines(self, models: list[type[db_models.Model]]) -> list[str]:
        return [
            self.line(m._meta.label_lower) for m in models if m._meta.label_lower in self.counts
        ]


OFFICE_MODELS = [Office, BusinessCalendar, OpeningHours, Closure]
SECTOR_MODELS = [Sector]
AREA_MODELS = [PracticeArea, Specialty, OutcomeCode, SlaPolicy, TriageRule]


def load(
    federation: Federation,
    *,
    update_existing: bool = True,
    today: date | None = None,
    progress=None,
) -> Summary:
    """Write the federation in one transaction; rows already there are matched by their codes.

    With `update_existing` off (seed_demo), what is there is never altered, only what is
    missing is added. `progress(step, lines)` is told each step's counts as it ends. Raises
    FederationFileError, with nothing written, when the database disagrees with the file (a
    reference prefix another area uses, a triage rule's specialty that does not exist).
    """
    loader = _Loader(update_existing=update_existing, today=today or timezone.localdate())
    with transaction.atomic():
        loader.check_against_database(federation)
        loader.offices(federation.offices)
        if progress and federation.offices:
            progress(_("Offices and calendars"), loader.summary.lines(OFFICE_MODELS))
        loader.sectors(federation.sectors)
        if progress and federation.sectors:
            progress(_("Sectors"), loader.summary.lines(SECTOR_MODELS))
        loader.areas(federation.areas)
        if progress and federation.areas:
            progress(_("Practice areas"), loader.summary.lines(AREA_MODELS))
    return loader.summary


class _Loader:
    def __init__(self, *, update_existing: bool, today: date) -> None:
        self.update_existing = update_existing
        self.today = today
        self.summary = Summary()

    def check_against_database(self, federation: Federation) -> None:
        problems = []
        prefixes = dict(PracticeArea.objects.values_list("reference_prefix", "code"))
        for area in federation.areas:
            owner = prefixes.get(area.values["reference_prefix"])
            if owner is not None and owner != area.code:
                problems.append(
                    f"{area.path}.reference_prefix: "
                    + _("already the prefix of area “%(code)s”") % {"code": owner}
                )
        if problems:
            raise FederationFileError(problems)

    def upsert(
        self,
        model: type[db_models.Model],
        path: str,
        lookup: dict,
        values: dict,
        *,
        on_create: dict | None = None,
    ) -> tuple[db_models.Model, bool]:
        """The row of `lookup`, created or brought in line with `values`; True if it changed."""
        row = model.objects.filter(**lookup).first()
        if row is None:
            row = model(**lookup, **{**(on_create or {}), **values})
            self.save(row, path)
            self.summary.add(model, "created")
            return row, True
        differs = [name for name, value in values.items() if getattr(row, name) != value]
        if not differs or not self.update_existing:
            self.summary.add(model, "unchanged")
            return row, False
        for name in differs:
            setattr(row, name, values[name])
        self.save(row, path)
        self.summary.add(model, "updated")
        return row, True

    def save(self, row: db_models.Model, path: str) -> None:
        # The file was checked already; the model's own validation is the last word, and its
        # error names the place in the file (the transaction then writes nothing).
        try:
            row.full_clean()
        except ValidationError as error:
            raise FederationFileError(
                [
                    f"{path}.{name}: {message}" if name != "__all__" else f"{path}: {message}"
                    for name, messages in error.message_dict.items()
                    for message in messages
                ]
            ) from error
        # The untranslated column of a translated name holds the Italian, as the migration left it.
        with translation.override(DEFAULT_LANGUAGE):
            row.save()

    # -- Offices and calendars ------------------------------------------------------------------

    def offices(self, offices: list[OfficeData]) -> None:
        for data in offices:
            office, _changed = self.upsert(Office, data.path, {"code": data.code}, data.values)
            if data.calendar is not None:
                self.calendar(office, data.calendar, f"{data.path}.calendar")

    def calendar(self, office: Office, data: CalendarData, path: str) -> None:
        calendar, changed = self.upsert(
            BusinessCalendar,
            path,
            {"office": office},
            data.values,
        )
        wanted = {(weekday, opens): closes for weekday, opens, closes in data.hours}
        for (weekday, opens), closes in wanted.items():
            _row, hours_changed = self.upsert(
                OpeningHours,
                f"{path}.opening_hours.{WEEKDAYS[weekday]}",
                {"calendar": calendar, "weekday": weekday, "opens_at": opens},
                {"closes_at": closes},
            )
            changed |= hours_changed
        if self.update_existing:
            stale = [
                row.pk
                for row in OpeningHours.objects.filter(calendar=calendar)
                if (row.weekday, row.opens_at) not in wanted
            ]
            if stale:
                OpeningHours.objects.filter(pk__in=stale).delete()
                self.summary.add(OpeningHours, "deleted", len(stale))
                changed = True
        for closure in data.closures:
            for starts_at, ends_at in closure.instants(self.today):
                _row, closure_changed = self.upsert(
                    Closure,
                    closure.path,
                    {"calendar": calendar, "starts_at": starts_at},
                    {"ends_at": ends_at, "reason": closure.reason},
                )
                changed |= closure_changed
        if changed:
            # Every process rebuilds a calendar whose stamp moved; running cases get new due
            # instants once this is committed (as when the admin edits a calendar).
            BusinessCalendar.objects.filter(pk=calendar.pk).update(updated_at=timezone.now())
            self.recompute(office_id=office.pk)

    def recompute(self, **scope) -> None:
        if running_cases(**scope).exists():
            tasks.recompute_due_times.delay_on_commit(**scope)

    # -- Sectors and areas ----------------------------------------------------------------------

    def sectors(self, sectors: list[SectorData]) -> None:
        for data in sectors:
            self.upsert(Sector, data.path, {"code": data.code}, data.values)

    def areas(self, areas: list[AreaData]) -> None:
        for data in areas:
            area, _changed = self.upsert(
                PracticeArea,
                data.path,
                {"code": data.code},
                data.values,
                on_create={"position": data.position},
            )
            specialties = {}
            for path, code, values in data.specialties:
                specialties[code], _changed = self.upsert(
                    Specialty, path, {"area": area, "code": code}, values
                )
            for path, code, values in data.outcomes:
                self.upsert(OutcomeCode, path, {"area": area, "code": code}, values)
            policies_changed = False
            for path, priority, values in data.sla_policies:
                _row, changed = self.upsert(
                    SlaPolicy, path, {"area": area, "priority": priority}, values
                )
                policies_changed |= changed
            if policies_changed:
                self.recompute(area_id=area.pk)
            for rule in data.triage_rules:
                self.upsert(
                    TriageRule,
                    rule.path,
                    {
                        "area": area,
                        "keyword": rule.keyword,
                        "specialty": specialties.get(rule.specialty) if rule.specialty else None,
                    },
                    rule.values,
                )
