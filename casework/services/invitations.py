"""Writes to the people of a cooperative: invitations (create, resend, revoke, accept) and a
person leaving the cooperative (a deactivated membership, never a deletion).

Who may do each is `casework.policy` (`PeopleAction`); the invitation's link carries a random
secret (`secrets.token_urlsafe(32)`) of which only the SHA-256 is stored, so neither a database
copy nor the outbox (it forgets the text of a sent invitation) opens an account. A link works
once, for seven days (`Invitation.expires_at`); a resend replaces its secret, so the older link
stops working. An invitation to an address that already has an account adds the membership to
that account when its owner, signed in, accepts it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..account_mail import absolute_url, account_mail_queue
from ..errors import CaseError, ConflictError, ForbiddenError, NotFoundError
from ..models import Cooperative, Invitation, Membership, UserProfile
from ..models.accounts import INVITATION_VALID_FOR
from ..policy import PeopleAction, check_people_action

Role = Membership.Role
Status = Invitation.Status
EMAIL_MAX_LENGTH = Invitation._meta.get_field("email").max_length


def token_hash(token: str) -> str:
    """What is stored of a link's secret: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def invitation_url(token: str) -> str:
    return absolute_url(reverse("invitation", args=[token]))


def normalise_email(email: str) -> str:
    """An address as invitations store and compare it: trimmed and in lower case (mail servers
    and Django's password reset treat addresses without regard to case)."""
    return (email or "").strip().lower()


def accounts_with_email(email: str):
    return get_user_model().objects.filter(email__iexact=normalise_email(email))


def invitation_state(invitation: Invitation, *, now=None) -> str:
    """`pending`, `accepted`, `revoked`, or `expired` (pending, but past its seven days)."""
    now = now or timezone.now()
    if invitation.status == Status.PENDING and invitation.expires_at <= now:
        return "expired"
    return invitation.status


# --- Inviting ----------------------------------------------------------------------------------


def _checked_email(email: str) -> str:
    email = normalise_email(email)
    if not email:
        raise CaseError(_("Give the e-mail address of the person to invite."), code="email")
    if len(email) > EMAIL_MAX_LENGTH:
        raise CaseError(
            _("An e-mail address has at most %(n)d characters.") % {"n": EMAIL_MAX_LENGTH},
            code="email",
        )
    try:
        validate_email(email)
    except ValidationError as error:
        raise CaseError(
            _("“%(email)s” is not a valid e-mail address.") % {"email": email}, code="email"
        ) from error
    return email


def _checked_role(role: str) -> str:
    if role not in Role.values:
        raise CaseError(
            _("“%(role)s” is not a role in a cooperative; choose one of: %(roles)s.")
            % {"role": role, "roles": ", ".join(Role.values)},
            code="role",
        )
    return role


def _checked_language(language: str | None) -> str:
    language = language or settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        raise CaseError(
            _("“%(language)s” is not a language of Sportello; choose one of: %(languages)s.")
            % {"language": language, "languages": ", ".join(dict(settings.LANGUAGES))},
            code="language",
        )
    return language


@dataclass(frozen=True)
class Sent:
    """An invitation just sent, and the secret of its link (never stored; for the e-mail and,
    in tests, for opening it)."""

    invitation: Invitation
    token: str
    resent: bool = False


def invitation_check(
    *, by, cooperative: Cooperative, email: str, role: str, language: str | None = None
) -> tuple[str, str, str]:
    """What `invitation_create` checks before it writes (the admin's form asks it too): the
    address, role and language as they will be stored; a refusal otherwise."""
    email = _checked_email(email)
    role = _checked_role(role)
    language = _checked_language(language)
    check_people_action(PeopleAction.INVITE, by, cooperative_id=cooperative.pk, role=role)
    _check_not_member(cooperative, email)
    return email, role, language


def _check_not_member(cooperative: Cooperative, email: str) -> None:
    if Membership.objects.filter(
        cooperative=cooperative, is_active=True, user__email__iexact=email
    ).exists():
        raise ConflictError(
            _("%(email)s is already a member of %(cooperative)s.")
            % {"email": email, "cooperative": cooperative.name},
            code="already_member",
        )


@transaction.atomic
def invitation_create(
    *, by, cooperative: Cooperative, email: str, role: str, language: str | None = None
) -> Sent:
    """Invite `email` to the cooperative with `role`, and e-mail the link.

    One pending invitation per address and cooperative: inviting the same address again
    resends it (a new link, seven more days, the role and language given now). An address that
    is already an active member of the cooperative is refused (409).
    """
    email, role, language = invitation_check(
        by=by, cooperative=cooperative, email=email, role=role, language=language
    )
    # The cooperative's row serialises the invitations to it: two at once for one address make
    # one invitation and one resend, never a unique-constraint error.
    Cooperative.objects.select_for_update().filter(pk=cooperative.pk).first()
    _check_not_member(cooperative, email)  # again, under the lock
    pending = (
        Invitation.objects.select_for_update()
        .filter(cooperative=cooperative, email=email, status=Status.PENDING)
        .first()
    )
    if pending is not None:
        # A referent may not turn a legal representative's invitation into another one.
        check_people_action(
            PeopleAction.INVITE, by, cooperative_id=cooperative.pk, role=pending.role
        )
        pending.role, pending.language = role, language
        return _resend(pending, by=by)
    token, digest = _new_token()
    invitation = Invitation.objects.create(
        cooperative=cooperative,
        email=email,
        role=role,
        language=language,
        token_hash=digest,
        invited_by=by,
    )
    _mail_invitation(invitation, token)
    return Sent(invitation=invitation, token=token)


def _locked(invitation: Invitation) -> Invitation:
    locked = (
        Invitation.objects.select_for_update()
        .select_related("cooperative")
        .filter(pk=invitation.pk)
        .first()
    )
    if locked is None:
        raise NotFoundError(_("No such invitation."))
    return locked


@transaction.atomic
def invitation_resend(*, by, invitation: Invitation) -> Sent:
    """A new link for a pending invitation (the previous one stops working), valid for seven
    days from now, e-mailed again. An accepted or revoked invitation is not resent (409)."""
    invitation = _locked(invitation)
    check_people_action(
        PeopleAction.INVITE, by, cooperative_id=invitation.cooperative_id, role=invitation.role
    )
    return _resend(invitation, by=by)


def _resend(invitation: Invitation, *, by) -> Sent:
    """Expects the invitation locked and the actor checked."""
    if invitation.status != Status.PENDING:
        raise ConflictError(
            _("This invitation was %(status)s: invite the person again instead.")
            % {"status": invitation.get_status_display().lower()},
            code=f"invitation_{invitation.status}",
        )
    token, digest = _new_token()
    now = timezone.now()
    invitation.token_hash = digest
    invitation.sent_at = now
    invitation.sent_count += 1
    invitation.expires_at = now + INVITATION_VALID_FOR
    invitation.save(
        update_fields=["token_hash", "sent_at", "sent_count", "expires_at", "role", "language"]
    )
    _mail_invitation(invitation, token)
    return Sent(invitation=invitation, token=token, resent=True)


@transaction.atomic
def invitation_revoke(*, by, invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation: its link stops working. Only a pending one (409)."""
    invitation = _locked(invitation)
    check_people_action(
        PeopleAction.INVITE, by, cooperative_id=invitation.cooperative_id, role=invitation.role
    )
    if invitation.status != Status.PENDING:
        raise ConflictError(
            _("Only a pending invitation can be revoked; this one was %(status)s.")
            % {"status": invitation.get_status_display().lower()},
            code=f"invitation_{invitation.status}",
        )
    invitation.status = Status.REVOKED
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["status", "revoked_at"])
    return invitation


def _mail_invitation(invitation: Invitation, token: str) -> None:
    existing = accounts_with_email(invitation.email).filter(is_active=True).first()
    by = invitation.invited_by
    account_mail_queue(
        kind="invitation",
        email=invitation.email,
        recipient=existing,
        # The invitation's language, also for a person who has an account: the inviter chose it.
        language=invitation.language,
        dedupe=f"invitation:{invitation.pk}:{invitation.sent_count}",
        context={
            "invitation": invitation,
            "cooperative": invitation.cooperative,
            "role": Membership.Role(invitation.role).label,  # lazy: in the mail's language
            "inviter": (by.get_full_name() or by.get_username()) if by else "",
            "url": invitation_url(token),
            "expires_at": invitation.expires_at,
            "has_account": existing is not None,
        },
    )


# --- Accepting ---------------------------------------------------------------------------------


class InvitationUnusable(CaseError):
    """The link names no invitation (`state` "unknown"), or one that can no longer be used."""

    def __init__(self, state: str):
        self.state = state
        super().__init__(_("This invitation link cannot be used."), code=f"invitation_{state}")


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link's secret opens (whatever its state), or None."""
    if not token or len(token) > 200:
        return None
    return (
        Invitation.objects.select_related("cooperative", "invited_by")
        .filter(token_hash=token_hash(token))
        .first()
    )


def _usable(token: str) -> Invitation:
    """The invitation of the link, locked, if it can still be accepted."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("cooperative")
        .filter(token_hash=token_hash(token or ""))
        .first()
    )
    if invitation is None:
        raise InvitationUnusable("unknown")
    state = invitation_state(invitation)
    if state != Status.PENDING:
        raise InvitationUnusable(state)
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    user=None,
    username: str = "",
    password: str = "",
    first_name: str = "",
    last_name: str = "",
):
    """Accept the invitation of the link: returns (invitation, the account that joined).

    With `user` (signed in as the invited address's account): the membership is added to it,
    or an inactive one reactivated with the invitation's role. Without: a new account with
    `username` and `password` (Django's password validators), unless the address already has
    an account, whose owner signs in instead (409). The link then stops working.
    """
    invitation = _usable(token)
    if user is not None:
        if normalise_email(user.email) != invitation.email:
            raise ForbiddenError(
                _(
                    "This invitation is for %(email)s: sign in with the account of that "
                    "address to accept it."
                )
                % {"email": invitation.email},
                code="wrong_account",
            )
        account = user
    else:
        if accounts_with_email(invitation.email).exists():
            raise ConflictError(
                _("%(email)s already has an account: sign in with it to accept the invitation.")
                % {"email": invitation.email},
                code="account_exists",
            )
        account = _new_account(
            invitation,
            username=username,
            password=password,
            first_name=first_name,
            last_name=last_name,
        )
    _join(invitation, account)
    now = timezone.now()
    invitation.status = Status.ACCEPTED
    invitation.accepted_at = now
    invitation.accepted_by = account
    invitation.save(update_fields=["status", "accepted_at", "accepted_by"])
    _mail_accepted(invitation, account)
    return invitation, account


def _new_account(invitation: Invitation, *, username, password, first_name, last_name):
    User = get_user_model()
    username = (username or "").strip()
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    candidate = User(
        username=username, email=invitation.email, first_name=first_name, last_name=last_name
    )
    try:
        candidate.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise CaseError(" ".join(messages), code=field) from error
    if User.objects.filter(username__iexact=username).exists():
        raise CaseError(
            _("The username “%(username)s” is taken; choose another.") % {"username": username},
            code="username",
        )
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        raise CaseError(" ".join(error.messages), code="password") from error
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError as error:  # the same username chosen at the same instant
        raise CaseError(
            _("The username “%(username)s” is taken; choose another.") % {"username": username},
            code="username",
        ) from error
    UserProfile.objects.create(user=candidate, language=invitation.language)
    return candidate


def _join(invitation: Invitation, account) -> None:
    """The account's membership of the cooperative: added, or reactivated with the invitation's
    role (an active one stays as it is: the person joined meanwhile)."""
    membership = (
        Membership.objects.select_for_update()
        .filter(user=account, cooperative_id=invitation.cooperative_id)
        .first()
    )
    if membership is None:
        Membership.objects.create(
            user=account, cooperative_id=invitation.cooperative_id, role=invitation.role
        )
    elif not membership.is_active:
        membership.is_active, membership.left_at, membership.role = True, None, invitation.role
        membership.save(update_fields=["is_active", "left_at", "role"])


def _mail_accepted(invitation: Invitation, account) -> None:
    by = invitation.invited_by
    if by is None or not by.is_active or by.pk == account.pk:
        return
    account_mail_queue(
        kind="invitation_accepted",
        email=by.email,
        recipient=by,
        dedupe=f"invitation_accepted:{invitation.pk}",
        context={
            "invitation": invitation,
            "cooperative": invitation.cooperative,
            "person": account.get_full_name() or account.get_username(),
            "role": Membership.Role(invitation.role).label,  # lazy: in the mail's language
        },
    )


# --- Leaving -----------------------------------------------------------------------------------


@transaction.atomic
def membership_deactivate(*, by, membership: Membership) -> Membership:
    """Remove a person from a cooperative: the membership is deactivated (`is_active` off,
    `left_at` now), never deleted, so the cases they opened keep their requester and history;
    an inactive membership grants nothing (`casework.roles`). The last active legal
    representative cannot remove themselves (409); staff may."""
    locked = (
        Membership.objects.select_for_update()
        .select_related("user", "cooperative")
        .filter(pk=membership.pk)
        .first()
    )
    if locked is None:
        raise NotFoundError(_("No such person in this cooperative."))
    roles = check_people_action(
        PeopleAction.REMOVE_MEMBER, by, cooperative_id=locked.cooperative_id, role=locked.role
    )
    if not locked.is_active:
        raise ConflictError(
            _("%(name)s already left the cooperative.") % {"name": _name(locked.user)},
            code="already_left",
        )
    if (
        locked.user_id == getattr(by, "pk", None)
        and not roles.is_staff_role
        and locked.role == Role.LEGAL_REPRESENTATIVE
        and not Membership.objects.filter(
            cooperative_id=locked.cooperative_id,
            role=Role.LEGAL_REPRESENTATIVE,
            is_active=True,
        )
        .exclude(pk=locked.pk)
        .exists()
    ):
        raise ConflictError(
            _(
                "You are the cooperative's only legal representative: invite another one before "
                "leaving."
            ),
            code="last_legal_rep",
        )
    locked.is_active = False
    locked.left_at = timezone.now()
    locked.save(update_fields=["is_active", "left_at"])
    if locked.user.is_active:
        account_mail_queue(
            kind="membership_ended",
            email=locked.user.email,
            recipient=locked.user,
            dedupe=f"membership_ended:{locked.pk}:{locked.left_at.isoformat()}",
            context={"cooperative": locked.cooperative, "by": _name(by) if by else ""},
        )
    return locked


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


__all__ = [
    "InvitationUnusable",
    "Sent",
    "accounts_with_email",
    "invitation_accept",
    "invitation_by_token",
    "invitation_check",
    "invitation_create",
    "invitation_resend",
    "invitation_revoke",
    "invitation_state",
    "invitation_url",
    "membership_deactivate",
    "normalise_email",
    "token_hash",
]
