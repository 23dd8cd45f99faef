"""Fixtures for the security tests: a working case process, uploads in a temporary folder."""

import pytest
from django.core.cache import cache

from casework.models import BusinessCalendar, OpeningHours, SlaPolicy
from tests import factories
from workflows import process

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def fresh_throttles():
    """DRF's sign-in throttle counts in the cache: each test starts and ends with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    """Uploaded documents go to a folder of this test only."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return settings.MEDIA_ROOT


@pytest.fixture
def process_setup(office, area):
    calendar = BusinessCalendar.objects.create(office=office)
    for weekday in range(5):
        for opens, closes in (("09:00", "13:00"), ("14:00", "18:00")):
            OpeningHours.objects.create(
                calendar=calendar, weekday=weekday, opens_at=opens, closes_at=closes
            )
    targets = {"low": (480, 9600), "normal": (240, 4800), "high": (120, 1920), "urgent": (60, 960)}
    for priority, (first_response, resolution) in targets.items():
        SlaPolicy.objects.create(
            area=area,
            priority=priority,
            first_response_minutes=first_response,
            resolution_minutes=resolution,
        )
    area.default_priority = "normal"
    area.save()
    return area


@pytest.fixture
def outcome(area):
    return factories.OutcomeFactory(area=area, code="opinion_issued", label="Parere rilasciato")


@pytest.fixture
def open_case(process_setup, member, cooperative, consultant):
    """Open a case the way a member does; it is routed to the consultant."""

    def open_one(*, subject="Statuto", description="Modifica dello statuto", **kwargs):
        return process.open_case(
            requester=kwargs.pop("requester", member),
            cooperative=kwargs.pop("cooperative", cooperative),
            area=process_setup,
            subject=subject,
            description=description,
            **kwargs,
        )

    return open_one


@pytest.fixture
def assigned_case(open_case):
    case = open_case()
    assert case.status == "assigned"
    return case
