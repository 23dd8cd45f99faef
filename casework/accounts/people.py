"""A cooperative's "People" page: its active members with their roles, its pending invitations
(resend, revoke), an invite form, and "remove from the cooperative".

One page in two places: the portal (`/people/<cooperative>/`) for the cooperative's legal
representatives and referents, and the workspace (`/work/cooperatives/<cooperative>/people/`) for
staff. Who sees the cooperative is `cooperatives.cooperatives_known_to` (404 otherwise); who may act
on its people is `policy` (`PeopleAction`: 403 for a plain member); the writes are
`services.invitations`.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casework.cooperatives import cooperatives_known_to
from casework.errors import CaseError
from casework.models import Cooperative, Invitation, Membership
from casework.policy import PEOPLE_MANAGER_ROLES, may_act_on_people, may_manage_people
from casework.roles import roles_of
from casework.services.invitations import (
    invitation_create,
    invitation_resend,
    invitation_revoke,
    invitation_state,
    membership_deactivate,
)

from .forms import InviteForm

ROLE_ORDER = {role: position for position, role in enumerate(Membership.Role.values)}


class Place:
    """Where the page is shown: its layout and the names of its URLs."""

    def __init__(self, code: str, base: str, prefix: str):
        self.code, self.base, self.prefix = code, base, prefix

    def url(self, what: str, cooperative_id: int, *args) -> str:
        return reverse(f"{self.prefix}{what}", args=[cooperative_id, *args])


PORTAL = Place("portal", "portal/layout.html", "portal-people")
WORKSPACE = Place("work", "workspace/base.html", "work:cooperative_people")
PLACES = {place.code: place for place in (PORTAL, WORKSPACE)}


def _people_page(view):
    """The cooperative of the URL, seen (404) and managed (403) by the reader, in its place."""

    @login_required
    @wraps(view)
    def guarded(request, cooperative_id: int, *args, place: str, **kwargs):
        place = PLACES[place]
        roles = roles_of(request.user)
        if place is WORKSPACE and not roles.is_staff_role:
            raise PermissionDenied
        if place is PORTAL and roles.is_staff_role and not roles.is_member_of(cooperative_id):
            return redirect(WORKSPACE.url("", cooperative_id))
        cooperative = cooperatives_known_to(request.user).filter(pk=cooperative_id).first()
        if cooperative is None:
            raise Http404(_("No such cooperative."))
        if not may_manage_people(roles, cooperative.pk):
            raise PermissionDenied(
                _("Only the cooperative's legal representatives and referents manage its people.")
            )
        return view(request, cooperative, *args, place=place, **kwargs)

    return guarded


def _page(request, cooperative: Cooperative, place: Place, *, form=None, status=200):
    roles = roles_of(request.user)
    now = timezone.now()
    memberships = Membership.objects.filter(cooperative=cooperative).select_related("user")
    active, former = [], []
    for membership in sorted(
        memberships,
        key=lambda m: (
            ROLE_ORDER.get(m.role, len(ROLE_ORDER)),
            (m.user.last_name or "").lower(),
            (m.user.first_name or "").lower(),
            m.user.username,
        ),
    ):
        row = {
            "membership": membership,
            "removable": membership.is_active
            and may_act_on_people(roles, cooperative.pk, role=membership.role),
            "remove_url": place.url("_remove", cooperative.pk, membership.pk),
            "is_me": membership.user_id == request.user.pk,
        }
        (active if membership.is_active else former).append(row)
    invitations = [
        {
            "invitation": invitation,
            "state": invitation_state(invitation, now=now),
            "manageable": may_act_on_people(roles, cooperative.pk, role=invitation.role),
            "resend_url": place.url("_resend", cooperative.pk, invitation.pk),
            "revoke_url": place.url("_revoke", cooperative.pk, invitation.pk),
        }
        for invitation in Invitation.objects.filter(
            cooperative=cooperative, status=Invitation.Status.PENDING
        ).select_related("invited_by")
    ]
    return render(
        request,
        "accounts/people.html",
        {
            "base": place.base,
            "place": place.code,
            "cooperative": cooperative,
            "active": active,
            "former": former,
            "invitations": invitations,
            "form": form or InviteForm(user=request.user, cooperative_id=cooperative.pk),
            "invite_url": place.url("_invite", cooperative.pk),
            "back_url": reverse("work:cooperative", args=[cooperative.pk])
            if place is WORKSPACE
            else reverse("portal-cases"),
            "section": "cooperatives",
        },
        status=status,
    )


@_people_page
@require_GET
def people_page(request, cooperative, *, place):
    return _page(request, cooperative, place)


@_people_page
@require_POST
def people_invite(request, cooperative, *, place):
    form = InviteForm(request.POST, user=request.user, cooperative_id=cooperative.pk)
    if form.is_valid():
        try:
            sent = invitation_create(
                by=request.user,
                cooperative=cooperative,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                language=form.cleaned_data["language"],
            )
        except CaseError as error:
            field = error.code if error.code in form.fields else None
            form.add_error(field, str(error))
        else:
            text = (
                _("The invitation to %(email)s was sent again, with a new link.")
                if sent.resent
                else _("An invitation was sent to %(email)s.")
            )
            messages.success(request, text % {"email": sent.invitation.email})
            return redirect(place.url("", cooperative.pk))
    return _page(request, cooperative, place, form=form, status=400)


def _invitation_of(cooperative, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.filter(cooperative=cooperative, pk=invitation_id).first()
    if invitation is None:
        raise Http404(_("No such invitation."))
    return invitation


def _done(request, cooperative, place, action, success: str):
    """Run one write; its refusal is a message on the page, never a 500."""
    try:
        result = action()
    except CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success % result)
    return redirect(place.url("", cooperative.pk))


@_people_page
@require_POST
def people_resend(request, cooperative, invitation_id: int, *, place):
    invitation = _invitation_of(cooperative, invitation_id)

    def resend():
        return {"email": invitation_resend(by=request.user, invitation=invitation).invitation.email}

    return _done(
        request,
        cooperative,
        place,
        resend,
        _("The invitation to %(email)s was sent again, with a new link."),
    )


@_people_page
@require_POST
def people_revoke(request, cooperative, invitation_id: int, *, place):
    invitation = _invitation_of(cooperative, invitation_id)
    return _done(
        request,
        cooperative,
        place,
        lambda: {"email": invitation_revoke(by=request.user, invitation=invitation).email},
        _("The invitation to %(email)s was revoked: its link no longer works."),
    )


@_people_page
@require_POST
def people_remove(request, cooperative, membership_id: int, *, place):
    membership = Membership.objects.filter(cooperative=cooperative, pk=membership_id).first()
    if membership is None:
        raise Http404(_("No such person in this cooperative."))

    def remove():
        left = membership_deactivate(by=request.user, membership=membership)
        return {"name": left.user.get_full_name() or left.user.get_username()}

    response = _done(
        request,
        cooperative,
        place,
        remove,
        _("%(name)s no longer acts for the cooperative; their cases keep their history."),
    )
    left_myself = (
        membership.user_id == request.user.pk
        and not Membership.objects.filter(pk=membership.pk, is_active=True).exists()
    )
    # A person who left the cooperative has no business on its page any more.
    return redirect("home") if left_myself and place is PORTAL else response


@login_required
@require_GET
def people_home(request):
    """The portal's "People" link: the cooperative the portal shows, if the reader manages its
    people, else the first they manage; a 403 for a person who manages none."""
    roles = roles_of(request.user)
    managed = [
        pk for pk in sorted(roles.cooperative_ids) if roles.role_in(pk) in PEOPLE_MANAGER_ROLES
    ]
    if not managed:
        raise PermissionDenied
    current = request.session.get("portal_cooperative_id")
    return redirect(PORTAL.url("", current if current in managed else managed[0]))


def _routes(prefix: str, place: str, name: str) -> list:
    kwargs = {"place": place}
    return [
        path(f"{prefix}<int:cooperative_id>/people/", people_page, kwargs, name=name),
        path(
            f"{prefix}<int:cooperative_id>/people/invite/",
            people_invite,
            kwargs,
            name=f"{name}_invite",
        ),
        path(
            f"{prefix}<int:cooperative_id>/people/invitations/<int:invitation_id>/resend/",
            people_resend,
            kwargs,
            name=f"{name}_resend",
        ),
        path(
            f"{prefix}<int:cooperative_id>/people/invitations/<int:invitation_id>/revoke/",
            people_revoke,
            kwargs,
            name=f"{name}_revoke",
        ),
        path(
            f"{prefix}<int:cooperative_id>/people/members/<int:membership_id>/remove/",
            people_remove,
            kwargs,
            name=f"{name}_remove",
        ),
    ]


def portal_urlpatterns() -> list:
    """The portal's routes: `/people/` and `/cooperatives/<id>/people/...`."""
    return [
        path("people/", people_home, name="portal-people-home"),
        *_routes("cooperatives/", "portal", "portal-people"),
    ]


def workspace_urlpatterns() -> list:
    """The workspace's routes (namespace `work`): `/work/cooperatives/<id>/people/...`."""
    return _routes("cooperatives/", "work", "cooperative_people")
