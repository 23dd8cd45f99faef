"""What the management commands share about their arguments: the error of a bad one, an office."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from casework.models import Office

# Bad arguments exit with 2, as argparse's own errors do.
BAD_ARGUMENTS = 2


def bad_argument(message: str) -> CommandError:
    return CommandError(message, returncode=BAD_ARGUMENTS)


class OneLineErrorsCommand(BaseCommand):
    """A command whose bad arguments end in one line and exit code 2, from the shell as from
    `call_command` (a CommandError): argparse would print its usage and exit before Django
    handles the error. The line names `manage.py <command> --help`."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        # argparse needs a real string, not a lazy translation.
        self.help = str(self.help)
        self._subcommand = subcommand
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.error = self._bad_arguments
        return parser

    def _bad_arguments(self, message: str):
        error = bad_argument(f"{message} (manage.py {self._subcommand} --help)")
        if not getattr(self, "_called_from_command_line", False):
            raise error
        self.stderr.write(f"CommandError: {error}")
        sys.exit(error.returncode)


def office_by_code(code: str) -> Office:
    """The office of a province code; a one-line error for an unknown one or an empty database."""
    try:
        found = Office.objects.filter(code=code.upper()).first()
        known = [] if found else list(Office.objects.values_list("code", flat=True))
    except DatabaseError as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise CommandError(
            f"The database has no offices to read ({reason}); run `manage.py migrate` and "
            "`manage.py seed_demo` first."
        ) from error
    if found is None:
        raise bad_argument(
            f"Unknown office {code!r} (known: {', '.join(known) or 'none, run seed_demo'})."
        )
    return found
