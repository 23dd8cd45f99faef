"""Writes to the registry of cooperatives: a merger (fusione per incorporazione).

One cooperative absorbs another: everything that points at the absorbed one moves to the one
that absorbs it, in one transaction, by set-based UPDATEs (a query per kind of row, whatever the
number of rows), and each moved case gets a `cooperative_merged` event (one INSERT for all).
The absorbed cooperative stays, ceased, with `merged_into` and `merged_at`: its events, its
e-mails and its old links still name it. Who may do it is `policy.check_merge_cooperatives`.

What moves, and what happens where both cooperatives have the same thing:
- cases, their documents, time and estimates with them; incoming e-mails linked to it;
- deadlines, except a generated one whose occurrence of the same obligation the absorbing
  cooperative already has (the unique `deadline_once_per_occurrence`): the absorbing
  cooperative meets that obligation once, through its own deadline, so the duplicate stays with
  the absorbed cooperative for its history and, if still open, is closed as done (no more
  reminders, never "missed");
- people: a person who is already in the absorbing cooperative keeps one membership there with
  the stronger of the roles they actively hold in the two (legal representative, then referent,
  then member); their membership of the absorbed one ends (deactivated, as a person leaving);
  everybody else's membership moves as it is;
- pending invitations move (the invited person joins the absorbing cooperative, whose name the
  invitation's page shows), except those to an address that already has a pending invitation
  to the absorbing cooperative or acts for it, which are revoked; accepted and revoked ones stay
  as history;
- service plans: a year only the absorbed cooperative has moves; a year both have becomes one
  plan, the hours added together (in total and area by area; an area only one of them has is
  kept), in force from the earlier start to the later end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Case as Choose
from django.db.models import Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest, Least, Lower
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import events
from ..errors import CaseError, ConflictError
from ..models import (
    Case,
    Cooperative,
    Deadline,
    InboundEmail,
    Invitation,
    Membership,
    ServicePlan,
    ServicePlanArea,
)
from ..policy import check_merge_cooperatives
from ..sla.recompute import recompute_open_cases

Role = Membership.Role
# The actor of a merger recorded at the server's shell (`manage.py merge_cooperatives`): whoever
# runs it already holds the database, so no role is asked of them; events name nobody.
COMMAND_LINE = object()


@dataclass(frozen=True)
class MergeSummary:
    """What a merger moved (or, for a dry run, would move): counts only."""

    absorbed: str  # the cooperatives' names
    into: str
    dry_run: bool
    cases: int = 0
    events: int = 0
    sla_recomputed: int = 0
    deadlines_moved: int = 0
    deadlines_duplicate: int = 0
    memberships_moved: int = 0
    memberships_combined: int = 0
    invitations_moved: int = 0
    invitations_revoked: int = 0
    plans_moved: int = 0
    plans_combined: int = 0
    emails_moved: int = 0

    def rows(self) -> list[tuple[str, int]]:
        """Each count with what it counts, in the reader's language (the admin's confirmation)."""
        return [(str(label), getattr(self, name)) for name, label in SUMMARY_LABELS.items()]

    def text(self) -> str:
        """The summary as one line (the admin's message, the command's output): the cases, then
        whatever else there was."""
        rows = self.rows()
        counts = "; ".join(
            f"{label}: {count}" for index, (label, count) in enumerate(rows) if count or not index
        )
        if self.dry_run:
            return _("Merging %(absorbed)s into %(into)s would move: %(counts)s.") % {
                "absorbed": self.absorbed,
                "into": self.into,
                "counts": counts,
            }
        return _("%(absorbed)s was merged into %(into)s. %(counts)s.") % {
            "absorbed": self.absorbed,
            "into": self.into,
            "counts": capfirst(counts),
        }


SUMMARY_LABELS = {
    "cases": gettext_lazy("cases moved"),
    "deadlines_moved": gettext_lazy("deadlines moved"),
    "deadlines_duplicate": gettext_lazy(
        "deadlines kept as done (the absorbing cooperative has the same occurrence)"
    ),
    "memberships_moved": gettext_lazy("people moved"),
    "memberships_combined": gettext_lazy(
        "people already in the absorbing cooperative (the stronger role kept)"
    ),
    "invitations_moved": gettext_lazy("pending invitations moved"),
    "invitations_revoked": gettext_lazy("pending invitations revoked (already invited or in)"),
    "plans_moved": gettext_lazy("service plans moved"),
    "plans_combined": gettext_lazy("service plans of the same year added together"),
    "emails_moved": gettext_lazy("incoming e-mails relinked"),
    "sla_recomputed": gettext_lazy("cases whose SLA due times moved (another office)"),
}


class _DryRun(Exception):
    """Rolls a dry run back, carrying what it would have done."""

    def __init__(self, summary: MergeSummary):
        self.summary = summary


def merge_cooperatives(
    *,
    absorbed: Cooperative,
    into: Cooperative,
    actor,
    at: datetime | None = None,
    note: str = "",
    dry_run: bool = False,
) -> MergeSummary:
    """Merge `absorbed` into `into` (see the module's docstring for what moves) and return the
    counts; `absorbed` ends ceased, with `merged_into` and `merged_at`.

    `actor`: the person recording it (an administrator or a supervisor of every area, else 403),
    or `COMMAND_LINE`. Refused: a cooperative into itself (400), into a ceased or merged one, or
    one already merged (409). Both rows are locked, the lower id first, so that two mergers at
    once cannot deadlock; the locks also hold off any row being added that points at either (a
    foreign key's check takes a share lock on the row it references), so what moves is all there
    is. `dry_run` does everything and rolls it back: the counts are those the merger would give.
    """
    at = at or timezone.now()
    if actor is not COMMAND_LINE:
        check_merge_cooperatives(actor)
    if absorbed.pk == into.pk:
        raise CaseError(_("A cooperative cannot be merged into itself."), code="merge_into_itself")
    try:
        with transaction.atomic():
            locked = {
                pk: Cooperative.objects.select_for_update().get(pk=pk)
                for pk in sorted((absorbed.pk, into.pk))
            }
            absorbed, into = locked[absorbed.pk], locked[into.pk]
            _check_mergeable(absorbed, into)
            summary = _merge(
                absorbed=absorbed,
                into=into,
                actor=None if actor is COMMAND_LINE else actor,
                at=at,
                note=(note or "").strip(),
                dry_run=dry_run,
            )
            if dry_run:
                raise _DryRun(summary)
    except _DryRun as rolled_back:
        return rolled_back.summary
    return summary


def _check_mergeable(absorbed: Cooperative, into: Cooperative) -> None:
    """Expects both rows locked."""
    if absorbed.merged_into_id is not None:
        raise ConflictError(
            _("%(absorbed)s was already merged into %(into)s on %(day)s.")
            % {
                "absorbed": absorbed.name,
                "into": absorbed.merged_into.name,
                "day": _day(absorbed.merged_at),
            },
            code="already_merged",
        )
    if into.merged_into_id is not None:
        raise ConflictError(
            _("%(into)s was itself merged into %(other)s: merge into that one instead.")
            % {"into": into.name, "other": into.merged_into.name},
            code="into_merged",
        )
    if into.membership_status == Cooperative.MembershipStatus.CEASED:
        raise ConflictError(
            _("%(into)s has ceased: a cooperative can only be merged into one that has not.")
            % {"into": into.name},
            code="into_ceased",
        )


def _merge(*, absorbed, into, actor, at, note, dry_run) -> MergeSummary:
    """The writes of a merger; expects both cooperatives locked and checked."""
    cases = list(Case.objects.filter(cooperative=absorbed).order_by("pk").only("pk"))
    case_ids = [case.pk for case in cases]
    moved_cases = Case.objects.filter(cooperative=absorbed).update(cooperative=into, updated_at=at)
    merged = [
        events.cooperative_merged(
            case,
            actor=actor,
            old_cooperative=absorbed.pk,
            old_cooperative_name=absorbed.name,
            cooperative=into.pk,
            cooperative_name=into.name,
            note=note,
            at=at,
        )
        for case in cases
    ]
    events.record_all(merged)
    # A case's SLA runs on its cooperative's office's calendar: another office's gives new due
    # instants (the stretch since the case's last event is measured on the new calendar). The
    # recompute's batches are savepoints of this transaction.
    recomputed = 0
    if absorbed.office_id != into.office_id and case_ids:
        recomputed = recompute_open_cases(case_ids=case_ids, at=at)

    deadlines = _merge_deadlines(absorbed, into, actor=actor, at=at)
    memberships = _merge_memberships(absorbed, into, at=at)
    # After the people: an address that now acts for `into` is not invited to it again.
    invitations = _merge_invitations(absorbed, into, at=at)
    plans = _merge_plans(absorbed, into)
    emails = InboundEmail.objects.filter(cooperative=absorbed).update(cooperative=into)

    absorbed.membership_status = Cooperative.MembershipStatus.CEASED
    absorbed.merged_into, absorbed.merged_at = into, at
    absorbed.save(update_fields=["membership_status", "merged_into", "merged_at"])
    return MergeSummary(
        absorbed=absorbed.name,
        into=into.name,
        dry_run=dry_run,
        cases=moved_cases,
        events=len(merged),
        sla_recomputed=recomputed,
        **deadlines,
        **memberships,
        **invitations,
        **plans,
        emails_moved=emails,
    )


def _merge_deadlines(absorbed, into, *, actor, at) -> dict[str, int]:
    theirs = Deadline.objects.filter(cooperative=absorbed)
    duplicate = Q(obligation__isnull=False) & Exists(
        Deadline.objects.filter(
            cooperative=into,
            obligation_id=OuterRef("obligation_id"),
            occurrence=OuterRef("occurrence"),
        )
    )
    duplicates = theirs.filter(duplicate).count()
    theirs.filter(duplicate, status=Deadline.Status.OPEN).update(
        status=Deadline.Status.DONE, done_at=at, done_by=actor, updated_at=at
    )
    moved = theirs.exclude(duplicate).update(cooperative=into, updated_at=at)
    return {"deadlines_moved": moved, "deadlines_duplicate": duplicates}


def _merge_memberships(absorbed, into, *, at) -> dict[str, int]:
    theirs = Membership.objects.filter(cooperative=absorbed)
    in_both = theirs.filter(
        user_id__in=Membership.objects.filter(cooperative=into).values("user_id")
    )
    # Their membership of `absorbed`, if active: with the one of `into` (as it was before this
    # UPDATE, which reads the old row throughout), it decides the role and whether it is active.
    active_there = Exists(
        Membership.objects.filter(cooperative=absorbed, user_id=OuterRef("user_id"), is_active=True)
    )

    def holds(role: str) -> Q:
        active_in = Membership.objects.filter(
            cooperative=absorbed, user_id=OuterRef("user_id"), is_active=True, role=role
        )
        return Q(is_active=True, role=role) | Exists(active_in)

    combined = Membership.objects.filter(
        cooperative=into, user_id__in=in_both.values("user_id")
    ).update(
        role=Choose(
            When(holds(Role.LEGAL_REPRESENTATIVE), then=Value(Role.LEGAL_REPRESENTATIVE.value)),
            When(holds(Role.REFERENT), then=Value(Role.REFERENT.value)),
            When(Q(is_active=True) | active_there, then=Value(Role.MEMBER.value)),
            default=F("role"),
        ),
        is_active=Choose(When(Q(is_active=True) | active_there, then=Value(True)), default=False),
        left_at=Choose(
            When(active_there, then=Value(None)),
            default=F("left_at"),
            output_field=Membership._meta.get_field("left_at"),
        ),
    )
    in_both.filter(is_active=True).update(is_active=False, left_at=at)
    moved = theirs.exclude(
        user_id__in=Membership.objects.filter(cooperative=into).values("user_id")
    ).update(cooperative=into)
    return {"memberships_moved": moved, "memberships_combined": combined}


def _merge_invitations(absorbed, into, *, at) -> dict[str, int]:
    pending = Invitation.objects.filter(cooperative=absorbed, status=Invitation.Status.PENDING)
    # Invitations keep their address in lower case (`invitations.normalise_email`).
    acting = (
        Membership.objects.filter(cooperative=into, is_active=True)
        .annotate(address=Lower("user__email"))
        .values("address")
    )
    invited = Invitation.objects.filter(cooperative=into, status=Invitation.Status.PENDING)
    revoked = pending.filter(Q(email__in=acting) | Q(email__in=invited.values("email"))).update(
        status=Invitation.Status.REVOKED, revoked_at=at
    )
    moved = pending.update(cooperative=into)
    return {"invitations_moved": moved, "invitations_revoked": revoked}


def _merge_plans(absorbed, into) -> dict[str, int]:
    theirs = ServicePlan.objects.filter(cooperative=absorbed)
    both_years = ServicePlan.objects.filter(
        cooperative=into, year__in=theirs.values("year")
    ).values("year")
    same_year = theirs.filter(year=OuterRef("year"))

    def their(field: str) -> Subquery:
        return Subquery(same_year.values(field)[:1])

    # A plan without a total has only its areas' hours: a total only one of them has is kept.
    combined = ServicePlan.objects.filter(cooperative=into, year__in=theirs.values("year")).update(
        hours_included=Choose(
            When(hours_included__isnull=True, then=their("hours_included")),
            default=F("hours_included") + Coalesce(their("hours_included"), Value(Decimal(0))),
        ),
        effective_from=Least(F("effective_from"), their("effective_from")),
        effective_until=Greatest(F("effective_until"), their("effective_until")),
    )

    # The area rows of the absorbed cooperative's plans of those years: added to the same area
    # of the absorbing one's plan of the same year, or moved to that plan.
    year_of_plan = ServicePlan.objects.filter(pk=OuterRef(OuterRef("plan_id"))).values("year")[:1]
    their_area = ServicePlanArea.objects.filter(
        plan__cooperative=absorbed, plan__year=Subquery(year_of_plan), area_id=OuterRef("area_id")
    )
    ServicePlanArea.objects.filter(plan__cooperative=into).filter(Exists(their_area)).update(
        hours_included=F("hours_included") + Subquery(their_area.values("hours_included")[:1])
    )
    my_area = ServicePlanArea.objects.filter(
        plan__cooperative=into, plan__year=Subquery(year_of_plan), area_id=OuterRef("area_id")
    )
    my_plan = ServicePlan.objects.filter(cooperative=into, year=Subquery(year_of_plan))
    ServicePlanArea.objects.filter(plan__cooperative=absorbed, plan__year__in=both_years).exclude(
        Exists(my_area)
    ).update(plan=Subquery(my_plan.values("pk")[:1]))
    # Their plans of those years are now counted in the absorbing cooperative's (a plan kept
    # beside it would count its hours twice in the federation's figures).
    theirs.filter(year__in=both_years).delete()
    moved = theirs.update(cooperative=into)
    return {"plans_moved": moved, "plans_combined": combined}


def _day(instant: datetime | None) -> str:
    return timezone.localtime(instant).strftime("%d/%m/%Y") if instant else "—"


__all__ = ["COMMAND_LINE", "MergeSummary", "merge_cooperatives"]
