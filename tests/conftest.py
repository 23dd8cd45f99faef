"""Fixtures shared by the whole suite: factories exposed as fixtures, the roles, the process.

Each fixture is defined once in the whole suite (tests/test_fixtures_defined_once.py checks it):
a directory that needs something else gives it a name of its own instead of redefining one.
"""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from casework.models import BusinessCalendar, Membership, OpeningHours, SlaPolicy
from tests import factories
from tests.mailservers import dovecot, imap_folder  # noqa: F401 - the IMAP server's fixtures
from workflows import process


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the site's default language: a request in English leaves English
    active in the thread (LocaleMiddleware never deactivates), and translated names written by
    the next test's fixtures would then land in the English column only."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Throttle counters live in the cache: each test starts and ends with none."""
    cache.clear()
    yield
    cache.clear()


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


# A cooperative's people in each role (DESIGN.md, "People and accounts"): `member` above is a
# legal representative, as `socio.alfa` of the demo; these are the other roles beside it.
@pytest.fixture
def legal_rep(cooperative):
    """Another legal representative of Cooperativa Alfa: sees every case of it."""
    return factories.MembershipFactory(
        cooperative=cooperative,
        user__username="rep.alfa",
        role=Membership.Role.LEGAL_REPRESENTATIVE,
    ).user


@pytest.fixture
def referent(cooperative):
    """A referent of Cooperativa Alfa: sees every case of it that is not confidential."""
    return factories.MembershipFactory(
        cooperative=cooperative, user__username="ref.alfa", role=Membership.Role.REFERENT
    ).user


@pytest.fixture
def plain_member(cooperative):
    """An ordinary member of Cooperativa Alfa (as `socio.alfa2` in the demo): sees the cases
    they opened and those they follow."""
    return factories.MembershipFactory(
        cooperative=cooperative, user__username="socio.semplice", role=Membership.Role.MEMBER
    ).user


@pytest.fixture
def other_member(other_cooperative):
    return factories.MembershipFactory(
        cooperative=other_cooperative, user__username="socio.altro"
    ).user


@pytest.fixture
def other_area():
    """The fiscal area, ready for cases like `area` once `process_setup` ran."""
    return factories.AreaFactory(
        code="fiscal", name="Fiscale", reference_prefix="FIS", default_priority="normal"
    )


@pytest.fixture
def consultant(area, office):
    # Room for every case a test opens, so routing always finds them.
    return factories.ConsultantFactory(
        user__username="consulente", office=office, areas=[area], capacity=200
    ).user


@pytest.fixture
def supervisor():
    return factories.SupervisorFactory(user__username="supervisore", all_areas=True).user


@pytest.fixture
def area_supervisor(area):
    """A supervisor of the legal area only."""
    return factories.SupervisorFactory(
        user__username="supervisore.legale", all_areas=False, areas=[area]
    ).user


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
    area.usual_documents = "Statuto vigente e ultimo verbale di assemblea"
    area.save()
    return area


@pytest.fixture
def open_case(process_setup, member, cooperative):
    """Open a case through the process: `open_case()` as the member of Cooperativa Alfa, or
    `open_case(requester, cooperative, subject=..., ...)`. Routing gives it to a consultant of
    the area when one exists: a test that wants it assigned asks for `consultant` too."""
    home = cooperative

    def make(requester=None, cooperative=None, **fields):
        return process.case_open(
            requester=requester or member,
            cooperative=cooperative or home,
            area=fields.pop("area", process_setup),
            subject=fields.pop("subject", "Modifica dello statuto"),
            description=fields.pop("description", "Dobbiamo cambiare l'oggetto sociale."),
            **fields,
        )

    return make


@pytest.fixture
def assigned_case(open_case, consultant):
    case = open_case()
    assert case.status == "assigned" and case.assignee == consultant
    return case


@pytest.fixture
def triage_case(open_case, process_setup):
    """A case waiting for a supervisor's triage (its area has no default priority meanwhile)."""
    process_setup.default_priority = ""
    process_setup.save()
    case = open_case(subject="Richiesta da valutare")
    process_setup.default_priority = "normal"
    process_setup.save()
    assert case.status == "triage"
    return case
