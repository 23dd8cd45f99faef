"""Who may call an endpoint at all; what a user may do to one object is the services' decision."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from casework.roles import roles_of


class IsFederationStaff(BasePermission):
    """Consultants, supervisors and administrators: the federation's side of the desk."""

    message = _("Only the federation's staff can see this.")

    def has_permission(self, request, view) -> bool:
        return roles_of(request.user).is_staff_role
