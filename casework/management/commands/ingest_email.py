"""`manage.py ingest_email [--mailbox NAME] < message.eml`: take one message from a pipe.

What an MTA alias runs (`sportello: "|/srv/sportello/.venv/bin/python manage.py ingest_email"`):
the message is taken exactly as a poll of the mailbox would take it, once per Message-ID (a
message piped twice is one case), and one line says what it became. Exit status 0 once it is
recorded, whatever it became; 2 for a bad argument or no message; 75 (EX_TEMPFAIL, which mail
servers answer by trying again later) when the database cannot be reached.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.management.arguments import bad_argument
from casework.models import InboundEmail, Mailbox
from casework.services.mail_intake import mail_take

# sysexits.h: a temporary failure; Postfix, Exim and sendmail keep the message and retry.
TEMPORARY_FAILURE = 75


class Command(BaseCommand):
    help = gettext_lazy(
        "Take one e-mail message from standard input into a mailbox (--mailbox, or the only "
        "enabled one) and print what it became."
    )
    # call_command("ingest_email", stdin=io.BytesIO(raw)) in the tests.
    stealth_options = ("stdin",)

    def create_parser(self, prog_name, subcommand, **kwargs):
        # argparse needs a real string, not a lazy translation.
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            "--mailbox", help=gettext_lazy("The mailbox's name (needed when several are enabled)")
        )
        parser.add_argument(
            "file",
            nargs="?",
            help=gettext_lazy("A message file (.eml); without it, the message is read from stdin"),
        )

    def handle(self, *args, mailbox=None, file=None, **options):
        found = self._mailbox(mailbox)
        if file:
            try:
                raw = Path(file).read_bytes()
            except OSError as unreadable:
                raise bad_argument(
                    _("Cannot read %(file)s: %(error)s.")
                    % {"file": file, "error": unreadable.strerror or unreadable}
                ) from unreadable
        else:
            raw = _read(options.get("stdin") or sys.stdin)
        if not raw.strip():
            raise bad_argument(_("No message on standard input (give it with `< message.eml`)."))
        try:
            inbound = mail_take(mailbox=found, raw=raw)
        except (OperationalError, InterfaceError) as error:
            raise CommandError(
                _("The database cannot be reached (%(error)s); the message was not taken.")
                % {"error": _first_line(error)},
                returncode=TEMPORARY_FAILURE,
            ) from error
        self.stdout.write(outcome(inbound))

    def _mailbox(self, name: str | None) -> Mailbox:
        """The named mailbox, or the only enabled one; a one-line error naming the choices."""
        try:
            mailboxes = list(Mailbox.objects.order_by("name"))
        except (OperationalError, InterfaceError) as error:
            raise CommandError(
                _("The database cannot be reached (%(error)s).") % {"error": _first_line(error)},
                returncode=TEMPORARY_FAILURE,
            ) from error
        except DatabaseError as error:
            raise CommandError(
                _("The database has no mailboxes to read (%(error)s); run `manage.py migrate`.")
                % {"error": _first_line(error)}
            ) from error
        enabled = [box for box in mailboxes if box.is_enabled]
        choices = ", ".join(box.name for box in enabled) or _("none")
        if name is None:
            if len(enabled) == 1:
                return enabled[0]
            if not enabled:
                raise bad_argument(_("No mailbox is enabled: add one in the admin (Mailboxes)."))
            raise bad_argument(
                _("Several mailboxes are enabled: give --mailbox, one of: %(choices)s.")
                % {"choices": choices}
            )
        for box in mailboxes:
            if box.name == name:
                if not box.is_enabled:
                    raise bad_argument(
                        _("Mailbox %(name)r is disabled (enabled: %(choices)s).")
                        % {"name": name, "choices": choices}
                    )
                return box
        raise bad_argument(
            _("Unknown mailbox %(name)r (enabled: %(choices)s).")
            % {"name": name, "choices": choices}
        )


def _read(stream) -> bytes:
    """The message's bytes as they came: from a binary stream, or a text one's buffer."""
    binary = getattr(stream, "buffer", stream)
    data = binary.read()
    return data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data


def _first_line(error: BaseException) -> str:
    return _line(str(error), default=type(error).__name__)


def _line(text: str, *, default: str) -> str:
    return (text.strip().splitlines() or [default])[0]


def outcome(inbound: InboundEmail) -> str:
    """What a message became, in one line."""
    Status = InboundEmail.Status
    reference = inbound.case.reference if inbound.case_id else ""
    if inbound.status == Status.OPENED:
        return _("opened case %(reference)s") % {"reference": reference}
    if inbound.status == Status.REPLIED:
        return _("added to %(reference)s") % {"reference": reference}
    if inbound.status == Status.RECEIPT:
        if reference:
            return _("PEC receipt on %(reference)s") % {"reference": reference}
        return _("PEC receipt, for no e-mail Sportello sent")
    if inbound.status == Status.IGNORED:
        return _("ignored: %(reason)s") % {
            "reason": inbound.get_ignored_reason_display() or _("no reason recorded")
        }
    if inbound.status == Status.UNMATCHED:
        return _("waiting for a supervisor")
    if inbound.status == Status.LINKED:
        return _("linked by a supervisor to %(reference)s") % {"reference": reference}
    if inbound.status == Status.DISCARDED:
        return _("discarded by a supervisor")
    return _("failed: %(error)s") % {"error": _line(inbound.error, default=_("no error recorded"))}
