"""`manage.py merge_cooperatives ABSORBED INTO`: one cooperative absorbs another (by tax code)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.errors import CaseError
from casework.management.arguments import OneLineErrorsCommand, bad_argument
from casework.models import Cooperative
from casework.services.cooperatives import COMMAND_LINE, merge_cooperatives
from casework.validators import normalise_tax_code


class Command(OneLineErrorsCommand):
    help = gettext_lazy(
        "Merge a cooperative into another (fusione per incorporazione), both by tax code: its "
        "cases, deadlines, people, pending invitations, service plans and incoming e-mails move "
        "to the absorbing one; it stays, ceased. --dry-run prints what would move and writes "
        "nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "absorbed", metavar="ABSORBED_TAX_CODE", help=gettext_lazy("The absorbed cooperative.")
        )
        parser.add_argument(
            "into", metavar="INTO_TAX_CODE", help=gettext_lazy("The cooperative that absorbs it.")
        )
        parser.add_argument(
            "--note", default="", help=gettext_lazy("Kept on each moved case's timeline.")
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext_lazy("Print what would move; write nothing."),
        )

    def handle(self, *args, absorbed, into, note, dry_run, **options):
        try:
            summary = merge_cooperatives(
                absorbed=_by_tax_code(absorbed),
                into=_by_tax_code(into),
                actor=COMMAND_LINE,
                note=note,
                dry_run=dry_run,
            )
        except CaseError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(summary.text())


def _by_tax_code(tax_code: str) -> Cooperative:
    found = Cooperative.objects.filter(tax_code=normalise_tax_code(tax_code)).first()
    if found is None:
        raise bad_argument(
            _("No cooperative has the tax code “%(tax_code)s”.") % {"tax_code": tax_code.strip()}
        )
    return found
