"""The Django admin's default site, which asks staff for their second factor like every page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin.sites import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect
from django.urls import reverse

from .core import second_factor_required


class SportelloAdminSite(AdminSite):
    """Django's admin; when STAFF_2FA_REQUIRED is on, a staff session needs its second factor.

    Its own login form would sign in with the password alone, so while the second factor is
    required it hands over to the site's login page (password, then the code, with the same
    lockout), which comes back here afterwards.
    """

    def has_permission(self, request) -> bool:
        if not super().has_permission(request):
            return False
        user = request.user
        return not second_factor_required(user) or user.is_verified()

    def login(self, request, extra_context=None):
        if settings.STAFF_2FA_REQUIRED and not request.user.is_authenticated:
            target = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
                "admin:index", current_app=self.name
            )
            return redirect(f"{reverse('login')}?{urlencode({REDIRECT_FIELD_NAME: target})}")
        return super().login(request, extra_context)
