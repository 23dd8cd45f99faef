"""Check an office's calendar: the instant N business minutes on, or the minutes between two."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError

from casework.management.arguments import bad_argument, office_by_code
from casework.sla.clocks import calendar_for_office

ROME = ZoneInfo("Europe/Rome")
# No SLA target is longer: a million business minutes is about eight years of a 40-hour week.
MAX_MINUTES = 1_000_000


def parse_instant(value: str, name: str) -> datetime:
    """ISO 8601; without an offset the instant is Europe/Rome wall-clock time."""
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as error:
        raise bad_argument(
            f"{name}: not an ISO 8601 date and time: {value!r} (e.g. 2026-12-24T17:30)."
        ) from error
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=ROME)
    return instant


def parse_minutes(value: str) -> int:
    try:
        minutes = int(value)
    except ValueError as error:
        raise bad_argument(f"--minutes: not a whole number: {value!r}.") from error
    if not 1 <= minutes <= MAX_MINUTES:
        raise bad_argument(f"--minutes must be between 1 and {MAX_MINUTES:,}, not {minutes:,}.")
    return minutes


class Command(BaseCommand):
    help = (
        "Print the instant N business minutes after --start in an office's calendar "
        "(--start and --minutes), or the business minutes between two instants (--between A B)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--office", required=True, help="Province code of the office, e.g. BO")
        parser.add_argument("--start", help="Start instant, e.g. 2026-12-24T17:30 (Europe/Rome)")
        parser.add_argument("--minutes", help=f"Business minutes to add, from 1 to {MAX_MINUTES:,}")
        parser.add_argument(
            "--between", nargs=2, metavar=("A", "B"), help="Two instants, A not after B"
        )

    def handle(self, *args, office, start, minutes, between, **options):
        # Every argument is checked before the database is read.
        if between and (start is not None or minutes is not None):
            raise bad_argument("Give either --start and --minutes, or --between A B, not both.")
        if between:
            first, second = (
                parse_instant(value, name) for value, name in zip(between, "AB", strict=True)
            )
            if second < first:
                raise bad_argument(
                    f"--between A B: B ({second.isoformat()}) is before A ({first.isoformat()})."
                )
        elif start is None or minutes is None:
            raise bad_argument("Give --start and --minutes, or --between A B.")
        else:
            count = parse_minutes(minutes)
            instant = parse_instant(start, "--start")

        found = office_by_code(office)
        try:
            calendar = calendar_for_office(found.pk)
        except ValueError as error:
            # The office's calendar rows, not the arguments (e.g. no opening hours at all).
            raise CommandError(f"Office {found.code}'s calendar is not usable: {error}.") from error
        try:
            if between:
                header = (
                    f"Office {found.code}: business minutes from {first.isoformat()} "
                    f"to {second.isoformat()}"
                )
                answer = str(calendar.minutes_between(first, second))
            else:
                header = (
                    f"Office {found.code}: {count} business minutes after {instant.isoformat()}"
                )
                answer = calendar.add_minutes(instant, count).isoformat()
        except (ValueError, OverflowError) as error:
            # The calendar's own range and sanity checks (e.g. year 9999 is beyond it).
            raise bad_argument(f"Office {found.code}'s calendar cannot answer: {error}.") from error
        self.stdout.write(header)
        self.stdout.write(answer)
