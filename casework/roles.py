"""Who a user is in Sportello: the one place where roles are read and checked."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property, lru_cache, reduce
from operator import or_

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Exists, OuterRef, Q

from .models import (
    CaseParticipant,
    Consultant,
    Cooperative,
    Membership,
    Office,
    PracticeArea,
    Supervisor,
)

_CACHE_ATTR = "_sportello_roles"


Role = Membership.Role
# The roles inside a cooperative that see all its cases (a confidential one as below).
FULL_VIEW_ROLES = frozenset({Role.LEGAL_REPRESENTATIVE, Role.REFERENT})


@dataclass(frozen=True)
class Roles:
    """A user's roles. Inside a cooperative (active memberships of active cooperatives only):

    - `legal_rep` sees every case of the cooperative, the confidential ones too;
    - `referent` sees every case of it except the confidential ones;
    - `member` sees only the cases they opened (requester) or follow (participant);
    and a requester or participant sees their case whatever their role, confidential or not.
    `member_cases` says it as a query and `sees_as_member` of one case: the same rule, side by
    side, for the selectors and for the policy (tests/security/test_roles_matrix.py holds both
    to one table).
    """

    user_id: int | None
    is_admin: bool = False
    cooperative_ids: frozenset[int] = field(default_factory=frozenset)
    # Of `cooperative_ids`: where the user is a legal representative or a referent.
    full_view_cooperative_ids: frozenset[int] = field(default_factory=frozenset)
    legal_rep_cooperative_ids: frozenset[int] = field(default_factory=frozenset)
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
        """An active member of the cooperative, in any role (which cases they see: below)."""
        return cooperative_id in self.cooperative_ids

    def sees_all_cases_of(self, cooperative_id: int) -> bool:
        """A legal representative or referent of the cooperative: its cases, its report."""
        return cooperative_id in self.full_view_cooperative_ids

    def is_legal_rep_of(self, cooperative_id: int) -> bool:
        return cooperative_id in self.legal_rep_cooperative_ids

    def role_in(self, cooperative_id: int) -> str | None:
        """`legal_rep`, `referent` or `member` in that cooperative; None if not (or no longer)
        a member of it."""
        if cooperative_id in self.legal_rep_cooperative_ids:
            return Role.LEGAL_REPRESENTATIVE.value
        if cooperative_id in self.full_view_cooperative_ids:
            return Role.REFERENT.value
        return Role.MEMBER.value if cooperative_id in self.cooperative_ids else None

    def member_cases(self) -> Q | None:
        """The cases this user sees as a person of their cooperatives (None: none at all).

        The cooperatives where they are legal representative are one `IN` on the case's
        cooperative index; elsewhere their own cases (requester, or an EXISTS probe of the
        participants' (user, case) index) within the cooperative's cases, and for a referent
        the cooperative's cases that are not confidential.
        """
        conditions = []
        if self.legal_rep_cooperative_ids:
            conditions.append(Q(cooperative_id__in=self.legal_rep_cooperative_ids))
        referent_only = self.full_view_cooperative_ids - self.legal_rep_cooperative_ids
        if referent_only:
            conditions.append(Q(cooperative_id__in=referent_only, confidential=False))
        restricted = self.cooperative_ids - self.legal_rep_cooperative_ids
        if restricted:
            follows = CaseParticipant.objects.filter(user_id=self.user_id, case_id=OuterRef("pk"))
            conditions.append(
                Q(cooperative_id__in=restricted) & (Q(requester_id=self.user_id) | Exists(follows))
            )
        return reduce(or_, conditions) if conditions else None

    def sees_as_member(self, case, *, participants: Collection[int] | None = None) -> bool:
        """`member_cases` for one case: whether this user sees it as a person of its
        cooperative. Who follows the case is `participants` (user ids) when the caller read
        them, else the case's prefetched `participant_links` when a list brought them, else one
        query (only when nothing else decides)."""
        cooperative_id = case.cooperative_id
        if cooperative_id not in self.cooperative_ids:
            return False
        if cooperative_id in self.legal_rep_cooperative_ids:
            return True
        if cooperative_id in self.full_view_cooperative_ids and not case.confidential:
            return True
        if self.user_id is not None and case.requester_id == self.user_id:
            return True
        if participants is not None:
            return self.user_id in participants
        return is_participant(case, self.user_id)

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


def is_participant(case, user_id: int | None) -> bool:
    """Whether the person follows the case: from the prefetched links, else one query."""
    if user_id is None or case.pk is None:
        return False
    prefetched = getattr(case, "_prefetched_objects_cache", {}).get("participant_links")
    if prefetched is not None:
        return any(link.user_id == user_id for link in prefetched)
    return CaseParticipant.objects.filter(case_id=case.pk, user_id=user_id).exists()


@lru_cache(maxsize=32)
def _roles_sql(people: int) -> str:
    """Every role of `people` users in one round trip: (user, kind, id, text) rows, one UNION
    per source.

    Every request reads the roles; four ORM queries were a fifth of a light API request's time.
    The e-mails of one move read those of all their recipients at once.
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
        "who": ", ".join(["%s"] * people),
    }
    return """
        SELECT c.user_id, 'consultant', c.id, o.code FROM {consultant} c
            JOIN {office} o ON o.id = c.office_id
            WHERE c.user_id IN ({who}) AND c.is_active
        UNION ALL
        SELECT c.user_id, 'consultant_area', ca.{ca_area}, NULL FROM {ca} ca
            JOIN {consultant} c ON c.id = ca.{ca_owner}
            WHERE c.user_id IN ({who}) AND c.is_active
        UNION ALL
        SELECT s.user_id, 'supervisor', s.id, CASE WHEN s.all_areas THEN 'all' ELSE '' END
            FROM {supervisor} s WHERE s.user_id IN ({who})
        UNION ALL
        SELECT s.user_id, 'supervised_area', sa.{sa_area}, NULL FROM {sa} sa
            JOIN {supervisor} s ON s.id = sa.{sa_owner}
            WHERE s.user_id IN ({who}) AND NOT s.all_areas
        UNION ALL
        SELECT s.user_id, 'supervised_area', a.id, NULL FROM {area} a
            JOIN {supervisor} s ON s.all_areas
            WHERE s.user_id IN ({who})
        UNION ALL
        SELECT m.user_id, 'member', m.cooperative_id, m.role FROM {membership} m
            JOIN {cooperative} k ON k.id = m.cooperative_id
            WHERE m.user_id IN ({who}) AND m.is_active AND k.membership_status = 'active'
    """.format(**t)


def _read_roles(users) -> dict[int, Roles]:
    """The roles of each of `users` (active, signed-in accounts), in one query."""
    by_pk = {user.pk: user for user in users}
    found: dict[int, list] = {pk: [] for pk in by_pk}
    with connection.cursor() as cursor:
        cursor.execute(_roles_sql(len(by_pk)), list(by_pk) * 6)
        for user_id, kind, pk, text in cursor.fetchall():
            found[user_id].append((kind, pk, text))
    return {pk: _roles_from(by_pk[pk], rows) for pk, rows in found.items()}


def _roles_from(user, rows) -> Roles:
    ids: dict[str, set[int]] = {"consultant_area": set(), "supervised_area": set(), "member": set()}
    full_view, legal_rep = set(), set()
    consultant_id = office_code = supervisor_id = None
    all_areas = False
    for kind, pk, text in rows:
        if kind == "consultant":
            consultant_id, office_code = pk, text
        elif kind == "supervisor":
            supervisor_id, all_areas = pk, text == "all"
        else:
            ids[kind].add(pk)
            if kind == "member" and text in FULL_VIEW_ROLES:
                full_view.add(pk)
                if text == Role.LEGAL_REPRESENTATIVE:
                    legal_rep.add(pk)
    return Roles(
        user_id=user.pk,
        is_admin=user.is_superuser,
        cooperative_ids=frozenset(ids["member"]),
        full_view_cooperative_ids=frozenset(full_view),
        legal_rep_cooperative_ids=frozenset(legal_rep),
        consultant_id=consultant_id,
        consultant_office_code=office_code,
        consultant_area_ids=frozenset(ids["consultant_area"]) if consultant_id else frozenset(),
        supervisor_id=supervisor_id,
        supervises_all_areas=all_areas,
        supervised_area_ids=frozenset(ids["supervised_area"]),
    )


def _signed_in(user) -> bool:
    return user is not None and not isinstance(user, AnonymousUser) and user.is_authenticated


def roles_of_all(users) -> None:
    """Read the roles of every one of `users` not read yet, in one query, and keep each on its
    user object (as `roles_of` does): the recipients of one move's e-mails."""
    unread = {
        user.pk: user
        for user in users
        if _signed_in(user) and user.is_active and getattr(user, _CACHE_ATTR, None) is None
    }
    if not unread:
        return
    for pk, roles in _read_roles(unread.values()).items():
        setattr(unread[pk], _CACHE_ATTR, roles)


def roles_of(user) -> Roles:
    """The roles of a user, read once per request and kept on the user object."""
    if not _signed_in(user):
        return ANONYMOUS
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    roles = _read_roles([user])[user.pk] if user.is_active else ANONYMOUS
    setattr(user, _CACHE_ATTR, roles)
    return roles
