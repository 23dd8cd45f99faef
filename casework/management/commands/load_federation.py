"""`manage.py load_federation FILE`: a federation's offices, calendars, sectors and areas from YAML
or JSON (casework.federation; the example is deploy/federation.example.yaml).

The whole file is checked first: a bad one prints one line per problem on stderr, each with its
place in the file, and exits with status 2, nothing written. A good one is written in one
transaction, matched by codes, so a second run changes nothing and says so.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework import federation
from casework.management.arguments import BAD_ARGUMENTS


class _DryRun(Exception):
    """Raised inside the transaction of --dry-run so that nothing it wrote stays."""


class Command(BaseCommand):
    help = gettext_lazy(
        "Load a federation's offices with their calendars, sectors and practice areas (with "
        "specialties, outcomes, triage rules and SLA policies) from a YAML or JSON file. "
        "Rows are matched by their codes: running it again changes nothing."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # argparse needs a real string, not a lazy translation.
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", help=gettext_lazy("The federation file (.yaml, .yml or .json)"))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext_lazy("Check the file and say what would change, writing nothing."),
        )

    def handle(self, *args, file: str, dry_run: bool = False, **options):
        verbose = options["verbosity"] > 0
        try:
            described = federation.read(file)
            summary = self._load(described, dry_run=dry_run, verbose=verbose)
        except federation.FederationFileError as bad:
            for problem in bad.problems:
                self.stderr.write(problem)
            raise CommandError(
                _("%(file)s: %(count)d problem(s), nothing was written.")
                % {"file": file, "count": len(bad.problems)},
                returncode=BAD_ARGUMENTS,
            ) from bad
        except DatabaseError as error:
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise CommandError(
                _("The database cannot be written (%(reason)s); run `manage.py migrate` first.")
                % {"reason": reason}
            ) from error
        self.stdout.write(self._conclusion(file, summary, dry_run=dry_run))

    def _load(self, described, *, dry_run: bool, verbose: bool) -> federation.Summary:
        def progress(step: str, lines: list[str]) -> None:
            if verbose:
                self.stdout.write(f"{step}: " + "; ".join(lines))

        if not dry_run:
            return federation.load(described, progress=progress)
        try:
            with transaction.atomic():
                summary = federation.load(described, progress=progress)
                raise _DryRun
        except _DryRun:
            return summary

    def _conclusion(self, file: str, summary: federation.Summary, *, dry_run: bool) -> str:
        totals = {
            outcome: sum(counts[outcome] for counts in summary.counts.values())
            for outcome in ("created", "updated", "unchanged", "deleted")
        }
        if not summary.changed:
            return self.style.SUCCESS(
                _("Nothing to change: the database already matches %(file)s (%(unchanged)d rows).")
                % {"file": file, "unchanged": totals["unchanged"]}
            )
        numbers = {"file": file, **totals}
        if dry_run:
            text = _(
                "%(file)s would create %(created)d rows, update %(updated)d and remove "
                "%(deleted)d (%(unchanged)d unchanged); nothing was written (--dry-run)."
            )
        else:
            text = _(
                "Loaded %(file)s: %(created)d rows created, %(updated)d updated, %(deleted)d "
                "removed, %(unchanged)d unchanged."
            )
        return self.style.SUCCESS(text % numbers)
