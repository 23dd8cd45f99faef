"""`manage.py seed_demo`: create the demo data (idempotent; see casework.demo and the README)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework import demo, demo_obligations

# Each case is driven through the real process (300 take about 40 s); larger federations are
# what `make bench` loads.
MAX_CASES = 10_000


class Command(BaseCommand):
    help = gettext_lazy(
        "Create the demo offices, areas, SLA policies, cooperatives and people. Running it again "
        "creates only what is missing and changes nothing else."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # argparse needs a real string, not a lazy translation.
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            "--cases",
            type=int,
            default=300,
            help=gettext_lazy("How many demo cases to run through the process (first run only)."),
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help=_("Set the password of every existing demo account back to the demo one."),
        )

    def handle(self, *args, **options):
        try:
            # Before anything else: with DEBUG off nothing is written, no superuser made.
            demo.refuse_outside_development()
        except demo.DemoRefused as refused:
            raise CommandError(str(refused)) from refused
        if not 0 <= options["cases"] <= MAX_CASES:
            # Exit code 2 for a bad argument, as argparse's own errors.
            raise CommandError(
                _("--cases must be between 0 and %(max)d, not %(cases)d.")
                % {"max": MAX_CASES, "cases": options["cases"]},
                returncode=2,
            )
        progress = self.stdout if options["verbosity"] > 0 else None
        counts: dict[str, dict[str, int]] = {}
        counts.update(
            demo.seed_registry(stdout=progress, reset_passwords=options["reset_passwords"])
        )
        counts.update(demo_obligations.seed_obligations(stdout=progress))
        if options["cases"] > 0:
            # The workflow layer drives cases through the real process; imported here so the
            # registry part stays usable on its own.
            from workflows.demo import seed_cases

            counts.update(seed_cases(count=options["cases"], stdout=progress))
            # The obligations' deadlines and the cases due now, as the nightly run makes them.
            counts.update(demo_obligations.generate(stdout=progress))
        # This year's service plans; with cases, Alfa's hours and an estimate waiting on it.
        from workflows.demo_hours import seed_hours

        counts.update(seed_hours(stdout=progress))
        created = sum(row["created"] for row in counts.values())
        found = sum(row["found"] for row in counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo data: %(created)d created, %(found)d already there.")
                % {"created": created, "found": found}
            )
        )
