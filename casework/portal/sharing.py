"""The portal's panel of who follows a case: its participants, and whether it is confidential.

The panel (`templates/_sharing.html`, the workspace's too) reads `casework.selectors.sharing_of`;
who may change what is `casework.policy`'s, asked by the services behind `workflows.process`.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework.errors import CaseError, ConflictError, ForbiddenError, NotFoundError
from casework.selectors import person_named
from workflows import process

from .views import _case_page, _member_case, member_page


def _back(case):
    return redirect(reverse("portal-case", args=[case.pk]) + "#sharing")


def _refused(request, case, refused: CaseError):
    """A role or a state that does not allow it: said on the case page. A person who may not
    follow the case: the page again with the words at its top, as a 400."""
    messages.error(request, str(refused))
    if isinstance(refused, ConflictError | ForbiddenError | NotFoundError):
        return _back(case)
    return _case_page(request, case, status=400)


def _name(person) -> str:
    return person.get_full_name() or person.get_username()


@member_page
@require_POST
def portal_case_confidential(request, pk):
    case = _member_case(request, pk)
    value = request.POST.get("confidential", "")
    if value not in ("0", "1"):
        return _refused(request, case, CaseError(_("Say whether the case is confidential.")))
    try:
        process.case_set_confidential(case=case, actor=request.user, confidential=value == "1")
    except CaseError as refused:
        return _refused(request, case, refused)
    messages.success(
        request,
        _("The case is now confidential.")
        if value == "1"
        else _("The case is no longer confidential: the referents see it too."),
    )
    return _back(case)


@member_page
@require_POST
def portal_case_participant_add(request, pk):
    case = _member_case(request, pk)
    person = person_named(request.POST.get("user"))
    try:
        process.case_add_participant(case=case, actor=request.user, person=person)
    except CaseError as refused:
        return _refused(request, case, refused)
    messages.success(
        request,
        _("%(person)s now follows the case and receives its messages.") % {"person": _name(person)},
    )
    return _back(case)


@member_page
@require_POST
def portal_case_participant_remove(request, pk, user_id):
    case = _member_case(request, pk)
    person = person_named(user_id)
    try:
        process.case_remove_participant(case=case, actor=request.user, person=person)
    except CaseError as refused:
        return _refused(request, case, refused)
    messages.success(
        request, _("%(person)s no longer follows the case.") % {"person": _name(person)}
    )
    return _back(case)
