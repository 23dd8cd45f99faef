"""Domain errors: a refused move says why, and the API maps each kind to its HTTP status."""

from django.utils.translation import gettext_lazy as _


class CaseError(Exception):
    """A request the domain refuses because the input is wrong (400)."""

    code = "invalid"
    default_message = _("The request cannot be carried out.")

    def __init__(self, message=None, *, code: str | None = None):
        self.message = message or self.default_message
        if code:
            self.code = code
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)


class ConflictError(CaseError):
    """The move does not fit the current state (already claimed, already resolved...) (409)."""

    code = "conflict"
    default_message = _("The case is not in a state that allows this.")


class ForbiddenError(CaseError):
    """The user may see the case but their role may not do this (403)."""

    code = "forbidden"
    default_message = _("Your role does not allow this action.")


class NotFoundError(CaseError):
    code = "not_found"
    default_message = _("Not found.")
