"""`manage.py billing_csv --since YYYY-MM-DD --until YYYY-MM-DD`: the billing file of a period.

The same rows as the supervisors' `/work/reports/billing.csv`, of every case, written to the
standard output (or `--output`) in the spreadsheet convention of `--language`.
"""

import csv
import re
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from casework import csvexport, hours
from casework.management.arguments import bad_argument

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value, name: str) -> date:
    if value is None:
        raise bad_argument(f"{name} is required (YYYY-MM-DD).")
    if not ISO_DATE.fullmatch(value):
        raise bad_argument(f"{name}: not a date: {value!r} (YYYY-MM-DD, e.g. 2026-01-31).")
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise bad_argument(f"{name}: not a date: {value!r} ({error}).") from error


class Command(BaseCommand):
    help = (
        "Write the billing file of a period: one row per time entry dated from --since to "
        "--until (both included), within the cooperative's plan, beyond it, or with no plan."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="First day, YYYY-MM-DD")
        parser.add_argument("--until", help="Last day, YYYY-MM-DD")
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            help="Language of the headings and numbers (it: ';' and decimal commas; en: ',')",
        )
        parser.add_argument("--output", help="A file to write instead of the standard output")

    def handle(self, *args, since, until, language, output, **options):
        since, until = parse_date(since, "--since"), parse_date(until, "--until")
        if until < since:
            raise bad_argument(f"--until ({until}) comes before --since ({since}).")
        if language not in dict(settings.LANGUAGES):
            raise bad_argument(
                f"--language: one of {', '.join(dict(settings.LANGUAGES))}, not {language!r}."
            )
        with translation.override(language):
            rows = hours.billing_rows(None, since=since, until=until)
            if output:
                with open(output, "w", encoding="utf-8", newline="") as target:
                    self._write(target, rows)
            else:
                self._write(self.stdout, rows)

    def _write(self, target, rows) -> None:
        writer = csv.writer(
            target, delimiter=csvexport.delimiter(), lineterminator=csvexport.LINE_END
        )
        for row in rows:
            writer.writerow([csvexport.cell(value) for value in row])
