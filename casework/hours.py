"""Hours, read: a cooperative's service plan and what its cases used of it, and their words.

A plan (`ServicePlan`, one per cooperative and year, in force between its effective dates)
includes hours in buckets: each area with hours of its own (`ServicePlanArea`) is one, and the
plan's total is one more, for the time of every other area (none when the plan has no total).
A billable time entry dated inside the plan's dates is within the plan (no estimate) or beyond
it (recorded against an estimate the cooperative accepted, `TimeEntry.estimate`); a time entry
that is not billable counts against nothing, and one dated outside every plan is not metered.
The writes that keep these rules are in `casework.services.hours`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .models import (
    Case,
    CaseEvent,
    Cooperative,
    Estimate,
    PracticeArea,
    ServicePlan,
    ServicePlanArea,
    TimeEntry,
)
from .policy import Action, allowed_actions, may_change_time_entry
from .roles import roles_of
from .selectors import staff_cases_of

Kind = CaseEvent.Kind
#: The events of this module's words (`timeline_words`).
KINDS = (Kind.TIME_RECORDED, Kind.ESTIMATE_PROPOSED, Kind.ESTIMATE_ACCEPTED, Kind.ESTIMATE_DECLINED)


def minutes_of(hours: Decimal | None) -> int:
    """Hours as a plan writes them (two decimals), in whole minutes."""
    return int((hours or Decimal(0)) * 60)


# --- The plan in force ------------------------------------------------------------------------


def plan_for_day(cooperative_id: int, day: date) -> ServicePlan | None:
    """The cooperative's plan in force on `day`, if any (the latest year's if two overlap)."""
    return (
        ServicePlan.objects.filter(
            cooperative_id=cooperative_id, effective_from__lte=day, effective_until__gte=day
        )
        .order_by("-year")
        .first()
    )


def offered_actions(case: Case, user) -> list[Action]:
    """The policy's actions on the case, less an estimate where the cooperative has no plan in
    force today (nothing to go beyond): the composer's choices and the API's `actions`."""
    allowed = allowed_actions(case, user)
    if Action.PROPOSE_ESTIMATE in allowed:
        in_force = getattr(case, "plan_in_force", None)
        if in_force is None:
            in_force = plan_for_day(case.cooperative_id, timezone.localdate()) is not None
        if not in_force:
            allowed.remove(Action.PROPOSE_ESTIMATE)
    return allowed


def own_area_hours(plan: ServicePlan) -> dict[int, int]:
    """The plan's areas with hours of their own: area id -> minutes included (one query)."""
    return {
        area_id: minutes_of(hours)
        for area_id, hours in ServicePlanArea.objects.filter(plan=plan).values_list(
            "area_id", "hours_included"
        )
    }


def _plan_entries(plan: ServicePlan) -> QuerySet[TimeEntry]:
    """The billable time entries that count against the plan (within it or beyond it)."""
    return TimeEntry.objects.filter(
        case__cooperative_id=plan.cooperative_id,
        day__gte=plan.effective_from,
        day__lte=plan.effective_until,
        billable=True,
    )


def bucket_left(
    plan: ServicePlan, area_id: int, *, excluding: int | None = None
) -> tuple[int, int]:
    """What the plan includes for time of the area `area_id`, and how much of it is left.

    The area's own hours if it has some, else the plan's total shared by every area without
    hours of its own; `excluding` leaves one entry out (it is being changed). Two queries.
    """
    own = own_area_hours(plan)
    entries = _plan_entries(plan).filter(estimate__isnull=True)
    if area_id in own:
        included = own[area_id]
        entries = entries.filter(case__area_id=area_id)
    else:
        included = minutes_of(plan.hours_included)
        entries = entries.exclude(case__area_id__in=list(own))
    if excluding is not None:
        entries = entries.exclude(pk=excluding)
    used = entries.aggregate(used=Sum("minutes", default=0))["used"]
    return included, max(included - used, 0)


def estimates_left(case: Case, *, excluding: int | None = None) -> list[tuple[Estimate, int]]:
    """The case's accepted estimates, in the order they were accepted, each with the minutes it
    still covers (one query)."""
    entries = Q(entries__billable=True)
    if excluding is not None:
        entries &= ~Q(entries__pk=excluding)
    accepted = (
        Estimate.objects.filter(case=case, status=Estimate.Status.ACCEPTED)
        .annotate(used=Sum("entries__minutes", filter=entries, default=0))
        .order_by("answered_at", "pk")
    )
    return [(estimate, max(estimate.minutes - estimate.used, 0)) for estimate in accepted]


def pending_estimate(case: Case) -> Estimate | None:
    """The estimate that waits for the cooperative's answer on this case, if any."""
    return (
        Estimate.objects.filter(case=case, status=Estimate.Status.PENDING)
        .select_related("proposed_by")
        .first()
    )


def waits_on_estimate(case: Case) -> bool:
    """Whether the case waits on the cooperative because of an estimate (not a question)."""
    return Estimate.objects.filter(case=case, status=Estimate.Status.PENDING).exists()


# --- Usage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaUsage:
    """One area's time in a plan: `included` is None when the area draws on the plan's total."""

    area: PracticeArea
    included: int | None
    used: int
    beyond: int


@dataclass(frozen=True)
class PlanUsage:
    """A cooperative's year: its plan (None: no plan), in minutes.

    `included`, `used` and `beyond` are over every bucket; `shared_included` and `shared_used`
    are the plan's total and what the areas without hours of their own used of it.
    """

    cooperative: Cooperative
    year: int
    plan: ServicePlan | None
    included: int = 0
    used: int = 0
    beyond: int = 0
    shared_included: int = 0
    shared_used: int = 0
    areas: list[AreaUsage] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return max(self.included - self.used, 0)

    @property
    def percent(self) -> int:
        """How much of what the plan includes is used, 0–100 (for the bar on the pages)."""
        if not self.included:
            return 100 if self.used else 0
        return min(round(100 * self.used / self.included), 100)


def plan_usage(cooperative: Cooperative, year: int) -> PlanUsage:
    """The cooperative's plan of `year` and what its cases used of it, per area (three queries
    whatever the number of entries: the plan, its areas' hours, one aggregate of the entries)."""
    plan = ServicePlan.objects.filter(cooperative=cooperative, year=year).first()
    if plan is None:
        return PlanUsage(cooperative=cooperative, year=year, plan=None)
    own = {
        row.area_id: row for row in ServicePlanArea.objects.filter(plan=plan).select_related("area")
    }
    sums = (
        _plan_entries(plan)
        .order_by()
        .values("case__area_id")
        .annotate(
            used=Sum("minutes", filter=Q(estimate__isnull=True), default=0),
            beyond=Sum("minutes", filter=Q(estimate__isnull=False), default=0),
        )
    )
    used_by_area = {row["case__area_id"]: (row["used"], row["beyond"]) for row in sums}
    names = {row.area_id: row.area for row in own.values()}
    missing = set(used_by_area) - set(names)
    if missing:
        names.update(PracticeArea.objects.in_bulk(missing))
    areas = []
    for area_id, area in names.items():
        used, beyond = used_by_area.get(area_id, (0, 0))
        included = minutes_of(own[area_id].hours_included) if area_id in own else None
        areas.append(AreaUsage(area=area, included=included, used=used, beyond=beyond))
    areas.sort(key=lambda row: (row.area.position, row.area.name))
    shared_included = minutes_of(plan.hours_included)
    shared_used = sum(row.used for row in areas if row.included is None)
    # What the plan's total covers: beyond it, the areas without hours of their own used
    # estimates' time (their `used` is capped by the recording rule, not here).
    return PlanUsage(
        cooperative=cooperative,
        year=year,
        plan=plan,
        included=shared_included + sum(row.included for row in areas if row.included),
        used=sum(row.used for row in areas),
        beyond=sum(row.beyond for row in areas),
        shared_included=shared_included,
        shared_used=shared_used,
        areas=areas,
    )


def sees_hours_of(user, cooperative: Cooperative) -> bool:
    """Staff, and the cooperative's legal representatives and referents (those who see all its
    cases), read its plan's usage; an ordinary member does not (their own cases only)."""
    roles = roles_of(user)
    return roles.is_staff_role or roles.sees_all_cases_of(cooperative.pk)


# --- Words ------------------------------------------------------------------------------------


def hours_text(minutes: int) -> str:
    """Minutes as hours the way the reader writes numbers: "7", "7,5" in Italian, "7.5"."""
    hours = round(Decimal(minutes) / 60, 1)
    if hours == hours.to_integral_value():
        return formats.number_format(int(hours), use_l10n=True)
    return formats.number_format(hours, decimal_pos=1, use_l10n=True)


def usage_words(usage: PlanUsage) -> str:
    """ "hours used 7 of 10 in 2026", or that the cooperative has no plan that year."""
    if usage.plan is None:
        return _("No service plan in %(year)d.") % {"year": usage.year}
    return _("hours used %(used)s of %(included)s in %(year)d") % {
        "used": hours_text(usage.used),
        "included": hours_text(usage.included),
        "year": usage.year,
    }


def beyond_words(usage: PlanUsage) -> str:
    """The hours beyond the plan, under estimates the cooperative accepted ("" if none)."""
    if not usage.beyond:
        return ""
    return _("%(hours)s more hours beyond the plan, under accepted estimates") % {
        "hours": hours_text(usage.beyond)
    }


def estimate_words(estimate: Estimate) -> str:
    """ "3 hours beyond the plan" (an estimate's size in the reader's words)."""
    return ngettext(
        "%(hours)s hour beyond the plan", "%(hours)s hours beyond the plan", estimate.minutes // 60
    ) % {"hours": hours_text(estimate.minutes)}


def timeline_words(event: CaseEvent) -> list[str]:
    """What the timelines say about a time entry and an estimate."""
    after = event.after or {}
    minutes = after.get("minutes") or 0
    if event.kind == Kind.TIME_RECORDED:
        total = after.get("total") or 0
        change = after.get("change")
        if change == "deleted":
            words = ngettext(
                "Time entry of %(minutes)d minute deleted, %(total)d in all.",
                "Time entry of %(minutes)d minutes deleted, %(total)d in all.",
                abs(minutes),
            ) % {"minutes": abs(minutes), "total": total}
        elif change == "changed":
            words = _("Time entry changed by %(minutes)+d minutes, %(total)d in all.") % {
                "minutes": minutes,
                "total": total,
            }
        else:
            words = ngettext(
                "%(minutes)d minute recorded, %(total)d in all.",
                "%(minutes)d minutes recorded, %(total)d in all.",
                minutes,
            ) % {"minutes": minutes, "total": total}
        details = [words]
        if after.get("beyond_plan"):
            details.append(
                ngettext(
                    "%(n)d minute beyond the plan, under an accepted estimate.",
                    "%(n)d minutes beyond the plan, under an accepted estimate.",
                    after["beyond_plan"],
                )
                % {"n": after["beyond_plan"]}
            )
        return details
    if event.kind in (Kind.ESTIMATE_PROPOSED, Kind.ESTIMATE_ACCEPTED, Kind.ESTIMATE_DECLINED):
        size = _("%(hours)s hours (%(minutes)d minutes) beyond the service plan.") % {
            "hours": hours_text(minutes),
            "minutes": minutes,
        }
        return [size]
    return []


# --- Time entries and billing -------------------------------------------------------------------


def entries_of(case: Case) -> QuerySet[TimeEntry]:
    """A case's time entries for its staff, with who recorded each and its estimate."""
    return (
        TimeEntry.objects.filter(case=case)
        .select_related("consultant", "estimate")
        .order_by("day", "id")
    )


def estimates_of(case: Case) -> QuerySet[Estimate]:
    return (
        Estimate.objects.filter(case=case)
        .select_related("proposed_by", "answered_by")
        .order_by("-proposed_at", "-id")
    )


class PlanStanding:
    """How the billing file says an entry stands against its cooperative's plan."""

    WITHIN = gettext_lazy("within plan")
    BEYOND = gettext_lazy("beyond plan")
    NO_PLAN = gettext_lazy("no plan")
    NOT_BILLABLE = gettext_lazy("not billable")


def may_bill(user) -> bool:
    """The billing file is for supervisors (of their areas' cases; all of them for those of
    every area) and administrators."""
    roles = roles_of(user)
    return roles.is_supervisor or roles.is_admin


def billing_entries(user, *, since: date, until: date) -> QuerySet[TimeEntry]:
    """The time entries dated `since`..`until` (both included) of the cases `user` sees as
    staff (None: every case, for `manage.py billing_csv`), in the order of the file:
    cooperative, case, day."""
    entries = TimeEntry.objects.filter(day__gte=since, day__lte=until)
    if user is not None:
        entries = entries.filter(case__in=staff_cases_of(user).values("pk"))
    return entries.select_related(
        "case__cooperative", "case__area", "consultant", "estimate"
    ).order_by("case__cooperative__name", "case__reference", "day", "id")


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


BILLING_COLUMNS = (
    gettext_lazy("Cooperative"),
    gettext_lazy("Tax code"),
    gettext_lazy("Case"),
    gettext_lazy("Area"),
    gettext_lazy("Consultant"),
    gettext_lazy("Date"),
    gettext_lazy("Minutes"),
    gettext_lazy("Billable"),
    gettext_lazy("Plan"),
    gettext_lazy("Accepted estimate"),
    gettext_lazy("Estimate minutes"),
    gettext_lazy("Note"),
)


def billing_rows(user, *, since: date, until: date) -> Iterator[list]:
    """The header, then one row per time entry, read in chunks as they are written out.

    The plans of the period are read once (one query): each entry is within its plan, beyond it
    (its accepted estimate named), outside every plan, or not billable.
    """
    yield [str(label) for label in BILLING_COLUMNS]
    plans: dict[int, list[tuple[date, date]]] = {}
    for cooperative_id, start, end in ServicePlan.objects.filter(
        effective_from__lte=until, effective_until__gte=since
    ).values_list("cooperative_id", "effective_from", "effective_until"):
        plans.setdefault(cooperative_id, []).append((start, end))
    yes, no = _("yes"), _("no")
    for entry in billing_entries(user, since=since, until=until).iterator(chunk_size=1000):
        case = entry.case
        if not entry.billable:
            standing = PlanStanding.NOT_BILLABLE
        elif entry.estimate_id is not None:
            standing = PlanStanding.BEYOND
        elif any(a <= entry.day <= b for a, b in plans.get(case.cooperative_id, ())):
            standing = PlanStanding.WITHIN
        else:
            standing = PlanStanding.NO_PLAN
        yield [
            case.cooperative.name,
            case.cooperative.tax_code,
            case.reference,
            case.area.name,
            _person(entry.consultant),
            entry.day.isoformat(),
            entry.minutes,
            yes if entry.billable else no,
            str(standing),
            entry.estimate_id or "",
            entry.estimate.minutes if entry.estimate_id else "",
            entry.note,
        ]


# --- The staff's panel of a case ----------------------------------------------------------------


@dataclass(frozen=True)
class EntryRow:
    entry: TimeEntry
    changeable: bool  # the reader may correct or delete it now


def case_panel(case: Case, user) -> dict:
    """The hours panel of the workspace's case page: the case's time entries (each saying
    whether the reader may correct it), its estimates, and the cooperative's plan this year
    (six queries whatever the number of entries)."""
    roles = roles_of(user)
    today = timezone.localdate()
    entries = [
        EntryRow(entry, may_change_time_entry(entry, case, roles, today=today))
        for entry in entries_of(case)
    ]
    return {
        "entries": entries,
        "estimates": list(estimates_of(case)),
        "usage": plan_usage(case.cooperative, today.year),
    }
