"""Run housekeeping's purges by hand: all of them, or those named; `--dry-run` only counts."""

from __future__ import annotations

import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from casework import housekeeping


class Command(BaseCommand):
    help = (
        "Delete the rows nobody needs any more: expired sessions, lapsed login lockouts, sent "
        "e-mails, day-old idempotency keys, old staff reads of cases (see the README). Names: "
        f"{', '.join(housekeeping.PURGES)}; none means all."
    )

    def add_arguments(self, parser):
        parser.add_argument("purges", nargs="*", metavar="purge", help="Which purges to run")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be deleted, delete nothing"
        )
        parser.add_argument(
            "--batch-size", type=int, help="Rows per transaction (default PURGE_BATCH_SIZE)"
        )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # argparse prints its usage and, from the shell, exits before Django's own handling of
        # CommandError: bad arguments end in one line and exit code 2 either way.
        parser.error = self._bad_arguments
        return parser

    def _bad_arguments(self, message: str):
        error = bad_arguments(message)
        if not getattr(self, "_called_from_command_line", False):
            raise error
        self.stderr.write(f"CommandError: {error}")
        sys.exit(error.returncode)

    def handle(self, *args, purges, dry_run, batch_size, verbosity, **options):
        unknown = [name for name in purges if name not in housekeeping.PURGES]
        if unknown:
            raise bad_arguments(
                f"unknown purge {unknown[0]!r} (known: {', '.join(housekeeping.PURGES)})"
            )
        if batch_size is not None and batch_size < 1:
            raise bad_arguments(f"--batch-size must be 1 or more, not {batch_size}")
        results = []
        for name in dict.fromkeys(purges or housekeeping.PURGES):
            label = housekeeping.PURGES[name].label

            def progress(deleted, label=label):
                self.stderr.write(f"{label}: {deleted:,} deleted so far…")

            try:
                result = housekeeping.purge_run(
                    name=name,
                    batch_size=batch_size,
                    dry_run=dry_run,
                    progress=progress if verbosity else None,
                )
            except ImproperlyConfigured as error:
                raise CommandError(str(error)) from error
            results.append(result)
            if verbosity:
                verb = "would be deleted" if dry_run else "deleted"
                self.stdout.write(f"{label}: {result.count:,} {verb}")
        self.stdout.write(summary(results, dry_run=dry_run))


def bad_arguments(message: str) -> CommandError:
    return CommandError(f"{message} (manage.py purge --help)", returncode=2)


def summary(results: list[housekeeping.PurgeResult], *, dry_run: bool) -> str:
    counts = ", ".join(f"{result.count:,} {result.purge.label}" for result in results)
    total = sum(result.count for result in results)
    if dry_run:
        return f"Dry run, nothing deleted: {total:,} rows would go ({counts})."
    return f"Purged {total:,} rows ({counts})."
