"""Links to the staff case list (`/work/cases/`) filtered to the cases a figure counts.

The dashboard's tiles and the cooperative page's figures link here, so that following a count
lists exactly the cases it counted: each builder below spells one figure's definition (the
same named status sets and stored SLA state as `casework.reports`) in the list's GET filters
(`status` repeatable, `sla`, `area` and `office` by code, `assignee` by username, `cooperative`
by id).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse
from django.utils.http import urlencode

from .models import CaseStatus

S = CaseStatus
# The statuses that `reports` groups under each queue figure, as the list's `status` filter.
OPEN = tuple(S.OPEN)
ACTIVE = tuple(S.ACTIVE)  # what a consultant's load counts
NOT_YET_HELD = (S.TRIAGE, S.UNASSIGNED)  # "not yet assigned" per area
del S


def case_list_url(**filters: str | int | Iterable[str] | None) -> str:
    """`/work/cases/?…` with the given filters; a list or tuple repeats its parameter, None or
    an empty value leaves it out. Never the bare URL: that opens the reader's default view."""
    query = []
    for name, value in filters.items():
        if value is None or value == "":
            continue
        if isinstance(value, list | tuple | set | frozenset):
            query.extend((name, str(item)) for item in value)
        else:
            query.append((name, str(value)))
    url = reverse("work:cases")
    return f"{url}?{urlencode(query) if query else 'all=1'}"


def open_cases_url(*, sla: str | None = None, **filters) -> str:
    """The open cases (every status of `CaseStatus.OPEN`), in one SLA state if given."""
    return case_list_url(status=OPEN, sla=sla, **filters)


def status_url(*statuses: str, **filters) -> str:
    """The cases in exactly these statuses."""
    return case_list_url(status=statuses, **filters)


def load_url(username: str, *, sla: str | None = None, **filters) -> str:
    """A consultant's active cases (assigned or waiting), in one SLA state if given."""
    return case_list_url(assignee=username, status=ACTIVE, sla=sla, **filters)
