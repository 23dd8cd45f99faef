"""Model constraints and validation: bad registry data is refused with a clear message."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from casework.models import Consultant, Membership, SlaPolicy
from casework.validators import validate_tax_code
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["00488410010", "IT00488410010", " 0048841001 0 "])
def test_valid_partita_iva_is_accepted(value):
    validate_tax_code(value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("00488410011", "check digit"),
        ("1234", "11 digits"),
        ("ABCDEFGHIJK", "11 digits"),
        ("", "11"),
    ],
)
def test_invalid_tax_code_is_refused_with_reason(value, fragment):
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            validate_tax_code(value)
        assert fragment in " ".join(refused.value.messages)


def test_cooperative_full_clean_refuses_bad_tax_code(office):
    cooperative = factories.CooperativeFactory.build(
        tax_code="12345678901", office=office, sector=factories.SectorFactory()
    )
    with pytest.raises(ValidationError) as refused:
        cooperative.full_clean()
    assert "tax_code" in refused.value.message_dict


def test_second_membership_in_same_cooperative_is_refused(member, cooperative):
    duplicate = Membership(user=member, cooperative=cooperative)
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            duplicate.full_clean()
        assert "already a member" in str(refused.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=member, cooperative=cooperative)


@pytest.mark.parametrize("percent", [0, 101, 150])
def test_policy_warning_threshold_outside_1_100_is_refused(area, percent):
    policy = SlaPolicy(
        area=area,
        priority="high",
        first_response_minutes=60,
        resolution_minutes=600,
        warning_percent=percent,
    )
    with pytest.raises(ValidationError) as refused:
        policy.full_clean()
    assert "warning_percent" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaPolicy.objects.create(
            area=area,
            priority="high",
            first_response_minutes=60,
            resolution_minutes=600,
            warning_percent=percent,
        )


def test_consultant_capacity_must_be_positive(office):
    user = factories.UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Consultant.objects.create(user=user, office=office, capacity=0)


def test_cooperative_tax_code_is_normalised_before_validation(office):
    cooperative = factories.CooperativeFactory.build(
        tax_code="IT 00488410010", office=office, sector=factories.SectorFactory()
    )
    cooperative.full_clean()
    assert cooperative.tax_code == "00488410010"


def test_triage_rule_specialty_must_belong_to_its_area(area):
    from casework.models import TriageRule

    elsewhere = factories.SpecialtyFactory(area=factories.AreaFactory(code="fiscal"))
    rule = TriageRule(area=area, specialty=elsewhere, priority="high")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert "specialty" in refused.value.message_dict


def test_tax_code_error_reads_in_italian():
    with translation.override("it"):
        with pytest.raises(ValidationError) as refused:
            validate_tax_code("1234")
        assert "11 cifre" in refused.value.messages[0]
