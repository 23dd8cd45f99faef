"""Fixtures shared by the whole suite: factories exposed as fixtures and the demo roles."""

import pytest

from casework.models import BusinessCalendar, OpeningHours, SlaPolicy
from tests import factories


@pytest.fixture
def office():
    return factories.OfficeFactory(code="BO", name="Bologna")


@pytest.fixture
def area():
    return factories.AreaFactory(code="legal", name="Legale", reference_prefix="LEG")


@pytest.fixture
def cooperative(office):
    return factories.CooperativeFactory(name="Cooperativa Alfa", office=office)


@pytest.fixture
def other_cooperative():
    return factories.CooperativeFactory(
        name="Cooperativa Beta", office=factories.OfficeFactory(code="MO", name="Modena")
    )


@pytest.fixture
def member(cooperative):
    return factories.MembershipFactory(cooperative=cooperative, user__username="socio").user


@pytest.fixture
def other_member(other_cooperative):
    return factories.MembershipFactory(
        cooperative=other_cooperative, user__username="socio.altro"
    ).user


@pytest.fixture
def consultant(area, office):
    return factories.ConsultantFactory(
        user__username="consulente", office=office, areas=[area]
    ).user


@pytest.fixture
def supervisor():
    return factories.SupervisorFactory(user__username="supervisore", all_areas=True).user


@pytest.fixture
def admin_user():
    return factories.UserFactory(username="amministratore", is_staff=True, is_superuser=True)


# The process needs a calendar, SLA policies and an outcome; `process_setup` is all of them.
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
