"""The demo catalogue of recurring obligations (seed_demo): audits, statements, monthly taxes."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from .demo import Tally, _get_or_create, _label, _say
from .models import Cooperative, DeadlineKind, PracticeArea, RecurringObligation
from .services import obligations

Rule = RecurringObligation.Rule
Anchor = RecurringObligation.Anchor
Kind = Cooperative.Kind

# Every kind but social cooperatives, which are audited every year (d.lgs. 220/2002, art. 7).
_NOT_SOCIAL = [kind for kind in Kind.values if kind != Kind.SOCIAL]

# name (the natural key), area code, and the rule's fields.
CATALOGUE = [
    (
        "Revisione cooperativa (biennale)",
        "legal",
        {
            "rule": Rule.EVERY,
            "anchor": Anchor.LAST_AUDIT_ON,
            "interval_months": 24,
            "deadline_kind": DeadlineKind.FIXED,
            "cooperative_kinds": _NOT_SOCIAL,
            "open_case_days_before": 60,
            "position": 10,
        },
    ),
    (
        "Revisione annuale delle cooperative sociali",
        "legal",
        {
            "rule": Rule.EVERY,
            "anchor": Anchor.LAST_AUDIT_ON,
            "interval_months": 12,
            "deadline_kind": DeadlineKind.FIXED,
            "cooperative_kinds": [Kind.SOCIAL],
            "open_case_days_before": 60,
            "position": 20,
        },
    ),
    (
        "Deposito del bilancio approvato",
        "fiscal",
        {
            "rule": Rule.WITHIN,
            "anchor": Anchor.STATEMENTS_APPROVED_ON,
            "within_days": 30,
            "deadline_kind": DeadlineKind.TAX,
            "open_case_days_before": 20,
            "position": 30,
        },
    ),
    (
        "Versamento F24",
        "fiscal",
        {
            "rule": Rule.EVERY,
            "anchor": Anchor.FIXED,
            "start_date": date(2026, 1, 16),
            "interval_months": 1,
            "deadline_kind": DeadlineKind.TAX,
            "open_case_days_before": 10,
            "position": 40,
        },
    ),
]


def seed_obligations(*, stdout=None) -> dict[str, dict[str, int]]:
    """Create the demo catalogue's missing obligations; never alter those already there."""
    tally = Tally()
    areas = {area.code: area for area in PracticeArea.objects.all()}
    with transaction.atomic():
        for name, area_code, rule in CATALOGUE:
            defaults = {"area": areas[area_code], "shared": True, "is_active": True, **rule}
            # Checked as the admin checks it: the demo's catalogue is one an administrator
            # could have written.
            obligations.obligation_check(RecurringObligation(name=name, **defaults))
            _get_or_create(tally, RecurringObligation, name=name, defaults=defaults)
    _say(stdout, _("Recurring obligations"), tally.line([_label(RecurringObligation)]))
    return tally.as_dict()


def generate(*, stdout=None) -> dict[str, dict[str, int]]:
    """Run the generator once, so the Deadlines page has data; its counts as seed_demo's."""
    summary = obligations.obligations_generate().as_dict()
    _say(
        stdout,
        _("Deadlines of the recurring obligations"),
        _("%(created)d new, %(existing)d already there; %(opened)d cases opened")
        % {
            "created": summary["deadlines_created"],
            "existing": summary["deadlines_existing"],
            "opened": summary["cases_opened"],
        },
    )
    return {
        "casework.deadline": {
            "created": summary["deadlines_created"],
            "found": summary["deadlines_existing"],
            "updated": 0,
        }
    }
