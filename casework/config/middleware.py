"""Request-level glue: the API docs page's CSP, the login throttle's web side, the request id."""

from __future__ import annotations

import uuid
from http import HTTPStatus

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_client_username
from csp.constants import SELF, UNSAFE_INLINE
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.signals import request_finished
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext

from casework.config.logging import REQUEST_ID_PATTERN, request_id

# Pages rendered by third-party templates with inline <script>/<style> and data: images (the
# Swagger UI of drf-spectacular). They show no user data. drf-spectacular's
# SpectacularSwaggerSplitView serves that script as a file; once api/urls.py uses it, this
# exception can go.
INLINE_ASSETS_VIEWS = {"api:docs"}
INLINE_ASSETS_POLICY = {
    "script-src": [SELF, UNSAFE_INLINE],
    "style-src": [SELF, UNSAFE_INLINE],
    "img-src": [SELF, "data:"],
}


class ThirdPartyPagesPolicyMiddleware:
    """Loosen the Content-Security-Policy for the few third-party pages that need it.

    Must come after csp.middleware.CSPMiddleware in MIDDLEWARE, so that it marks the response
    before the policy is written.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name in INLINE_ASSETS_VIEWS:
            response._csp_update = INLINE_ASSETS_POLICY
        return response


# --- Login throttling (django-axes) ------------------------------------------------------------


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, which leaves calls made without a request alone.

    Code that calls authenticate() with no request (management commands, scripts, the test
    client's login) is not a login form anyone can hammer; axes would refuse it outright.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request) -> str | None:
    """The client address: REMOTE_ADDR, or the address our own proxies saw (X-Forwarded-For).

    Behind gunicorn's proxy every request comes from the proxy's address, so counting failures
    per address would lock out everybody at once; only the entries our SPORTELLO_TRUSTED_PROXIES
    proxies appended are trusted, never what the client itself sent.
    """
    proxies = getattr(settings, "SPORTELLO_TRUSTED_PROXIES", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")


def is_api_sign_in(request, credentials=None) -> bool:
    """The REST token endpoint has its own throttle (api.throttling, failed sign-ins only)."""
    return request.path.startswith("/api/")


def login_locked_out(request, original_response=None, credentials=None):
    """The login page again (the admin's too), with the reason it refuses: too many failures."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = ngettext(
        "Too many failed attempts to log in: logging in with this username from this address is "
        "blocked for %(minutes)d minute. Try again later, or ask the federation's administrator "
        "to unlock the account.",
        "Too many failed attempts to log in: logging in with this username from this address is "
        "blocked for %(minutes)d minutes. Try again later, or ask the federation's administrator "
        "to unlock the account.",
        minutes,
    ) % {"minutes": minutes}
    if is_api_sign_in(request):
        return JsonResponse(
            {"detail": message, "code": "locked_out"}, status=HTTPStatus.TOO_MANY_REQUESTS
        )
    form = AuthenticationForm(
        request, initial={"username": get_client_username(request, credentials) or ""}
    )
    context = {
        "form": form,
        "locked_out": message,
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=HTTPStatus.TOO_MANY_REQUESTS)


# --- Request ids ---------------------------------------------------------------------------------


class RequestIdMiddleware:
    """Give each request an id: the proxy's X-Request-ID when it is sane, else a new one.

    The id is on every log line written while the request is served (casework.config.logging)
    and in the response's X-Request-ID header, so that a user's report, the proxy's log and ours
    name the same request. First in MIDDLEWARE, so that every response carries it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        # Forgotten when the response is closed, not when this returns: Django logs a refused
        # response ("Forbidden: /...") after the middleware has run, and that line needs the id.
        request_finished.connect(forget_request_id, dispatch_uid="sportello.request_id")

    def __call__(self, request):
        supplied = request.headers.get("X-Request-ID", "")
        rid = supplied if REQUEST_ID_PATTERN.fullmatch(supplied) else uuid.uuid4().hex
        request_id.set(rid)
        request.request_id = rid
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


def forget_request_id(**kwargs) -> None:
    request_id.set(None)
