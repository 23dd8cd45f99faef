"""Fixtures of the people-and-accounts tests: a cooperative's people in each role, and a cache
with no throttle counters left by another test."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from casework.models import Membership
from tests import factories


@pytest.fixture(autouse=True)
def accounts_fresh_cache():
    """Throttle counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alfa_rep(cooperative):
    """A legal representative of Cooperativa Alfa (as `socio.alfa` in the demo)."""
    return factories.MembershipFactory(
        cooperative=cooperative,
        user__username="rep.alfa",
        role=Membership.Role.LEGAL_REPRESENTATIVE,
    ).user


@pytest.fixture
def alfa_ref(cooperative):
    """A referent of Cooperativa Alfa."""
    return factories.MembershipFactory(
        cooperative=cooperative, user__username="ref.alfa", role=Membership.Role.REFERENT
    ).user


@pytest.fixture
def alfa_member(cooperative):
    """An ordinary member of Cooperativa Alfa (as `socio.alfa2` in the demo)."""
    return factories.MembershipFactory(
        cooperative=cooperative, user__username="socio.semplice", role=Membership.Role.MEMBER
    ).user
