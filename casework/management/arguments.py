"""What the management commands share about their arguments: the error of a bad one, an office."""

from django.core.management.base import CommandError
from django.db import DatabaseError

from casework.models import Office

# Bad arguments exit with 2, as argparse's own errors do.
BAD_ARGUMENTS = 2


def bad_argument(message: str) -> CommandError:
    return CommandError(message, returncode=BAD_ARGUMENTS)


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
