"""Check a deadline: the date a term of days or months of a kind falls due, from a start date."""

import re
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from casework.management.arguments import bad_argument, office_by_code
from casework.sla.clocks import calendar_for_office
from casework.sla.deadlines import (
    Deadline,
    DeadlineError,
    DeadlineKind,
    check_trigger,
    deadline,
    explain,
)

KINDS = ", ".join(DeadlineKind)
# date.fromisoformat also takes 20260715 and 2026-W29-3; the command asks for one spelling.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: str) -> date:
    if not ISO_DATE.fullmatch(value):
        raise bad_argument(f"--start: not a date: {value!r} (YYYY-MM-DD, e.g. 2026-07-15).")
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise bad_argument(f"--start: not a date: {value!r} ({error}).") from error


def parse_term(value: str, name: str) -> int:
    try:
        term = int(value)
    except ValueError as error:
        raise bad_argument(f"{name}: not a whole number: {value!r}.") from error
    if term < 1:
        raise bad_argument(f"{name} must be 1 or more, not {term}.")
    return term


class Command(BaseCommand):
    help = (
        "Print the date a deadline falls due: --kind and --start with --days or --months "
        "(business terms: --days and --office; fixed deadlines: no term). The last line is the "
        "ISO date."
    )

    def add_arguments(self, parser):
        # Nothing is required or restricted here: a missing or wrong value gets the command's own
        # one-line error (exit 2), not argparse's usage block.
        parser.add_argument("--kind", help=f"One of: {KINDS}")
        parser.add_argument("--start", help="Trigger date, YYYY-MM-DD (not counted)")
        parser.add_argument("--days", help="Term in days (open days of the office for business)")
        parser.add_argument("--months", help="Term in months, by the common calendar")
        parser.add_argument("--office", help="Province code of the office, e.g. BO (business)")

    def handle(self, *args, kind, start, days, months, office, **options):
        # Every argument is checked before the database is read.
        if kind is None:
            raise bad_argument(f"Give --kind, one of: {KINDS}.")
        try:
            kind = DeadlineKind(kind)
        except ValueError:
            raise bad_argument(f"Unknown --kind {kind!r} (known: {KINDS}).") from None
        if start is None:
            raise bad_argument("Give --start, the trigger date (YYYY-MM-DD).")
        trigger = parse_date(start)
        try:
            check_trigger(trigger)
        except DeadlineError as error:
            raise bad_argument(f"{str(error)[:1].upper()}{str(error)[1:]}.") from error
        term = {
            "days": parse_term(days, "--days") if days is not None else None,
            "months": parse_term(months, "--months") if months is not None else None,
        }
        business = kind is DeadlineKind.BUSINESS
        if business and office is None:
            raise bad_argument("A business deadline counts an office's open days: give --office.")
        if not business and office is not None:
            raise bad_argument(
                f"--office is for business deadlines only; a {kind} deadline ignores offices."
            )
        # Which terms a kind takes, and their range, are the module's rules. For a business term
        # an office open every day gives the earliest possible date: if even that is refused, the
        # database is not read.
        found = self._compute(
            kind, trigger, calendar=(lambda day: True) if business else None, **term
        )
        if not business:
            self.stdout.write(explain(found))
            self.stdout.write(found.due.isoformat())
            return

        found_office = office_by_code(office)
        try:
            calendar = calendar_for_office(found_office.pk)
        except ValueError as error:
            # The office's calendar rows, not the arguments (e.g. no opening hours at all).
            raise CommandError(
                f"Office {found_office.code}'s calendar is not usable: {error}."
            ) from error
        found = self._compute(kind, trigger, calendar=calendar, **term)
        self.stdout.write(explain(found, office=found_office.code))
        self.stdout.write(found.due.isoformat())

    def _compute(self, kind: DeadlineKind, trigger: date, **term) -> Deadline:
        try:
            return deadline(kind, trigger, **term)
        except DeadlineError as error:
            raise bad_argument(f"{str(error)[:1].upper()}{str(error)[1:]}.") from error
