"""Keep a staff session without its second factor out of every page, the admin and the API."""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY
from django.http import JsonResponse
from django.shortcuts import redirect, resolve_url
from django.utils.translation import gettext as _

from .core import has_authenticator, second_factor_required
from .session import pending_begin

# What a signed-in person may still do before giving the code: leave, change the language (the
# header's menu posts to an unnamed pattern of casework.preferences, or Django's), and ask the
# API for a token (that endpoint reads no session and checks the code itself).
OPEN_VIEWS = frozenset(
    {"logout", "set_language", "casework.preferences.set_language", "api:auth-token"}
)


def next_step(user) -> str:
    """Where a sign-in waiting for its second factor goes: the code, or setting one up first."""
    return "login_otp" if has_authenticator(user) else "two_factor"


class SecondFactorMiddleware:
    """With STAFF_2FA_REQUIRED on, a staff session not verified by a device goes no further.

    The login page never makes one (it logs staff in only after the code); this catches the
    sessions opened otherwise: before the setting was turned on, by the admin's own form, or
    whose device was reset meanwhile. A page turns it back into a sign-in waiting for the code
    (and comes back to the page after it); the API answers 403 `otp_required`.
    Installed after django_otp's OTPMiddleware, which tells whether the session is verified.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.STAFF_2FA_REQUIRED:
            return None
        user = request.user
        if not user.is_authenticated or getattr(user, "is_verified", lambda: False)():
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_VIEWS:
            return None
        if not second_factor_required(user):
            return None
        if match is not None and match.namespace == "api":
            return JsonResponse(
                {
                    "detail": _(
                        "Staff accounts sign in with a second factor: log in again on the "
                        "website, or use a token."
                    ),
                    "code": "otp_required",
                },
                status=HTTPStatus.FORBIDDEN,
            )
        backend = request.session.get(BACKEND_SESSION_KEY, "")
        back = request.get_full_path() if request.method == "GET" else ""
        auth.logout(request)
        pending_begin(
            request,
            user=user,
            username=user.get_username(),
            backend=backend,
            next_url=back or resolve_url(settings.LOGIN_REDIRECT_URL),
        )
        return redirect(next_step(user))
