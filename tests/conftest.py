"""Fixtures shared by the whole suite: factories exposed as fixtures and the demo roles."""

import pytest

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
