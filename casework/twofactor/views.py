"""The login page, the code step after the password, and the Two-factor page of staff."""

from __future__ import annotations

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib import auth, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from .core import (
    authenticator_confirm,
    authenticator_of,
    authenticator_setup,
    authenticator_setup_of,
    code_check,
    has_authenticator,
    is_staff_account,
    qr_svg,
    recovery_codes_issue,
    recovery_codes_left,
    second_factor_required,
    secret_text,
)
from .forms import CodeForm
from .middleware import next_step
from .session import (
    REPLACING_KEY,
    pending_begin,
    pending_clear,
    pending_sign_in,
    sign_in_complete,
)


class SignInView(auth_views.LoginView):
    """Step one, the password (django-axes locks out a run of failures).

    Staff who must give a second factor are not logged in here: the session remembers them and
    the next page asks for the code, or has them set up their authenticator first.
    """

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not second_factor_required(user):
            return super().form_valid(form)
        pending_begin(
            self.request,
            user=user,
            username=form.cleaned_data["username"],
            backend=user.backend,
            next_url=self.get_success_url(),
        )
        return redirect(next_step(user))


def _credentials(username: str) -> dict:
    """What django-axes counts a failure under: the username (as typed on the login page)."""
    return {"username": username}


def _count_failure(request, credentials: dict) -> bool:
    """A wrong code is a failed login, counted as the password's are; True once locked out.

    Once locked out, axes' middleware answers the request with the login page's lockout page.
    """
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return bool(getattr(request, "axes_locked_out", False))


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def code_step(request):
    """Step two: the code of the authenticator app, or a recovery code."""
    pending = pending_sign_in(request)
    if pending is None:
        return redirect("login")
    if not has_authenticator(pending.user):
        return redirect("two_factor")
    credentials = _credentials(pending.username)
    if not AxesProxyHandler.is_allowed(request, credentials):
        pending_clear(request)
        return get_lockout_response(request, None, credentials)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = code_check(user=pending.user, code=form.cleaned_data["code"])
        if check.accepted:
            sign_in_complete(request, pending, check.device)
            if check.recovery:
                left = recovery_codes_left(pending.user)
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code: %(count)d is left. Make new ones "
                        "on the Two-factor sign-in page.",
                        "You signed in with a recovery code: %(count)d are left. Make new ones "
                        "on the Two-factor sign-in page.",
                        left,
                    )
                    % {"count": left},
                )
            return redirect(pending.next_url or "home")
        form.refuse(check.wait_seconds)
        if _count_failure(request, credentials):
            pending_clear(request)
    return render(
        request, "registration/otp_code.html", {"form": form, "username": pending.username}
    )


# --- The Two-factor sign-in page ----------------------------------------------------------------


def _recovery_codes_page(request, codes: list[str], continue_url: str):
    """The new recovery codes, shown this once: the page asks to keep them somewhere safe."""
    return render(
        request,
        "registration/otp_recovery_codes.html",
        {"codes": codes, "continue_url": continue_url},
    )


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def two_factor(request):
    """Set up the authenticator app (at the first sign-in), then manage it and recovery codes.

    Reached by staff half-way through signing in (no authenticator yet) and by signed-in staff.
    Making new recovery codes and replacing the authenticator both need a current code.
    """
    pending = None
    if request.user.is_authenticated:
        user = request.user
        if not is_staff_account(user):
            raise Http404
    else:
        pending = pending_sign_in(request)
        if pending is None:
            return redirect_to_login(request.get_full_path())
        user = pending.user
        if has_authenticator(user):
            return redirect("login_otp")

    current = authenticator_of(user)
    replacing = None
    if current is not None:
        replacing = authenticator_setup_of(user, request.session.get(REPLACING_KEY))
    action = request.POST.get("action", "") if request.method == "POST" else ""

    if current is None or replacing is not None:
        return _setup(request, user, pending, current, replacing, action)
    return _manage(request, user, current, action)


def _setup(request, user, pending, current, replacing, action):
    """Scan the QR code (or type the secret), then confirm with one code of the app."""
    device = replacing or authenticator_setup(user=user)
    form = CodeForm(request.POST if action == "confirm" else None, authenticator_only=True)
    if action == "cancel" and replacing is not None:
        request.session.pop(REPLACING_KEY, None)
        replacing.delete()
        return redirect("two_factor")
    if action == "confirm" and form.is_valid():
        if authenticator_confirm(user=user, device=device, code=form.cleaned_data["code"]):
            request.session.pop(REPLACING_KEY, None)
            if current is not None:
                # The old device is gone: the session carries on with the new one.
                if request.user.is_verified():
                    django_otp.login(request, device)
                messages.success(request, _("Your new authenticator app is set up."))
                return redirect("two_factor")
            codes = recovery_codes_issue(user=user)
            if pending is not None:
                sign_in_complete(request, pending, device)
                continue_url = pending.next_url or reverse("home")
            else:
                continue_url = reverse("two_factor")
            return _recovery_codes_page(request, codes, continue_url)
        form.refuse()
    return render(
        request,
        "registration/otp_setup.html",
        {
            "form": form,
            "qr_svg": qr_svg(device),
            "secret": secret_text(device),
            "replacing": replacing is not None,
            "signing_in": pending is not None,
        },
    )


def _manage(request, user, current, action):
    """New recovery codes, or a new authenticator app: each after a current code."""
    form = CodeForm(request.POST if action in ("recovery_codes", "replace") else None)
    credentials = _credentials(user.get_username())
    if form.is_bound and not AxesProxyHandler.is_allowed(request, credentials):
        auth.logout(request)
        return get_lockout_response(request, None, credentials)
    if form.is_bound and form.is_valid():
        check = code_check(user=user, code=form.cleaned_data["code"])
        if check.accepted:
            if action == "recovery_codes":
                return _recovery_codes_page(
                    request, recovery_codes_issue(user=user), reverse("two_factor")
                )
            device = authenticator_setup(user=user, replace=True)
            request.session[REPLACING_KEY] = device.pk
            return redirect("two_factor")
        form.refuse(check.wait_seconds)
        if _count_failure(request, credentials):
            # Locked out as the login is: this session ends too, and the lockout page says why.
            auth.logout(request)
    return render(
        request,
        "registration/otp_manage.html",
        {
            "form": form,
            "action": action,
            "device": current,
            "recovery_codes_left": recovery_codes_left(user),
        },
    )
