"""Reads of the domain, each already scoped to who is asking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import (
    Attachment,
    Case,
    CaseEvent,
    CaseParticipant,
    CaseRead,
    Cooperative,
    Deadline,
    Message,
    ServicePlan,
)
from .policy import Action, is_staff_of, may_act
from .roles import Roles, roles_of
from .validators import id_in

MAX_ID = 2**63 - 1  # a bigint: a larger number names no row (and PostgreSQL refuses it)

Kind = CaseEvent.Kind

# What a case's representation shows besides its own columns, joined in the list's one query.
CASE_RELATED = (
    "cooperative",
    "area",
    "assignee",
    "requester",
    "specialty",
    "outcome",
    "sla_policy",
)
# For lists: PostgreSQL spends far longer planning a seven-way join than running it (measured in
# bench/results.md), so the small reference tables come by prefetch, one query each.
LIST_JOINED = ("cooperative", "assignee", "requester")
LIST_PREFETCHED = ("area", "specialty", "outcome", "sla_policy")


def participants_prefetch() -> Prefetch:
    """The people who follow each case, with their names: one query for a page of cases, which
    the JSON shows and `Roles.sees_as_member` reads instead of asking per case."""
    return Prefetch(
        "participant_links",
        queryset=CaseParticipant.objects.select_related("user").order_by("created_at", "id"),
    )


# The cases' search documents (migration 0018's triggers keep them).
SEARCH_DOCUMENTS = ("search_public", "search_staff")


def with_list_relations(cases: QuerySet[Case]) -> QuerySet[Case]:
    """A list's cases with what each row shows, its actions included (`plan_in_force`)."""
    return (
        cases.select_related(*LIST_JOINED)
        .prefetch_related(*LIST_PREFETCHED, participants_prefetch())
        .annotate(plan_in_force=plan_in_force_today())
        # The search documents are searched in the database, never shown: not read back.
        .defer(*SEARCH_DOCUMENTS)
    )


def plan_in_force_today():
    """`Exists` of a plan in force today for the row's cooperative: lists annotate cases with it
    (`plan_in_force`) so their actions cost no query per case."""
    today = timezone.localdate()
    return Exists(
        ServicePlan.objects.filter(
            cooperative_id=OuterRef("cooperative_id"),
            effective_from__lte=today,
            effective_until__gte=today,
        )
    )


# Events that are the federation's own business (routing reasons, internal notes, time sheets,
# escalations): a cooperative's timeline leaves them out.
STAFF_ONLY_EVENTS = frozenset(
    {
        Kind.NOTE_ADDED,
        Kind.TIME_RECORDED,
        Kind.ROUTING_FAILED,
        Kind.RELEASED,
        Kind.HANDED_BACK,
        Kind.SLA_RECOMPUTED,
        Kind.SLA_AT_RISK,
        Kind.SLA_BREACHED,
        Kind.FOLLOW_UP,
        # A supervisor's handling of the federation's mail. The cooperative sees that its e-mail
        # came in (email_received), that a document of it was refused and the PEC receipts of
        # what the federation sent it; the details (`after`) stay with the staff everywhere.
        Kind.MAIL_LINKED,
        # Deadlines: the cooperative sees the shared ones on its case page and is e-mailed
        # their reminders; the events (of unshared ones too, with staff notes) stay here.
        Kind.DEADLINE_ADDED,
        Kind.DEADLINE_CHANGED,
        Kind.DEADLINE_DONE,
        Kind.DEADLINE_MISSED,
        Kind.DEADLINE_REMINDED,
    }
)
# Events whose note was written for the cooperative (or by it); other notes stay with the staff.
MEMBER_NOTE_EVENTS = frozenset(
    {
        Kind.REJECTED,
        Kind.REOPENED,
        Kind.CANCELLED,
        Kind.RATED,
        # What an estimate is for, and the cooperative's answer to it.
        Kind.ESTIMATE_PROPOSED,
        Kind.ESTIMATE_ACCEPTED,
        Kind.ESTIMATE_DECLINED,
    }
)


def _staff_scope(roles: Roles) -> Q:
    """The cases a staff role reaches below "all": its areas', and what a consultant works on
    (a consultant keeps seeing it even outside their current areas)."""
    condition = Q(area_id__in=roles.staff_area_ids)
    if roles.is_consultant:
        condition |= Q(assignee_id=roles.user_id)
    return condition


def cases_visible_to(user) -> QuerySet[Case]:
    """Every case the user may see: as a person of their cooperatives what their role there
    shows (`Roles.member_cases`: a legal representative all, a referent all but the
    confidential ones, a member their own and those they follow), and their areas' as staff.

    Every list, page, search, report, download, export and e-mail of a case reads it (or, for
    one case, `policy.sees_case`, the same rule)."""
    roles = roles_of(user)
    if roles.user_id is None:
        return Case.objects.none()
    if roles.supervises_all:
        return Case.objects.all()
    conditions = [
        condition
        for condition in (
            roles.member_cases(),
            _staff_scope(roles) if roles.is_staff_role else None,
        )
        if condition is not None
    ]
    if not conditions:
        return Case.objects.none()
    return Case.objects.filter(reduce(or_, conditions))


def staff_cases_of(user) -> QuerySet[Case]:
    """The cases a user sees as federation staff (not those they see as a cooperative member)."""
    roles = roles_of(user)
    if not roles.is_staff_role:
        return Case.objects.none()
    if roles.supervises_all:
        return Case.objects.all()
    return Case.objects.filter(_staff_scope(roles))


def deadlines_visible_to(user) -> QuerySet[Deadline]:
    """The deadlines a user may see: every one of the cases they see as staff (and, for staff of
    its area, those of a recurring obligation whose case is not open yet); the shared ones of
    the cases they see as a person of the cooperative."""
    roles = roles_of(user)
    if roles.user_id is None:
        return Deadline.objects.none()
    if roles.supervises_all:
        return Deadline.objects.all()
    conditions = Q(shared=True, case__in=cases_visible_to(user))
    if roles.is_staff_role:
        conditions |= Q(case__in=staff_cases_of(user)) | Q(
            case__isnull=True, area_id__in=roles.staff_area_ids
        )
    return Deadline.objects.filter(conditions)


def with_staff_counts(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with their number of internal notes, counted by the database in the same query."""
    internal_notes = (
        Message.objects.filter(case=OuterRef("pk"), internal=True)
        .order_by()
        .values("case")
        .annotate(n=Count("id"))
        .values("n")
    )
    return cases.annotate(
        internal_notes_count=Coalesce(
            Subquery(internal_notes, output_field=IntegerField()), Value(0)
        )
    )


def case_list_for(user) -> QuerySet[Case]:
    """Visible cases with what a list shows (the reader's read state; for staff, the count of
    internal notes too), in one query."""
    cases = with_read_state(with_list_relations(cases_visible_to(user)), user)
    if roles_of(user).is_staff_role:
        cases = with_staff_counts(cases)
    return cases


# --- Read state ----------------------------------------------------------------------------


def _reads_of(user) -> QuerySet[CaseRead]:
    # An anonymous reader has no rows: every case is unread for them.
    return CaseRead.objects.filter(user_id=getattr(user, "pk", None))


def read_since_activity(user, *, case: str = "pk", last_activity: str = "last_activity_at"):
    """True where `user` opened the case at or after its last activity (the case is read).

    `case` and `last_activity` name the outer query's columns, so lists of other rows (tasks)
    can ask about their case; negate it (`~`) for "unread". The read row is found through the
    unique (case, user) index: one probe per row of the page, inside the list's one query.
    """
    return Exists(
        _reads_of(user).filter(case_id=OuterRef(case), read_at__gte=OuterRef(last_activity))
    )


def with_read_state(cases: QuerySet[Case], user) -> QuerySet[Case]:
    """Cases with `read_at` (when `user` last opened each, or None) and `unread` (never opened,
    or a public message or a change of status since), in the same query."""
    read_at = _reads_of(user).filter(case_id=OuterRef("pk")).values("read_at")[:1]
    return cases.annotate(read_at=Subquery(read_at), unread=~read_since_activity(user))


def filter_unread(cases: QuerySet[Case], user, *, unread: bool) -> QuerySet[Case]:
    """Only the cases unread by `user` (`unread=True`) or only those they are up to date on."""
    condition = read_since_activity(user)
    return cases.filter(~condition if unread else condition)


def is_unread(case: Case, user) -> bool:
    """One case's read state for `user`, from the list's annotation when it has one."""
    if hasattr(case, "unread"):
        return bool(case.unread)
    return not _reads_of(user).filter(case_id=case.pk, read_at__gte=case.last_activity_at).exists()


def messages_visible_to(user, case: Case) -> QuerySet[Message]:
    """A case's messages; internal notes only for staff of that case."""
    messages = case.messages.select_related("author").order_by("created_at", "id")
    if not can_read_internal(user, case):
        messages = messages.filter(internal=False)
    return messages


def messages_with_attachments(user, case: Case) -> QuerySet[Message]:
    """The messages a user may see, each with the documents attached to it that they may see
    (`visible_attachments`), in one more query."""

    return messages_visible_to(user, case).prefetch_related(
        Prefetch(
            "attachments",
            queryset=attachments_visible_to(user, case),
            to_attr="visible_attachments",
        )
    )


def events_visible_to(user, case: Case) -> QuerySet[CaseEvent]:
    """A case's timeline: all of it for its staff; the cooperative's part for its members."""
    timeline = case.events.select_related("actor").order_by("created_at", "id")
    if not can_read_internal(user, case):
        timeline = timeline.exclude(kind__in=STAFF_ONLY_EVENTS).exclude(
            kind=Kind.ATTACHMENT_ADDED, after__internal=True
        )
    return timeline


def can_read_internal(user, case: Case) -> bool:
    """Internal notes and documents are for the staff of the case (`policy.is_staff_of`)."""
    return is_staff_of(case, roles_of(user))


def participants_of(case: Case) -> list[CaseParticipant]:
    """The people who follow the case, with their names (from a list's prefetch if any)."""
    prefetched = getattr(case, "_prefetched_objects_cache", {}).get("participant_links")
    if prefetched is not None:
        return list(prefetched)
    return list(participants_prefetch().queryset.filter(case=case))


def person_named(value) -> object | None:
    """The person an id in a form, a URL or a JSON body names (0 to 9 only), or None; whether
    they may follow a case is the service's to say."""
    user_id = id_in(str(value if value is not None else "").strip())
    if user_id is None or user_id > MAX_ID:
        return None
    return get_user_model().objects.filter(pk=user_id).first()


def participant_candidates(case: Case) -> QuerySet:
    """Who may be added to follow the case: the people with an active membership of its
    cooperative (an active one), other than its requester and those who follow it already."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__cooperative_id=case.cooperative_id,
            memberships__is_active=True,
            memberships__cooperative__membership_status=Cooperative.MembershipStatus.ACTIVE,
        )
        .exclude(pk=case.requester_id or 0)
        .exclude(participations__case=case)
        .order_by("last_name", "first_name", "username")
    )


@dataclass(frozen=True)
class Sharing:
    """What a case page shows of who follows the case and whether it is confidential, and
    what the reader may change of it (`policy`: the same rule as the services' guards)."""

    confidential: bool
    participants: list[CaseParticipant]
    candidates: list
    may_manage: bool
    may_change_confidentiality: bool


def sharing_of(case: Case, user) -> Sharing:
    roles = roles_of(user)
    may_manage = may_act(Action.MANAGE_PARTICIPANTS, case, roles)
    return Sharing(
        confidential=case.confidential,
        participants=participants_of(case),
        candidates=list(participant_candidates(case)) if may_manage else [],
        may_manage=may_manage,
        may_change_confidentiality=may_act(Action.CHANGE_CONFIDENTIALITY, case, roles),
    )


def cooperatives_of(user) -> QuerySet[Cooperative]:
    roles = roles_of(user)
    return Cooperative.objects.filter(id__in=roles.cooperative_ids).select_related("office")


def cases_due_for_auto_close(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Case.objects.filter(status="resolved", confirmation_due_at__lte=now)
        .order_by("confirmation_due_at")
        .values_list("pk", flat=True)[:limit]
    )


def attachments_visible_to(user, case: Case) -> QuerySet[Attachment]:
    """A case's documents; internal ones only for staff of that case."""
    attachments = case.attachments.select_related("uploaded_by").order_by("created_at", "id")
    if not can_read_internal(user, case):
        attachments = attachments.filter(internal=False)
    return attachments


def attachment_visible_to(user, pk: int) -> Attachment | None:
    """One document by id, or None when the user may not see it (the caller answers 404)."""
    attachment = (
        Attachment.objects.select_related("case")
        .filter(pk=pk, case__in=cases_visible_to(user))
        .first()
    )
    if attachment is None:
        return None
    if attachment.internal and not can_read_internal(user, attachment.case):
        return None
    return attachment
