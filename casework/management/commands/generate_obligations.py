"""`manage.py generate_obligations`: the recurring obligations' deadlines and the cases now due."""

from __future__ import annotations

from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.management.arguments import OneLineErrorsCommand, bad_argument
from casework.models import RecurringObligation
from casework.services import obligations


class Command(OneLineErrorsCommand):
    help = gettext_lazy(
        "Generate each cooperative's deadlines of the recurring obligations for the next twelve "
        "months and open the cases due now (as beat does every night). Running it again creates "
        "nothing new. --dry-run counts what it would do and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext_lazy("Count what would be created and opened; write nothing."),
        )
        parser.add_argument(
            "--obligation",
            type=int,
            action="append",
            metavar="ID",
            help=gettext_lazy("Only this obligation of the catalogue (repeatable)."),
        )

    def handle(self, *args, dry_run, obligation, verbosity, **options):
        if obligation:
            self._check_ids(obligation)
        if verbosity > 0:
            self.stdout.write(
                _("Recurring obligations from %(today)s, twelve months ahead%(dry)s.")
                % {
                    "today": timezone.localdate().isoformat(),
                    "dry": _(" (dry run: nothing is written)") if dry_run else "",
                }
            )
        summary = obligations.obligations_generate(
            dry_run=dry_run,
            obligation_ids=obligation,
            progress=self._progress if verbosity > 0 else None,
        )
        self.stdout.write(summary_line(summary))
        if summary.as_dict()["invalid"]:
            self.stderr.write(
                _("Some obligations were not generated: fix their rule in the admin.")
            )

    def _check_ids(self, ids: list[int]) -> None:
        try:
            active = set(
                RecurringObligation.objects.filter(pk__in=ids, is_active=True).values_list(
                    "pk", flat=True
                )
            )
        except DatabaseError as error:
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise bad_argument(
                _("The database cannot be read (%(reason)s); run `manage.py migrate` first.")
                % {"reason": reason}
            ) from error
        unknown = [pk for pk in ids if pk not in active]
        if unknown:
            raise bad_argument(
                _("--obligation %(id)d: no active recurring obligation has this id.")
                % {"id": unknown[0]}
            )

    def _progress(self, run: obligations.ObligationRun) -> None:
        if run.invalid:
            self.stderr.write(
                _("%(name)s: not generated, its rule is wrong: %(problems)s")
                % {"name": run.name, "problems": "; ".join(run.problems)}
            )
            return
        self.stdout.write(
            _(
                "%(name)s: %(created)d deadlines created, %(existing)d already there; "
                "%(opened)d cases opened, %(no_people)d skipped (nobody at the cooperative), "
                "%(refused)d refused"
            )
            % {
                "name": run.name,
                "created": run.deadlines_created,
                "existing": run.deadlines_existing,
                "opened": run.cases_opened,
                "no_people": run.skipped_no_people,
                "refused": run.skipped_refused,
            }
        )
        for problem in run.problems:
            self.stderr.write(f"  {problem}")


def summary_line(summary: obligations.GenerationSummary) -> str:
    """The last line: what the run did, or (dry) would do."""
    counts = summary.as_dict()
    words = {
        "obligations": counts["obligations"],
        "created": counts["deadlines_created"],
        "existing": counts["deadlines_existing"],
        "opened": counts["cases_opened"],
        "skipped": counts["skipped_no_people"] + counts["skipped_refused"],
    }
    if summary.dry_run:
        return (
            _(
                "Dry run, %(obligations)d obligations: %(created)d deadlines would be created, "
                "%(existing)d already there; %(opened)d cases would be opened, %(skipped)d "
                "skipped."
            )
            % words
        )
    return (
        _(
            "%(obligations)d obligations: %(created)d deadlines created, %(existing)d already "
            "there; %(opened)d cases opened, %(skipped)d skipped."
        )
        % words
    )
