"""Who a user is, read in one query: every role, and only the ones that hold today."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.models import Cooperative
from casework.roles import roles_of
from tests import factories

pytestmark = pytest.mark.django_db


def fresh(user):
    user.refresh_from_db()  # drops the roles kept on the object
    return roles_of(user)


def test_every_role_of_a_user_comes_in_one_query():
    legal, fiscal, hr = (factories.AreaFactory(code=c) for c in ("legal", "fiscal", "hr"))
    office = factories.OfficeFactory(code="BO")
    consultant = factories.ConsultantFactory(office=office, areas=[legal, fiscal])
    user = consultant.user
    factories.SupervisorFactory(user=user, all_areas=False, areas=[hr])
    active = factories.MembershipFactory(user=user).cooperative
    ceased = factories.MembershipFactory(user=user).cooperative
    Cooperative.objects.filter(pk=ceased.pk).update(membership_status="ceased")

    user.refresh_from_db()
    with CaptureQueriesContext(connection) as captured:
        roles = roles_of(user)
        roles_of(user)  # kept on the user object for the rest of the request

    assert len(captured) == 1
    assert roles.names == ["supervisor", "consultant", "member"]
    assert roles.consultant_area_ids == {legal.pk, fiscal.pk}
    assert roles.consultant_office_code == "BO"
    assert roles.supervised_area_ids == {hr.pk}
    assert not roles.supervises_all
    assert roles.cooperative_ids == {active.pk}


def test_a_supervisor_of_all_areas_supervises_each_of_them():
    areas = [factories.AreaFactory(code=c) for c in ("legal", "fiscal")]
    user = factories.SupervisorFactory(all_areas=True).user

    roles = fresh(user)

    assert roles.supervises_all
    assert roles.supervised_area_ids == {a.pk for a in areas}
    assert not roles.is_consultant and not roles.is_member


def test_an_inactive_consultant_or_user_has_no_staff_role():
    consultant = factories.ConsultantFactory(areas=[factories.AreaFactory()], is_active=False)
    assert not fresh(consultant.user).is_consultant
    assert fresh(consultant.user).consultant_area_ids == frozenset()

    supervisor = factories.SupervisorFactory(all_areas=True).user
    supervisor.is_active = False
    supervisor.save()
    assert roles_of(supervisor).names == []
