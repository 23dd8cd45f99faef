"""A sign-in half-way: the password was right, the second factor is still to come.

The session holds who is signing in, but nobody is logged in yet: the session stays anonymous
for every page, the admin and the API until the code step calls `sign_in_complete`. It lasts
PENDING_SECONDS and ends if the person's password changes meanwhile.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import django_otp
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.utils.crypto import constant_time_compare

PENDING_KEY = "sportello_2fa_pending"
# The device being set up to replace the person's authenticator, once they proved the old one.
REPLACING_KEY = "sportello_2fa_replacing"
PENDING_SECONDS = 10 * 60


@dataclass(frozen=True)
class PendingSignIn:
    user: object
    username: str  # as typed on the login page: the lockout counts failures under it
    backend: str
    next_url: str


def pending_begin(request, *, user, username: str, backend: str, next_url: str) -> None:
    """Remember the person between the password and the code (a new session key for it)."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "username": username,
        "backend": backend,
        "hash": user.get_session_auth_hash(),
        "since": time.time(),
        "next": next_url,
    }


def pending_sign_in(request) -> PendingSignIn | None:
    """The sign-in waiting for its second factor, if any and still valid."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    user = get_user_model()._default_manager.filter(pk=data.get("user"), is_active=True).first()
    fresh = time.time() - float(data.get("since", 0)) < PENDING_SECONDS
    if (
        user is None
        or not fresh
        or data.get("backend") not in settings.AUTHENTICATION_BACKENDS
        or not constant_time_compare(str(data.get("hash", "")), user.get_session_auth_hash())
    ):
        pending_clear(request)
        return None
    return PendingSignIn(
        user=user,
        username=str(data.get("username", "")),
        backend=str(data.get("backend", "")),
        next_url=str(data.get("next", "")),
    )


def pending_clear(request) -> None:
    request.session.pop(PENDING_KEY, None)


def sign_in_complete(request, pending: PendingSignIn, device) -> None:
    """Log the person in, with the device that verified them recorded on the session."""
    pending_clear(request)
    auth.login(request, pending.user, backend=pending.backend)
    django_otp.login(request, device)
