"""Fixtures for walking the case process: an area with policies, outcomes and consultants."""

import pytest

from casework.models import BusinessCalendar, OpeningHours, SlaPolicy
from tests import factories


@pytest.fixture
def calendar(office):
    calendar = BusinessCalendar.objects.create(office=office)
    for weekday in range(5):
        OpeningHours.objects.create(
            calendar=calendar, weekday=weekday, opens_at="09:00", closes_at="13:00"
        )
        OpeningHours.objects.create(
            calendar=calendar, weekday=weekday, opens_at="14:00", closes_at="18:00"
        )
    return calendar


@pytest.fixture
def policies(area):
    targets = {"low": (480, 9600), "normal": (240, 4800), "high": (120, 1920), "urgent": (60, 960)}
    return {
        priority: SlaPolicy.objects.create(
            area=area, priority=priority, first_response_minutes=fr, resolution_minutes=res
        )
        for priority, (fr, res) in targets.items()
    }


@pytest.fixture
def outcome(area):
    return factories.OutcomeFactory(area=area, code="opinion_issued", label="Parere rilasciato")


@pytest.fixture
def process_setup(calendar, policies, outcome, area):
    area.default_priority = "normal"
    area.save()
    return area
