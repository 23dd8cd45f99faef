"""Password reset and change (Django's own views and tokens) and the invitation link's page.

The e-mails go through the outbox like every other (`casework.account_mail`): one path for mail,
retried while the mail server is down, so asking for a reset never fails because of it.
A reset for an unknown or inactive address answers exactly as for a known one and sends
nothing; requests are throttled per address typed and per client address
(`casework.accounts.throttle`). A reset does not sign the person in: they sign in through the
login page, with its lockout (and its second factor for staff).
"""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from casework.account_mail import account_mail_queue
from casework.config.middleware import client_ip
from casework.errors import CaseError
from casework.roles import roles_of
from casework.services.invitations import (
    InvitationUnusable,
    accounts_with_email,
    invitation_accept,
    invitation_by_token,
    invitation_state,
    normalise_email,
)

from . import throttle
from .forms import AcceptForm, PasswordResetRequestForm, suggested_username

# Django's model backend signs in the person who just set their password (axes comes first in
# AUTHENTICATION_BACKENDS only to count failures).
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def layout_of(user) -> str:
    """The page layout of a signed-in person: the workspace's for staff, else the portal's."""
    return "workspace/base.html" if roles_of(user).is_staff_role else "portal/layout.html"


def _mail_password_changed(user) -> None:
    account_mail_queue(
        kind="password_changed",
        email=user.email,
        recipient=user,
        # One notice per password: its hash changes with it.
        dedupe=f"password_changed:{user.pk}:{user.password[-24:]}",
    )


# --- Reset -------------------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetRequestForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        refusal = throttle.spend(
            "password_reset",
            {"address": form.cleaned_data["email"], "client": client_ip(self.request) or ""},
        )
        if refusal is not None:
            form.add_error(
                None,
                _(
                    "Too many requests for a new password. Try again in %(minutes)d minutes, or "
                    "ask the federation for help."
                )
                % {"minutes": max(1, -(-refusal.retry_after // 60))},
            )
            response = self.form_invalid(form)
            response.status_code = 429
            response["Retry-After"] = str(refusal.retry_after)
            return response
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        # The person proved they read the account's mail: the login's lockout of them ends.
        axes_reset(username=user.get_username())
        _mail_password_changed(user)
        return response

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if not context.get("validlink"):
            response.status_code = 410  # used, expired or forged: said on the page
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


# --- Change (signed in) -----------------------------------------------------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("password_change_done")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "base": layout_of(self.request.user)}

    def form_valid(self, form):
        response = super().form_valid(form)
        _mail_password_changed(form.user)
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "base": layout_of(self.request.user)}


# --- The invitation link -----------------------------------------------------------------------

# What the page says of a link that cannot be used, and its HTTP status.
_GONE_STATUS = {"unknown": 404, "expired": 410, "accepted": 410, "revoked": 410, "disabled": 403}


def _gone(request, state: str, invitation=None):
    return render(
        request,
        "accounts/invitation_gone.html",
        {"state": state, "invitation": invitation},
        status=_GONE_STATUS[state],
    )


@never_cache
@sensitive_post_parameters("password1", "password2")
def invitation(request, token: str):
    """The page of an invitation's link: a new person chooses a username and password; a person
    with an account signs in and accepts; a used, expired, revoked or forged link says so."""
    found = invitation_by_token(token)
    if found is None:
        return _gone(request, "unknown")
    state = invitation_state(found)
    if state != "pending":
        return _gone(request, state, found)
    accounts = list(accounts_with_email(found.email))
    if accounts:
        if not any(account.is_active for account in accounts):
            return _gone(request, "disabled", found)
        return _existing_account(request, token, found)
    return _new_account(request, token, found)


def _existing_account(request, token, found):
    user = request.user
    signed_in_as_invited = user.is_authenticated and normalise_email(user.email) == found.email
    context = {"invitation": found, "signed_in_as_invited": signed_in_as_invited}
    if request.method == "POST" and signed_in_as_invited:
        try:
            invitation_accept(token=token, user=user)
        except InvitationUnusable as error:
            return _gone(request, error.state, found)
        except CaseError as error:
            context["error"] = str(error)
            return render(request, "accounts/invitation.html", context, status=400)
        messages.success(
            request,
            _("You now act for %(cooperative)s.") % {"cooperative": found.cooperative.name},
        )
        return redirect("home")
    status = 200 if signed_in_as_invited or not user.is_authenticated else 403
    context["login_url"] = f"{reverse('login')}?next={request.path}"
    return render(request, "accounts/invitation.html", context, status=status)


def _new_account(request, token, found):
    if request.method == "POST":
        form = AcceptForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                _invitation, account = invitation_accept(
                    token=token,
                    username=data["username"],
                    password=data["password1"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                )
            except InvitationUnusable as error:
                return _gone(request, error.state, found)
            except CaseError as error:
                field = error.code if error.code in form.fields else None
                if error.code == "password":
                    field = "password1"
                form.add_error(field, str(error))
            else:
                login(request, account, backend=MODEL_BACKEND)
                messages.success(
                    request,
                    _("Welcome to Sportello: you now act for %(cooperative)s.")
                    % {"cooperative": found.cooperative.name},
                )
                response = redirect("home")
                # The pages follow the invitation's language, as the profile does.
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    found.language,
                    max_age=settings.LANGUAGE_COOKIE_AGE,
                    samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                    secure=settings.LANGUAGE_COOKIE_SECURE,
                    httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                )
                return response
        status = 400
    else:
        form = AcceptForm(initial={"username": suggested_username(found.email)})
        status = 200
    return render(
        request,
        "accounts/invitation.html",
        {"invitation": found, "form": form, "new_account": True},
        status=status,
    )
