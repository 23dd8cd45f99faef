"""The catalogue in the admin: bad rules refused beside their field with nothing saved."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from casework.models import RecurringObligation
from casework.services import obligations

pytestmark = pytest.mark.django_db

Rule = RecurringObligation.Rule
Anchor = RecurringObligation.Anchor
ADD = reverse("admin:casework_recurringobligation_add")


def refusals(**fields) -> dict[str, list[str]]:
    values = {
        "name": "Versamento F24",
        "rule": Rule.EVERY,
        "anchor": Anchor.FIXED,
        "start_date": date(2026, 1, 16),
        "interval_months": 1,
        "deadline_kind": "tax",
        **fields,
    }
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        obligations.obligation_check(RecurringObligation(**values))
    return refused.value.message_dict


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"interval_months": None}, "interval_months", "every how many months"),
        ({"interval_months": 0}, "interval_months", "without end"),
        ({"interval_months": 121}, "interval_months", "At most every 120 months"),
        ({"start_date": None}, "start_date", "Give the date the obligation is first due"),
        ({"start_date": date(1899, 12, 31)}, "start_date", "between 1900 and 2999"),
        ({"start_date": date(9999, 1, 16)}, "start_date", "between 1900 and 2999"),
        ({"within_days": 30}, "within_days", "leave it empty"),
        ({"anchor": Anchor.LAST_AUDIT_ON}, "start_date", "Leave it empty"),
        ({"cooperative_kinds": ["social", "banks"]}, "cooperative_kinds", "Unknown"),
        ({"cooperative_kinds": "social"}, "cooperative_kinds", "Give a list"),
        ({"deadline_kind": "weekly"}, "deadline_kind", "Unknown deadline kind"),
        (
            {"rule": Rule.WITHIN, "interval_months": None, "within_days": 30},
            "anchor",
            "counts from an event of each cooperative",
        ),
        (
            {
                "rule": Rule.WITHIN,
                "anchor": Anchor.STATEMENTS_APPROVED_ON,
                "start_date": None,
                "interval_months": None,
            },
            "within_days",
            "within how many days",
        ),
        (
            {
                "rule": Rule.WITHIN,
                "anchor": Anchor.STATEMENTS_APPROVED_ON,
                "start_date": None,
                "within_days": 30,
            },
            "interval_months",
            "leave it empty",
        ),
    ],
    ids=[
        "every-without-interval",
        "every-0-months",
        "every-121-months",
        "fixed-without-start",
        "start-before-1900",
        "start-in-9999",
        "every-with-within-days",
        "start-date-with-a-cooperative-date",
        "unknown-kind-of-cooperative",
        "kinds-not-a-list",
        "unknown-deadline-kind",
        "within-a-fixed-date",
        "within-without-days",
        "within-with-interval",
    ],
)
def test_a_wrong_rule_is_refused_on_its_field(fields, field, says):
    refused = refusals(**fields)

    assert field in refused, refused
    assert any(says in message for message in refused[field]), refused


def test_no_rule_of_whole_months_generates_more_than_the_limit():
    # A month is the shortest interval: thirteen deadlines in a window of twelve months and a day.
    monthly = RecurringObligation(rule=Rule.EVERY, interval_months=1)
    assert obligations.max_per_window(monthly) == 13 <= obligations.MAX_PER_WINDOW
    assert obligations.max_per_window(RecurringObligation(rule=Rule.WITHIN, within_days=1)) == 1


@pytest.fixture
def admin_client(admin_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


def _form(area, **fields):
    values = {
        "name": "Revisione annuale",
        "area": area.pk,
        "rule": "every",
        "anchor": "last_audit_on",
        "start_date": "",
        "interval_months": "12",
        "within_days": "",
        "deadline_kind": "fixed",
        "cooperative_kinds": ["social"],
        "open_case_days_before": "60",
        "shared": "on",
        "is_active": "on",
        "position": "0",
        **fields,
    }
    return {key: value for key, value in values.items() if value is not None}


def test_the_admin_saves_a_good_rule_with_its_kinds(admin_client, area):
    response = admin_client.post(ADD, _form(area))

    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = RecurringObligation.objects.get()
    assert saved.cooperative_kinds == ["social"]
    assert (saved.rule, saved.anchor, saved.interval_months) == ("every", "last_audit_on", 12)


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"anchor": "fixed"}, "start_date", "Give the date the obligation is first due"),
        ({"interval_months": "0"}, "interval_months", "without end"),
        ({"interval_months": ""}, "interval_months", "every how many months"),
        ({"rule": "within", "interval_months": "", "within_days": ""}, "within_days", "how many"),
        ({"cooperative_kinds": ["banks"]}, "cooperative_kinds", "not one of the available"),
        ({"start_date": "2026-01-16"}, "start_date", "Leave it empty"),
    ],
    ids=[
        "fixed-without-start",
        "zero-months",
        "no-interval",
        "within-no-days",
        "bad-kind",
        "stray",
    ],
)
def test_the_admin_refuses_a_bad_rule_beside_its_field(admin_client, area, fields, field, says):
    response = admin_client.post(ADD, _form(area, **fields))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert says in " ".join(errors[field]), errors
    assert not RecurringObligation.objects.exists()


def test_the_admin_lists_the_catalogue(admin_client, biennial_audit):
    response = admin_client.get(reverse("admin:casework_recurringobligation_changelist"))

    assert response.status_code == 200
    assert "Revisione cooperativa" in response.text
    change = admin_client.get(
        reverse("admin:casework_recurringobligation_change", args=[biennial_audit.pk])
    )
    assert change.status_code == 200
