"""Check an office's calendar: the instant N business minutes on, or the minutes between two."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError

from casework.models import Office
from casework.sla.clocks import calendar_for_office

ROME = ZoneInfo("Europe/Rome")


def parse_instant(value: str) -> datetime:
    """ISO 8601; without an offset the instant is Europe/Rome wall-clock time."""
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Not an ISO 8601 date and time: {value!r}") from error
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=ROME)
    return instant


class Command(BaseCommand):
    help = (
        "Print the instant N business minutes after --start in an office's calendar "
        "(--minutes), or the business minutes between two instants (--between A B)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--office", required=True, help="Province code of the office, e.g. BO")
        parser.add_argument("--start", help="Start instant, e.g. 2026-12-24T17:30 (Europe/Rome)")
        parser.add_argument("--minutes", type=int, help="Business minutes to add")
        parser.add_argument("--between", nargs=2, metavar=("A", "B"), help="Two instants")

    def handle(self, *args, office, start, minutes, between, **options):
        found = Office.objects.filter(code=office.upper()).first()
        if found is None:
            known = ", ".join(Office.objects.values_list("code", flat=True)) or "none"
            raise CommandError(f"Unknown office {office!r} (known: {known}).")
        calendar = calendar_for_office(found.pk)
        if between:
            first, second = (parse_instant(value) for value in between)
            self.stdout.write(
                f"Office {found.code}: business minutes from {first.isoformat()} "
                f"to {second.isoformat()}"
            )
            self.stdout.write(str(calendar.minutes_between(first, second)))
            return
        if start is None or minutes is None:
            raise CommandError("Give --start and --minutes, or --between A B.")
        if minutes < 0:
            raise CommandError("--minutes must be 0 or more.")
        instant = parse_instant(start)
        self.stdout.write(
            f"Office {found.code}: {minutes} business minutes after {instant.isoformat()}"
        )
        self.stdout.write(calendar.add_minutes(instant, minutes).isoformat())
