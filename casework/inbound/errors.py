"""The refusals of mail intake: each has a code the intake records beside the message it kept."""

from django.utils.translation import gettext_lazy as _

from ..errors import CaseError


class InboundError(CaseError):
    """A message (or a part of one) that intake cannot take as it is."""

    code = "inbound"
    default_message = _("The message cannot be read.")


class MessageTooLarge(InboundError):
    """The raw message is over the size limit; it was refused before anything parsed it."""

    code = "message_too_large"
    default_message = _("The message is too large to be taken in.")


class UnreadableMessage(InboundError):
    """Nothing of the message can be read: empty, or no header at all (it is not an e-mail)."""

    code = "unreadable_message"
    default_message = _("The message cannot be read: it is empty or has no headers.")


class DaticertRefused(InboundError):
    """A `daticert.xml` that declares entities (internal or external): never expanded, fetched."""

    code = "daticert_refused"
    default_message = _("The certified data of the PEC message declare entities and were refused.")


class DaticertUnreadable(InboundError):
    """A `daticert.xml` that is not well-formed XML, or not a `postacert` document."""

    code = "daticert_unreadable"
    default_message = _("The certified data of the PEC message cannot be read.")
