"""The case page's panel of who sees and follows a case: confidentiality and participants.

The panel (`templates/_sharing.html`, the portal's too) reads `casework.selectors.sharing_of`;
these views post to the process, which asks `casework.policy` as every other action does.
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

from .views import _render_case, _visible_case, staff_required

ANCHOR = "sharing"


def _back(case):
    return redirect(reverse("work:case", args=[case.pk]) + f"#{ANCHOR}")


def _refused(request, case, refused: CaseError):
    """A refusal of the actor or of the state: said on the page it goes back to. Wrong input
    (a person who may not follow the case): the case page again, with the words, as a 400."""
    messages.error(request, str(refused))
    if isinstance(refused, ConflictError | ForbiddenError | NotFoundError):
        return _back(case)
    response = _render_case(request, case)
    response.status_code = 400
    return response


@staff_required
@require_POST
def case_confidential(request, case_id):
    case = _visible_case(request.user, case_id)
    value = request.POST.get("confidential", "")
    if value not in ("0", "1"):
        return _refused(request, case, CaseError(_("Say whether the case is confidential.")))
    try:
        process.case_set_confidential(case=case, actor=request.user, confidential=value == "1")
    except CaseError as refused:
        return _refused(request, case, refused)
    messages.success(request, confidential_words(case, confidential=value == "1"))
    return _back(case)


def confidential_words(case, *, confidential: bool) -> str:
    if confidential:
        return _("%(reference)s is now confidential.") % {"reference": case.reference}
    return _("%(reference)s is no longer confidential.") % {"reference": case.reference}


@staff_required
@require_POST
def participant_add(request, case_id):
    case = _visible_case(request.user, case_id)
    person = person_named(request.POST.get("user"))
    try:
        process.case_add_participant(case=case, actor=request.user, person=person)
    except CaseError as refused:
        return _refused(request, case, refused)
    messages.success(
        request,
        _("%(person)s now follows %(reference)s.")
        % {"person": person.get_full_name() or person.get_username(), "reference": case.reference},
    )
    return _back(case)


@staff_required
@require_POST
def participant_remove(request, case_id, user_id):
    case = _visible_case(request.user, case_id)
    person = person_named(str(user_id))
    try:
        process.case_remove_participant(case=case, actor=request.user, person=person)
    except CaseError as refused:
        return _refused(request, case, refused)
    messages.success(
        request,
        _("%(person)s no longer follows %(reference)s.")
        % {"person": person.get_full_name() or person.get_username(), "reference": case.reference},
    )
    return _back(case)
