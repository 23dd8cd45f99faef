"""Fixtures of the recurring obligations tests: a catalogue like the demo's, a legal rep."""

from datetime import date

import pytest

from casework.models import Cooperative, RecurringObligation, UserProfile

Rule = RecurringObligation.Rule
Anchor = RecurringObligation.Anchor


@pytest.fixture
def new_obligation(area):
    """`new_obligation(**fields)`: a saved obligation of the legal area (monthly from 16 January
    2026, a tax deadline, a case 10 days before, unless told otherwise)."""

    def make(**fields):
        values = {
            "name": "Versamento F24",
            "area": area,
            "rule": Rule.EVERY,
            "anchor": Anchor.FIXED,
            "start_date": date(2026, 1, 16),
            "interval_months": 1,
            "deadline_kind": "tax",
            "open_case_days_before": 10,
            **fields,
        }
        return RecurringObligation.objects.create(**values)

    return make


@pytest.fixture
def monthly_tax(new_obligation):
    return new_obligation()


@pytest.fixture
def biennial_audit(new_obligation):
    return new_obligation(
        name="Revisione cooperativa",
        anchor=Anchor.LAST_AUDIT_ON,
        start_date=None,
        interval_months=24,
        deadline_kind="fixed",
        cooperative_kinds=[k for k in Cooperative.Kind.values if k != "social"],
        open_case_days_before=60,
    )


@pytest.fixture
def annual_social_audit(new_obligation):
    return new_obligation(
        name="Revisione annuale",
        anchor=Anchor.LAST_AUDIT_ON,
        start_date=None,
        interval_months=12,
        deadline_kind="fixed",
        cooperative_kinds=["social"],
        open_case_days_before=60,
    )


@pytest.fixture
def statements_filing(new_obligation):
    return new_obligation(
        name="Deposito del bilancio",
        rule=Rule.WITHIN,
        anchor=Anchor.STATEMENTS_APPROVED_ON,
        start_date=None,
        interval_months=None,
        within_days=30,
        deadline_kind="tax",
        open_case_days_before=20,
    )


@pytest.fixture
def english_legal_rep(legal_rep):
    """Cooperativa Alfa's legal representative, who reads English."""
    UserProfile.objects.create(user=legal_rep, language="en")
    return legal_rep
