"""Who a user is in Sportello: the one place where roles are read and checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property

from django.contrib.auth.models import AnonymousUser
from django.db import connection

from .models import Consultant, Cooperative, Membership, Office, PracticeArea, Supervisor

_CACHE_ATTR = "_sportello_roles"


@dataclass(frozen=True)
class Roles:
    user_id: int | None
    is_admin: bool = False
    cooperative_ids: frozenset[int] = field(default_factory=frozenset)
    consultant_id: int | None = None
    consultant_office_code: str | None = None
    consultant_area_ids: frozenset[int] = field(default_factory=frozenset)
    supervisor_id: int | None = None
    supervises_all_areas: bool = False
    supervised_area_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_member(self) -> bool:
        return bool(self.cooperative_ids)

    @property
    def is_consultant(self) -> bool:
        return self.consultant_id is not None

    @property
    def is_supervisor(self) -> bool:
        return self.supervisor_id is not None

    @cached_property
    def consultant(self) -> Consultant | None:
        """The consultant's profile, read only by the pages that show more than the ids above."""
        if self.consultant_id is None:
            return None
        return Consultant.objects.select_related("office").get(pk=self.consultant_id)

    @property
    def is_staff_role(self) -> bool:
        """Federation staff: may read internal notes and staff pages."""
        return self.is_consultant or self.is_supervisor or self.is_admin

    @property
    def supervises_all(self) -> bool:
        return self.is_admin or self.supervises_all_areas

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


@cache
def _roles_sql() -> str:
    """Every role of one user in one round trip: (kind, id, text) rows, one UNION per source.

    Every request reads the roles; four ORM queries were a fifth of a light API request's time.
    """
    consultant_areas = Consultant.areas.field
    supervisor_areas = Supervisor.areas.field
    t = {
        "consultant": Consultant._meta.db_table,
        "office": Office._meta.db_table,
        "ca": consultant_areas.m2m_db_table(),
        "ca_owner": consultant_areas.m2m_column_name(),
        "ca_area": consultant_areas.m2m_reverse_name(),
        "supervisor": Supervisor._meta.db_table,
        "sa": supervisor_areas.m2m_db_table(),
        "sa_owner": supervisor_areas.m2m_column_name(),
        "sa_area": supervisor_areas.m2m_reverse_name(),
        "area": PracticeArea._meta.db_table,
        "membership": Membership._meta.db_table,
        "cooperative": Cooperative._meta.db_table,
    }
    return """
        SELECT 'consultant', c.id, o.code FROM {consultant} c
            JOIN {office} o ON o.id = c.office_id
            WHERE c.user_id = %s AND c.is_active
        UNION ALL
        SELECT 'consultant_area', ca.{ca_area}, NULL FROM {ca} ca
            JOIN {consultant} c ON c.id = ca.{ca_owner}
            WHERE c.user_id = %s AND c.is_active
        UNION ALL
        SELECT 'supervisor', s.id, CASE WHEN s.all_areas THEN 'all' ELSE '' END
            FROM {supervisor} s WHERE s.user_id = %s
        UNION ALL
        SELECT 'supervised_area', sa.{sa_area}, NULL FROM {sa} sa
            JOIN {supervisor} s ON s.id = sa.{sa_owner}
            WHERE s.user_id = %s AND NOT s.all_areas
        UNION ALL
        SELECT 'supervised_area', a.id, NULL FROM {area} a
            JOIN {supervisor} s ON s.all_areas
            WHERE s.user_id = %s
        UNION ALL
        SELECT 'member', m.cooperative_id, NULL FROM {membership} m
            JOIN {cooperative} k ON k.id = m.cooperative_id
            WHERE m.user_id = %s AND k.membership_status = 'active'
    """.format(**t)


def _read_roles(user) -> Roles:
    ids: dict[str, set[int]] = {"consultant_area": set(), "supervised_area": set(), "member": set()}
    consultant_id = office_code = supervisor_id = None
    all_areas = False
    with connection.cursor() as cursor:
        cursor.execute(_roles_sql(), [user.pk] * 6)
        for kind, pk, text in cursor.fetchall():
            if kind == "consultant":
                consultant_id, office_code = pk, text
            elif kind == "supervisor":
                supervisor_id, all_areas = pk, text == "all"
            else:
                ids[kind].add(pk)
    return Roles(
        user_id=user.pk,
        is_admin=user.is_superuser,
        cooperative_ids=frozenset(ids["member"]),
        consultant_id=consultant_id,
        consultant_office_code=office_code,
        consultant_area_ids=frozenset(ids["consultant_area"]) if consultant_id else frozenset(),
        supervisor_id=supervisor_id,
        supervises_all_areas=all_areas,
        supervised_area_ids=frozenset(ids["supervised_area"]),
    )


def roles_of(user) -> Roles:
    """The roles of a user, read once per request and kept on the user object."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return ANONYMOUS
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    roles = _read_roles(user) if user.is_active else ANONYMOUS
    setattr(user, _CACHE_ATTR, roles)
    return roles
