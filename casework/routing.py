"""Routing: which consultant should take a case, decided and explained without the ORM or HTTP."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from typing import Any

__all__ = [
    "Candidate",
    "RoutingDecision",
    "RoutingReason",
    "RoutingRequest",
    "choose_consultant",
    "reason_text",
]


class RoutingReason(StrEnum):
    """The reason code of a decision; a str, so it compares equal to and stores as its value."""

    ROUTED = "routed"
    NO_CONSULTANT_IN_AREA = "no_consultant_in_area"
    NO_CONSULTANT_WITH_SPECIALTY = "no_consultant_with_specialty"
    # Everyone suitable was excluded by the caller, e.g. the one consultant who handed it back.
    ALL_EXCLUDED = "all_excluded"
    ALL_ABSENT = "all_absent"
    ALL_AT_CAPACITY = "all_at_capacity"
    # Some suitable consultants are absent and the others are at capacity.
    NONE_AVAILABLE = "none_available"


class _Exclusion(StrEnum):
    # Declared in the order the checks run: a candidate is excluded by the first that fails.
    NOT_IN_AREA = "not_in_area"
    LACKS_SPECIALTY = "lacks_specialty"
    EXCLUDED = "excluded"
    ABSENT = "absent"
    AT_CAPACITY = "at_capacity"


_STAGES = tuple(_Exclusion)
# How many excluded consultants an explanation names per reason before it only counts them.
NAMED_PER_GROUP = 5


@dataclass(frozen=True)
class Candidate:
    """A consultant as routing sees them; the caller passes only active consultants."""

    consultant_id: int
    username: str
    office_code: str
    area_codes: frozenset[str]
    specialty_ids: frozenset[int]
    capacity: int
    active_cases: int
    absent_until: date | None = None
    # When this consultant last handled a case of this cooperative in this area.
    last_helped_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.capacity < 0 or self.active_cases < 0:
            raise ValueError(
                f"Consultant {self.consultant_id}: capacity and active cases cannot be negative."
            )

    def is_absent_on(self, day: date) -> bool:
        # absent_until is the last day away (included), as on Consultant.absent_until.
        return self.absent_until is not None and self.absent_until >= day

    @property
    def has_room(self) -> bool:
        return self.active_cases < self.capacity

    @property
    def load(self) -> str:
        return f"{self.active_cases}/{self.capacity}"


@dataclass(frozen=True)
class RoutingRequest:
    area_code: str
    specialty_id: int | None
    office_code: str  # the cooperative's office
    today: date
    exclude_ids: frozenset[int] = frozenset()  # e.g. the consultant who just handed the case back


@dataclass(frozen=True)
class RoutingDecision:
    consultant_id: int | None
    reason_code: str
    explanation: str  # plain English and stable, for logs and events; the UI uses reason_text()
    # JSON-safe values (dates as ISO strings) so the whole mapping can go into a CaseEvent.
    reason_params: dict[str, Any] = field(default_factory=dict, hash=False)
    # Writes `considered` when it is asked for (an audit, a test): an area has hundreds of
    # consultants, and ranking and describing every one of them at each intake cost more than
    # the decision, which needs only the first two.
    _considered: Callable[[], tuple[tuple[int, str], ...]] = field(
        default=tuple, repr=False, compare=False, hash=False
    )

    @cached_property
    def considered(self) -> tuple[tuple[int, str], ...]:
        """(consultant_id, rank or exclusion) of every candidate, the winner first."""
        return self._considered()

    @property
    def is_routed(self) -> bool:
        return self.consultant_id is not None

    def audit_payload(self) -> dict[str, Any]:
        """Everything needed to replay the decision later, JSON-safe."""
        return {
            "consultant_id": self.consultant_id,
            "reason_code": str(self.reason_code),
            "reason_params": dict(self.reason_params),
            "explanation": self.explanation,
            "considered": [list(entry) for entry in self.considered],
        }


_EPOCH_AWARE = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)


def _recency_key(helped_at: datetime | None) -> tuple[int, timedelta]:
    # Most recent first, never-helped last; a negated timedelta sorts datetimes newest first.
    if helped_at is None:
        return (1, timedelta(0))
    epoch = _EPOCH_NAIVE if helped_at.utcoffset() is None else _EPOCH_AWARE
    return (0, -(helped_at - epoch))


def _rank_key(candidate: Candidate, request: RoutingRequest) -> tuple:
    return (
        candidate.office_code != request.office_code,
        _recency_key(candidate.last_helped_at),
        # Exact ratio: floats could make 1/3 and 2/6 differ and the winner depend on rounding.
        Fraction(candidate.active_cases, candidate.capacity),
        candidate.active_cases,
        candidate.username,
        candidate.consultant_id,
    )


# Which criterion each position of _rank_key belongs to, to say what decided between two.
_CRITERIA = ("office", "continuity", "load", "load", "name", "name")


def _deciding_criterion(winner_key: tuple, runner_up_key: tuple) -> str:
    for criterion, mine, theirs in zip(_CRITERIA, winner_key, runner_up_key, strict=True):
        if mine != theirs:
            return criterion
    raise AssertionError("two candidates cannot share a consultant id")


def _exclusion(candidate: Candidate, request: RoutingRequest) -> _Exclusion | None:
    if request.area_code not in candidate.area_codes:
        return _Exclusion.NOT_IN_AREA
    if request.specialty_id is not None and request.specialty_id not in candidate.specialty_ids:
        return _Exclusion.LACKS_SPECIALTY
    if candidate.consultant_id in request.exclude_ids:
        return _Exclusion.EXCLUDED
    if candidate.is_absent_on(request.today):
        return _Exclusion.ABSENT
    if not candidate.has_room:
        return _Exclusion.AT_CAPACITY
    return None


def _exclusion_detail(candidate: Candidate, stage: _Exclusion, request: RoutingRequest) -> str:
    match stage:
        case _Exclusion.NOT_IN_AREA:
            return f"not in area {request.area_code}"
        case _Exclusion.LACKS_SPECIALTY:
            return f"lacks specialty {request.specialty_id}"
        case _Exclusion.EXCLUDED:
            return "excluded for this case"
        case _Exclusion.ABSENT:
            return f"absent until {candidate.absent_until.isoformat()}"
        case _Exclusion.AT_CAPACITY:
            return f"at capacity {candidate.load}"


def _merits(candidate: Candidate, request: RoutingRequest) -> str:
    if candidate.office_code == request.office_code:
        office = f"same office {candidate.office_code}"
    else:
        office = f"other office {candidate.office_code}"
    if candidate.last_helped_at is None:
        continuity = "no earlier case of this cooperative in this area"
    else:
        continuity = f"helped this cooperative on {candidate.last_helped_at.date().isoformat()}"
    return f"{office}; {continuity}; load {candidate.load}"


_GROUP_LABELS = {
    _Exclusion.LACKS_SPECIALTY: "lacking the specialty",
    _Exclusion.EXCLUDED: "excluded for this case",
    _Exclusion.ABSENT: "absent",
    _Exclusion.AT_CAPACITY: "at capacity",
}


def _name_with_detail(candidate: Candidate, stage: _Exclusion) -> str:
    if stage is _Exclusion.ABSENT:
        return f"{candidate.username} (until {candidate.absent_until.isoformat()})"
    if stage is _Exclusion.AT_CAPACITY:
        return f"{candidate.username} ({candidate.load})"
    return candidate.username


def _excluded_summary(excluded: list[tuple[Candidate, _Exclusion]], request: RoutingRequest) -> str:
    groups = []
    for stage in _STAGES:
        members = [candidate for candidate, why in excluded if why is stage]
        if not members:
            continue
        if stage is _Exclusion.NOT_IN_AREA:
            # Usually most of the staff; naming them all would drown the useful part.
            groups.append(f"{len(members)} not in area {request.area_code}")
        else:
            # The first few by name (they are sorted by name); a large area would otherwise put
            # hundreds of names in every routed case's timeline.
            names = ", ".join(_name_with_detail(c, stage) for c in members[:NAMED_PER_GROUP])
            if len(members) > NAMED_PER_GROUP:
                names += f" and {len(members) - NAMED_PER_GROUP} more"
            groups.append(f"{len(members)} {_GROUP_LABELS[stage]}: {names}")
    return f"Excluded: {'; '.join(groups)}." if groups else ""


def _sentences(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def _scope(request: RoutingRequest) -> str:
    if request.specialty_id is None:
        return f"area {request.area_code}"
    return f"area {request.area_code}, specialty {request.specialty_id}"


def _all_are(count: int, scope: str, state: str) -> str:
    if count == 1:
        return f"The only suitable consultant of {scope} is {state}."
    return f"All {count} suitable consultants of {scope} are {state}."


def _failure(counts: Counter, request: RoutingRequest) -> tuple[RoutingReason, str]:
    # Counts are a funnel: each candidate sits at the first check it failed.
    if counts[_Exclusion.NOT_IN_AREA] == sum(counts.values()):
        return (
            RoutingReason.NO_CONSULTANT_IN_AREA,
            f"No consultant works in area {request.area_code}.",
        )
    absent, full = counts[_Exclusion.ABSENT], counts[_Exclusion.AT_CAPACITY]
    excluded = counts[_Exclusion.EXCLUDED]
    if absent + full + excluded == 0:
        in_area = counts[_Exclusion.LACKS_SPECIALTY]
        if in_area == 1:
            headline = f"The only consultant of area {request.area_code} lacks"
        else:
            headline = f"None of the {in_area} consultants of area {request.area_code} has"
        return (
            RoutingReason.NO_CONSULTANT_WITH_SPECIALTY,
            f"{headline} specialty {request.specialty_id}.",
        )
    scope = _scope(request)
    if absent + full == 0:
        return RoutingReason.ALL_EXCLUDED, _all_are(excluded, scope, "excluded for this case")
    if full == 0:
        return RoutingReason.ALL_ABSENT, _all_are(absent, scope, "absent")
    if absent == 0:
        return RoutingReason.ALL_AT_CAPACITY, _all_are(full, scope, "at capacity")
    return (
        RoutingReason.NONE_AVAILABLE,
        f"No consultant of {scope} is available: {absent} absent, {full} at capacity.",
    )


def choose_consultant(request: RoutingRequest, candidates: Iterable[Candidate]) -> RoutingDecision:
    """Pick who should take the case, or say why nobody can; the input order never matters.

    Filters: practice area, specialty (when the case has one), not excluded by the caller, not
    absent today, under capacity. Ranking: the cooperative's office first, then whoever most
    recently helped this cooperative in this area, then the lowest load (active/capacity, then
    active cases), then username and id. Raises ValueError if a consultant id appears twice,
    which means the caller's query joined rows it should not have.
    """
    pool = list(candidates)
    ids = Counter(candidate.consultant_id for candidate in pool)
    if duplicated := sorted(i for i, n in ids.items() if n > 1):
        raise ValueError(f"Consultants listed more than once: {duplicated}.")

    available: list[Candidate] = []
    excluded: list[tuple[Candidate, _Exclusion]] = []
    for candidate in pool:
        why = _exclusion(candidate, request)
        if why is None:
            available.append(candidate)
        else:
            excluded.append((candidate, why))

    def rank_key(candidate: Candidate) -> tuple:
        return _rank_key(candidate, request)

    # The first two decide and explain; the full ranking waits for `considered`.
    leaders = heapq.nsmallest(2, available, key=rank_key)
    excluded.sort(
        key=lambda pair: (_STAGES.index(pair[1]), pair[0].username, pair[0].consultant_id)
    )

    counts = Counter(why for _, why in excluded)
    params: dict[str, Any] = {
        "area_code": request.area_code,
        "specialty_id": request.specialty_id,
        "office_code": request.office_code,
        "candidates": len(pool),
        "available": len(available),
        **{stage.value: counts[stage] for stage in _STAGES},
    }

    def considered() -> tuple[tuple[int, str], ...]:
        ranked = sorted(available, key=rank_key)
        return tuple(
            (c.consultant_id, f"rank {rank} of {len(ranked)}: {_merits(c, request)}")
            for rank, c in enumerate(ranked, start=1)
        ) + tuple(
            (c.consultant_id, f"excluded: {_exclusion_detail(c, why, request)}")
            for c, why in excluded
        )

    excluded_summary = _excluded_summary(excluded, request)

    if not available:
        reason, headline = _failure(counts, request)
        return RoutingDecision(
            consultant_id=None,
            reason_code=reason,
            explanation=_sentences(headline, excluded_summary, "Assign manually."),
            _considered=considered,
            reason_params=params,
        )

    winner = leaders[0]
    explanation = f"Routed to {winner.username}: {_merits(winner, request)}."
    params.update(
        username=winner.username,
        same_office=winner.office_code == request.office_code,
        winner_office_code=winner.office_code,
        last_helped_on=winner.last_helped_at.date().isoformat() if winner.last_helped_at else None,
        active_cases=winner.active_cases,
        capacity=winner.capacity,
        runner_up=None,
        decided_by=None,
    )
    if len(leaders) > 1:
        runner_up = leaders[1]
        criterion = _deciding_criterion(rank_key(winner), rank_key(runner_up))
        params.update(runner_up=runner_up.username, decided_by=criterion)
        explanation += f" Ahead of {runner_up.username} on {criterion}."
    else:
        explanation += " The only available consultant."
    return RoutingDecision(
        consultant_id=winner.consultant_id,
        reason_code=RoutingReason.ROUTED,
        explanation=_sentences(explanation, excluded_summary),
        _considered=considered,
        reason_params=params,
    )


def reason_text(decision: RoutingDecision, people: dict[str, str] | None = None) -> str:
    """The decision in the active language, for people: the supervisor's task, the history page.

    `people` maps usernames to the names people know each other by; a username it lacks is
    shown as it is."""
    people = people or {}
    # Imported here so that the module stays importable, and testable, without Django settings.
    from django.utils.formats import date_format
    from django.utils.translation import gettext, ngettext

    p = decision.reason_params
    area = {"area": p.get("area_code", "")}
    match decision.reason_code:
        case RoutingReason.ROUTED:
            name = people.get(p["username"], p["username"])
            parts = [gettext("Assigned to %(username)s.") % {"username": name}]
            office = {"office": p["winner_office_code"]}
            if p["same_office"]:
                parts.append(gettext("Same office as the cooperative (%(office)s).") % office)
            else:
                parts.append(gettext("Office %(office)s, not the cooperative's.") % office)
            if p["last_helped_on"]:
                day = date_format(date.fromisoformat(p["last_helped_on"]), "SHORT_DATE_FORMAT")
                parts.append(gettext("Helped this cooperative on %(day)s.") % {"day": day})
            parts.append(
                gettext("Load %(active)d of %(capacity)d cases.")
                % {"active": p["active_cases"], "capacity": p["capacity"]}
            )
            deciding = {
                "office": gettext("Chosen over %(other)s for the office."),
                "continuity": gettext("Chosen over %(other)s for continuity with the cooperative."),
                "load": gettext("Chosen over %(other)s for a lighter load."),
                "name": gettext("Chosen over %(other)s in alphabetical order."),
            }
            if p.get("decided_by") in deciding:
                other = people.get(p["runner_up"], p["runner_up"])
                parts.append(deciding[p["decided_by"]] % {"other": other})
            return " ".join(parts)
        case RoutingReason.NO_CONSULTANT_IN_AREA:
            text = gettext("No consultant works in practice area %(area)s.") % area
        case RoutingReason.NO_CONSULTANT_WITH_SPECIALTY:
            n = p["lacks_specialty"]
            text = ngettext(
                "The consultant of practice area %(area)s lacks the case's specialty.",
                "None of the %(count)d consultants of practice area %(area)s has the case's "
                "specialty.",
                n,
            ) % {"count": n, **area}
        case RoutingReason.ALL_EXCLUDED:
            n = p["excluded"]
            text = ngettext(
                "The only suitable consultant is excluded for this case.",
                "All %(count)d suitable consultants are excluded for this case.",
                n,
            ) % {"count": n}
        case RoutingReason.ALL_ABSENT:
            n = p["absent"]
            text = ngettext(
                "The only suitable consultant is absent.",
                "All %(count)d suitable consultants are absent.",
                n,
            ) % {"count": n}
        case RoutingReason.ALL_AT_CAPACITY:
            n = p["at_capacity"]
            text = ngettext(
                "The only suitable consultant is at capacity.",
                "All %(count)d suitable consultants are at capacity.",
                n,
            ) % {"count": n}
        case RoutingReason.NONE_AVAILABLE:
            absent = ngettext("%(count)d absent", "%(count)d absent", p["absent"]) % {
                "count": p["absent"]
            }
            full = ngettext("%(count)d at capacity", "%(count)d at capacity", p["at_capacity"]) % {
                "count": p["at_capacity"]
            }
            text = gettext("No suitable consultant is available: %(absent)s, %(full)s.") % {
                "absent": absent,
                "full": full,
            }
        case _:
            text = gettext("No consultant could be chosen automatically.")
    manually = gettext("Assign the case manually.")
    return f"{text} {manually}"


def reason_text_from_event(after: dict, people: dict[str, str] | None = None) -> str | None:
    """The routing decision recorded on a case event, in the active language (None if absent)."""
    if not after or "reason_params" not in after or "reason" not in after:
        return None
    decision = RoutingDecision(
        consultant_id=after.get("consultant_id"),
        reason_code=after["reason"],
        explanation="",
        reason_params=after["reason_params"],
    )
    try:
        return reason_text(decision, people)
    except (KeyError, TypeError, ValueError):
        # An event written by an older version may miss a parameter: show its stored note.
        return None
