"""Who a user is in Sportello: the one place where roles are read and checked."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser

from .models import Consultant, Membership, PracticeArea, Supervisor

_CACHE_ATTR = "_sportello_roles"


@dataclass(frozen=True)
class Roles:
    user_id: int | None
    is_admin: bool = False
    cooperative_ids: frozenset[int] = field(default_factory=frozenset)
    consultant: Consultant | None = None
    consultant_area_ids: frozenset[int] = field(default_factory=frozenset)
    supervisor: Supervisor | None = None
    supervised_area_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_member(self) -> bool:
        return bool(self.cooperative_ids)

    @property
    def is_consultant(self) -> bool:
        return self.consultant is not None

    @property
    def is_supervisor(self) -> bool:
        return self.supervisor is not None

    @property
    def is_staff_role(self) -> bool:
        """Federation staff: may read internal notes and staff pages."""
        return self.is_consultant or self.is_supervisor or self.is_admin

    @property
    def supervises_all(self) -> bool:
        return self.is_admin or (self.supervisor is not None and self.supervisor.all_areas)

    @property
    def staff_area_ids(self) -> frozenset[int]:
        """Areas whose cases this user may see as staff (None-like: all, see supervises_all)."""
        return self.consultant_area_ids | self.supervised_area_ids

    def supervises_area(self, area_id: int) -> bool:
        return self.supervises_all or area_id in self.supervised_area_ids

    def works_area(self, area_id: int) -> bool:
        return area_id in self.consultant_area_ids

    def is_member_of(self, cooperative_id: int) -> bool:
        return cooperative_id in self.cooperative_ids

    @property
    def names(self) -> list[str]:
        names = []
        if self.is_admin:
            names.append("admin")
        if self.is_supervisor:
            names.append("supervisor")
        if self.is_consultant:
            names.append("consultant")
        if self.is_member:
            names.append("member")
        return names


ANONYMOUS = Roles(user_id=None)


def roles_of(user) -> Roles:
    """The roles of a user, read once per request and kept on the user object."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return ANONYMOUS
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if not user.is_active:
        roles = ANONYMOUS
    else:
        consultant = (
            Consultant.objects.filter(user=user, is_active=True).select_related("office").first()
        )
        supervisor = Supervisor.objects.filter(user=user).first()
        if supervisor is not None and supervisor.all_areas:
            supervised = frozenset(PracticeArea.objects.values_list("id", flat=True))
        elif supervisor is not None:
            supervised = frozenset(supervisor.areas.values_list("id", flat=True))
        else:
            supervised = frozenset()
        roles = Roles(
            user_id=user.pk,
            is_admin=user.is_superuser,
            cooperative_ids=frozenset(
                Membership.objects.filter(
                    user=user, cooperative__membership_status="active"
                ).values_list("cooperative_id", flat=True)
            ),
            consultant=consultant,
            consultant_area_ids=frozenset(consultant.areas.values_list("id", flat=True))
            if consultant
            else frozenset(),
            supervisor=supervisor,
            supervised_area_ids=supervised,
        )
    setattr(user, _CACHE_ATTR, roles)
    return roles


def forget_roles(user) -> None:
    """Drop the cached roles (after a change to memberships or profiles in the same request)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
