"""A merger of cooperatives (fusione per incorporazione): what moves, the events, the refusals,
the admin's page, the command, the search afterwards and the words in both languages.

Cooperativa Beta (Modena) is absorbed by Cooperativa Alfa (Bologna) unless a test says otherwise.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from casework.errors import CaseError, ConflictError, ForbiddenError
from casework.models import (
    Case,
    CaseEvent,
    Cooperative,
    Deadline,
    InboundEmail,
    Invitation,
    Mailbox,
    Membership,
    RecurringObligation,
    ServicePlan,
    ServicePlanArea,
)
from casework.search import search_cases
from casework.selectors import cases_visible_to
from casework.services.cooperatives import COMMAND_LINE, merge_cooperatives
from tests import factories
from tests.portal.conftest import make_case

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
AT = datetime(2026, 6, 30, 12, tzinfo=ROME)
Role = Membership.Role
MERGED = CaseEvent.Kind.COOPERATIVE_MERGED
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search is PostgreSQL's"
)


def merge(absorbed, into, actor=COMMAND_LINE, **options):
    return merge_cooperatives(absorbed=absorbed, into=into, actor=actor, at=AT, **options)


def person_in(cooperative, role=Role.MEMBER, *, active=True, **person):
    """A membership of the cooperative: of `user=`, or of a new person (`user__username=`...)."""
    return factories.MembershipFactory(
        cooperative=cooperative, role=role, is_active=active, **person
    )


# --- Cases and their events --------------------------------------------------------------------


def test_the_cases_move_each_with_an_event(cooperative, other_cooperative, area, supervisor):
    beta_cases = [make_case(cooperative=other_cooperative, area=area) for _ in range(2)]
    alfa_case = make_case(cooperative=cooperative, area=area)

    summary = merge(other_cooperative, cooperative, actor=supervisor, note="Atto del 30/06/2026")

    assert summary.cases == summary.events == 2
    assert set(Case.objects.filter(cooperative=cooperative)) == {*beta_cases, alfa_case}
    for case in beta_cases:
        (event,) = CaseEvent.objects.filter(case=case, kind=MERGED)
        assert event.actor == supervisor and event.note == "Atto del 30/06/2026"
        assert event.created_at == AT
        assert event.before == {
            "cooperative": other_cooperative.pk,
            "cooperative_name": "Cooperativa Beta",
        }
        assert event.after == {
            "cooperative": cooperative.pk,
            "cooperative_name": "Cooperativa Alfa",
        }
    assert not CaseEvent.objects.filter(case=alfa_case, kind=MERGED).exists()
    other_cooperative.refresh_from_db()
    assert other_cooperative.membership_status == Cooperative.MembershipStatus.CEASED
    assert other_cooperative.merged_into == cooperative and other_cooperative.merged_at == AT


def test_the_command_line_merger_names_nobody(cooperative, other_cooperative, area):
    case = make_case(cooperative=other_cooperative, area=area)

    merge(other_cooperative, cooperative)

    assert CaseEvent.objects.get(case=case, kind=MERGED).actor is None


def _queries_of_a_merger(n, area) -> tuple[int, list[str]]:
    absorbed = factories.CooperativeFactory()
    into = factories.CooperativeFactory(office=absorbed.office)
    for _ in range(n):
        make_case(cooperative=absorbed, area=area)
    with CaptureQueriesContext(connection) as queries:
        merge(absorbed, into)
    return len(queries), [q["sql"] for q in queries.captured_queries]


def test_the_queries_do_not_grow_with_the_cases(area):
    few, _sql = _queries_of_a_merger(3, area)
    many, sql = _queries_of_a_merger(12, area)

    assert many == few
    inserts = [q for q in sql if q.startswith('INSERT INTO "casework_caseevent"')]
    assert len(inserts) == 1
    case_updates = [q for q in sql if q.startswith('UPDATE "casework_case" ')]
    assert len(case_updates) == 1


def test_running_cases_moved_to_another_office_get_new_due_times(
    cooperative, other_cooperative, area, policies
):
    running = make_case(
        cooperative=other_cooperative,
        area=area,
        status="assigned",
        assignee=factories.UserFactory(),
    )
    same_office = factories.CooperativeFactory(office=cooperative.office)
    staying = make_case(
        cooperative=same_office, area=area, status="assigned", assignee=factories.UserFactory()
    )

    summary = merge(other_cooperative, cooperative)
    merge(same_office, cooperative)

    assert summary.sla_recomputed == 1
    assert CaseEvent.objects.filter(case=running, kind=CaseEvent.Kind.SLA_RECOMPUTED).exists()
    assert not CaseEvent.objects.filter(case=staying, kind=CaseEvent.Kind.SLA_RECOMPUTED).exists()


# --- Deadlines ---------------------------------------------------------------------------------


@pytest.fixture
def monthly_payments(area):
    return RecurringObligation.objects.create(
        name="Versamenti mensili", area=area, start_date=date(2026, 1, 16), interval_months=1
    )


def _deadline(cooperative, area, *, obligation=None, occurrence=None, **fields):
    day = occurrence or date(2026, 9, 14)
    return Deadline.objects.create(
        cooperative=cooperative,
        area=area,
        title=fields.pop("title", "Scadenza"),
        kind="fixed",
        trigger_date=day,
        due_on=day,
        obligation=obligation,
        occurrence=occurrence,
        **fields,
    )


def test_deadlines_move_and_a_duplicate_occurrence_stays_done(
    cooperative, other_cooperative, area, monthly_payments, supervisor
):
    july, august = date(2026, 7, 16), date(2026, 8, 16)
    own = _deadline(other_cooperative, area, title="Ricorso")
    only_theirs = _deadline(other_cooperative, area, obligation=monthly_payments, occurrence=july)
    _deadline(cooperative, area, obligation=monthly_payments, occurrence=august)
    duplicate = _deadline(other_cooperative, area, obligation=monthly_payments, occurrence=august)
    done_earlier = datetime(2026, 6, 1, 9, tzinfo=ROME)
    _deadline(cooperative, area, obligation=monthly_payments, occurrence=date(2026, 6, 16))
    old_duplicate = _deadline(
        other_cooperative,
        area,
        obligation=monthly_payments,
        occurrence=date(2026, 6, 16),
        status=Deadline.Status.DONE,
        done_at=done_earlier,
    )

    summary = merge(other_cooperative, cooperative, actor=supervisor)

    assert (summary.deadlines_moved, summary.deadlines_duplicate) == (2, 2)
    for moved in (own, only_theirs):
        moved.refresh_from_db()
        assert moved.cooperative == cooperative
    duplicate.refresh_from_db()
    assert duplicate.cooperative == other_cooperative
    assert duplicate.status == Deadline.Status.DONE
    assert (duplicate.done_at, duplicate.done_by) == (AT, supervisor)
    old_duplicate.refresh_from_db()
    assert old_duplicate.done_at == done_earlier and old_duplicate.done_by is None


# --- People and invitations --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("into_role", "into_active", "their_role", "their_active", "role", "active"),
    [
        (Role.MEMBER, True, Role.LEGAL_REPRESENTATIVE, True, Role.LEGAL_REPRESENTATIVE, True),
        (Role.LEGAL_REPRESENTATIVE, True, Role.MEMBER, True, Role.LEGAL_REPRESENTATIVE, True),
        (Role.MEMBER, True, Role.REFERENT, True, Role.REFERENT, True),
        (Role.REFERENT, True, Role.MEMBER, True, Role.REFERENT, True),
        (Role.REFERENT, True, Role.LEGAL_REPRESENTATIVE, True, Role.LEGAL_REPRESENTATIVE, True),
        # A role one no longer holds counts for nothing.
        (Role.LEGAL_REPRESENTATIVE, False, Role.MEMBER, True, Role.MEMBER, True),
        (Role.MEMBER, True, Role.LEGAL_REPRESENTATIVE, False, Role.MEMBER, True),
        (Role.REFERENT, False, Role.LEGAL_REPRESENTATIVE, False, Role.REFERENT, False),
    ],
    ids=[
        "legal-rep-wins",
        "legal-rep-kept",
        "referent-wins",
        "referent-kept",
        "legal-rep-over-referent",
        "left-the-absorbing-one",
        "left-the-absorbed-one",
        "left-both",
    ],
)
def test_a_person_of_both_keeps_the_stronger_role(
    cooperative, other_cooperative, into_role, into_active, their_role, their_active, role, active
):
    mine = person_in(cooperative, into_role, active=into_active)
    theirs = person_in(other_cooperative, their_role, active=their_active, user=mine.user)

    summary = merge(other_cooperative, cooperative)

    assert (summary.memberships_combined, summary.memberships_moved) == (1, 0)
    mine.refresh_from_db()
    assert (mine.role, mine.is_active) == (role, active)
    if active:
        assert mine.left_at is None
    theirs.refresh_from_db()
    assert theirs.cooperative == other_cooperative and not theirs.is_active
    if their_active:
        assert theirs.left_at == AT


def test_everybody_else_moves_with_their_role(cooperative, other_cooperative):
    referent = person_in(other_cooperative, Role.REFERENT)
    former = person_in(other_cooperative, Role.MEMBER, active=False)

    summary = merge(other_cooperative, cooperative)

    assert summary.memberships_moved == 2
    referent.refresh_from_db(), former.refresh_from_db()
    assert (referent.cooperative, referent.role, referent.is_active) == (
        cooperative,
        Role.REFERENT,
        True,
    )
    assert former.cooperative == cooperative and not former.is_active


def _invitation(cooperative, email, status=Invitation.Status.PENDING):
    return Invitation.objects.create(
        cooperative=cooperative, email=email, status=status, token_hash=f"{email}{cooperative.pk}"
    )


def test_pending_invitations_move_unless_the_person_is_invited_or_in(
    cooperative, other_cooperative
):
    moving = _invitation(other_cooperative, "nuova@example.org")
    _invitation(cooperative, "doppia@example.org")
    invited_twice = _invitation(other_cooperative, "doppia@example.org")
    person_in(cooperative, user__username="gia.socia", user__email="Gia.Socia@Example.org")
    already_in = _invitation(other_cooperative, "gia.socia@example.org")
    accepted = _invitation(other_cooperative, "accettata@example.org", Invitation.Status.ACCEPTED)

    summary = merge(other_cooperative, cooperative)

    assert (summary.invitations_moved, summary.invitations_revoked) == (1, 2)
    moving.refresh_from_db()
    assert moving.cooperative == cooperative and moving.status == Invitation.Status.PENDING
    for revoked in (invited_twice, already_in):
        revoked.refresh_from_db()
        assert revoked.cooperative == other_cooperative
        assert (revoked.status, revoked.revoked_at) == (Invitation.Status.REVOKED, AT)
    accepted.refresh_from_db()
    assert accepted.cooperative == other_cooperative


# --- Service plans, e-mails --------------------------------------------------------------------


def _plan(cooperative, year, hours, *, start=None, end=None, **areas):
    plan = ServicePlan.objects.create(
        cooperative=cooperative,
        year=year,
        hours_included=hours,
        effective_from=start or date(year, 1, 1),
        effective_until=end or date(year, 12, 31),
    )
    for area, area_hours in areas.items():
        ServicePlanArea.objects.create(
            plan=plan, area=factories.AreaFactory(code=area), hours_included=area_hours
        )
    return plan


def _hours(plan) -> dict:
    return {row.area.code: row.hours_included for row in plan.areas.select_related("area")}


def test_plans_of_the_same_year_are_added_together(cooperative, other_cooperative):
    mine = _plan(cooperative, 2026, 10, start=date(2026, 3, 1), legal=4, hr=1)
    _plan(other_cooperative, 2026, 5, end=date(2026, 11, 30), legal=2, fiscal=3)
    earlier = _plan(other_cooperative, 2025, None, fiscal=6)

    summary = merge(other_cooperative, cooperative)

    assert (summary.plans_combined, summary.plans_moved) == (1, 1)
    mine.refresh_from_db()
    assert mine.hours_included == Decimal(15)
    assert (mine.effective_from, mine.effective_until) == (date(2026, 1, 1), date(2026, 12, 31))
    assert _hours(mine) == {"legal": Decimal(6), "hr": Decimal(1), "fiscal": Decimal(3)}
    earlier.refresh_from_db()
    assert earlier.cooperative == cooperative and _hours(earlier) == {"fiscal": Decimal(6)}
    assert not ServicePlan.objects.filter(cooperative=other_cooperative).exists()


@pytest.mark.parametrize(
    ("mine", "theirs", "total"), [(None, 5, 5), (10, None, 10), (None, None, None)]
)
def test_a_total_only_one_plan_has_is_kept(cooperative, other_cooperative, mine, theirs, total):
    plan = _plan(cooperative, 2026, mine, legal=1)
    _plan(other_cooperative, 2026, theirs, legal=1)

    merge(other_cooperative, cooperative)

    plan.refresh_from_db()
    assert plan.hours_included == (None if total is None else Decimal(total))
    assert _hours(plan) == {"legal": Decimal(2)}


def test_incoming_e_mails_linked_to_it_are_relinked(cooperative, other_cooperative):
    mailbox = Mailbox.objects.create(name="inbox", address="inbox@example.org", path="var/x")
    email = InboundEmail.objects.create(
        mailbox=mailbox,
        header_message_id="m-1@example.org",
        from_address="someone@example.org",
        cooperative=other_cooperative,
    )

    assert merge(other_cooperative, cooperative).emails_moved == 1
    email.refresh_from_db()
    assert email.cooperative == cooperative


# --- Refusals ----------------------------------------------------------------------------------


@pytest.fixture
def refusals_in_english():
    """The refusals below are read in English (their Italian is the last test's)."""
    with translation.override("en"):
        yield


@pytest.mark.usefixtures("refusals_in_english")
def test_a_cooperative_is_not_merged_into_itself(cooperative):
    with pytest.raises(CaseError, match="cannot be merged into itself"):
        merge(cooperative, cooperative)


@pytest.mark.usefixtures("refusals_in_english")
def test_nothing_is_merged_into_a_ceased_cooperative(cooperative, other_cooperative):
    cooperative.membership_status = Cooperative.MembershipStatus.CEASED
    cooperative.save()

    with pytest.raises(ConflictError, match="Cooperativa Alfa has ceased") as refused:
        merge(other_cooperative, cooperative)
    assert refused.value.code == "into_ceased"


@pytest.mark.usefixtures("refusals_in_english")
def test_a_merged_cooperative_is_not_merged_again(cooperative, other_cooperative):
    third = factories.CooperativeFactory(name="Cooperativa Gamma")
    merge(other_cooperative, cooperative)

    with pytest.raises(ConflictError, match="already merged into Cooperativa Alfa on 30/06/2026"):
        merge(other_cooperative, third)
    with pytest.raises(ConflictError, match="was itself merged into Cooperativa Alfa"):
        merge(third, other_cooperative)


@pytest.mark.usefixtures("refusals_in_english")
@pytest.mark.parametrize("role", ["member", "consultant", "area_supervisor"])
def test_only_an_administrator_or_a_supervisor_of_every_area_merges(
    request, cooperative, other_cooperative, area, role
):
    case = make_case(cooperative=other_cooperative, area=area)

    with pytest.raises(ForbiddenError, match="Only an administrator or a supervisor of every"):
        merge(other_cooperative, cooperative, actor=request.getfixturevalue(role))

    case.refresh_from_db()
    assert case.cooperative == other_cooperative


@pytest.mark.parametrize("role", ["admin_user", "supervisor"])
def test_administrators_and_supervisors_of_every_area_merge(
    request, cooperative, other_cooperative, role
):
    assert merge(other_cooperative, cooperative, actor=request.getfixturevalue(role))


def test_a_dry_run_counts_and_changes_nothing(cooperative, other_cooperative, area):
    case = make_case(cooperative=other_cooperative, area=area)
    person = person_in(other_cooperative)

    summary = merge(other_cooperative, cooperative, dry_run=True)

    assert summary.dry_run and (summary.cases, summary.memberships_moved) == (1, 1)
    case.refresh_from_db(), person.refresh_from_db(), other_cooperative.refresh_from_db()
    assert case.cooperative == person.cooperative == other_cooperative
    assert other_cooperative.merged_into is None
    assert other_cooperative.membership_status == Cooperative.MembershipStatus.ACTIVE
    assert not CaseEvent.objects.filter(kind=MERGED).exists()


# --- The admin's page --------------------------------------------------------------------------


def _merge_url(cooperative):
    return reverse("admin:casework_cooperative_merge", args=[cooperative.pk])


def test_the_admin_merges_after_a_confirmation(admin_browser, cooperative, other_cooperative, area):
    case = make_case(cooperative=other_cooperative, area=area)
    change = reverse("admin:casework_cooperative_change", args=[other_cooperative.pk])
    assert _merge_url(other_cooperative) in admin_browser.get(change).text

    form = admin_browser.get(_merge_url(other_cooperative))
    assert form.status_code == 200
    offered = list(form.context["form"].fields["into"].queryset)
    assert cooperative in offered and other_cooperative not in offered

    choice = {"into": str(cooperative.pk), "note": "Atto notarile"}
    confirmation = admin_browser.post(_merge_url(other_cooperative), choice)
    assert confirmation.status_code == 200
    assert "Merging Cooperativa Beta into Cooperativa Alfa moves:" in confirmation.text
    assert dict(confirmation.context["preview"].rows())["cases moved"] == 1
    assert 'name="confirm"' in confirmation.text
    case.refresh_from_db()
    assert case.cooperative == other_cooperative  # nothing yet

    done = admin_browser.post(
        _merge_url(other_cooperative), {**choice, "confirm": "1"}, follow=True
    )
    assert done.redirect_chain[-1][0] == change
    (message,) = [str(m) for m in done.context["messages"]]
    assert message == "Cooperativa Beta was merged into Cooperativa Alfa. Cases moved: 1."
    case.refresh_from_db()
    assert case.cooperative == cooperative
    assert CaseEvent.objects.get(case=case, kind=MERGED).note == "Atto notarile"


def test_the_list_action_opens_the_merge_page(admin_browser, cooperative, other_cooperative):
    response = admin_browser.post(
        reverse("admin:casework_cooperative_changelist"),
        {"action": "merge_into_another", "_selected_action": [str(other_cooperative.pk)]},
    )
    assert response.status_code == 302 and response.url == _merge_url(other_cooperative)

    both = admin_browser.post(
        reverse("admin:casework_cooperative_changelist"),
        {
            "action": "merge_into_another",
            "_selected_action": [str(other_cooperative.pk), str(cooperative.pk)],
        },
        follow=True,
    )
    assert "Choose one cooperative" in both.text


def test_the_admin_page_shows_the_refusal(admin_browser, cooperative, other_cooperative):
    merge(other_cooperative, cooperative)
    third = factories.CooperativeFactory(name="Cooperativa Gamma")

    page = admin_browser.get(_merge_url(other_cooperative))
    assert "This cooperative was already merged into Cooperativa Alfa" in page.text
    # Posted anyway (another tab): the merger's own refusal, nothing changed.
    response = admin_browser.post(
        _merge_url(other_cooperative), {"into": str(third.pk), "confirm": "1"}
    )
    assert response.status_code == 200
    assert "Cooperativa Beta was already merged into Cooperativa Alfa on 30/06/2026." in (
        response.text
    )
    assert not CaseEvent.objects.filter(kind=MERGED).exclude(created_at=AT).exists()
    other_cooperative.refresh_from_db()
    assert other_cooperative.merged_into == cooperative


def test_staff_who_may_not_merge_are_refused(browser_as, cooperative, other_cooperative):
    clerk = factories.UserFactory(username="segreteria", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(codename__endswith="_cooperative"))
    browser = browser_as(clerk)

    assert browser.get(_merge_url(other_cooperative)).status_code == 403
    refused = browser.post(
        _merge_url(other_cooperative), {"into": str(cooperative.pk), "confirm": "1"}
    )
    assert refused.status_code == 403
    change = reverse("admin:casework_cooperative_change", args=[other_cooperative.pk])
    assert _merge_url(other_cooperative) not in browser.get(change).text
    changelist = browser.get(reverse("admin:casework_cooperative_changelist"))
    assert "merge_into_another" not in changelist.text
    other_cooperative.refresh_from_db()
    assert other_cooperative.merged_into is None


def test_people_outside_the_admin_are_sent_to_its_login(browser_as, supervisor, other_cooperative):
    response = browser_as(supervisor).get(_merge_url(other_cooperative))

    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


# --- The command -------------------------------------------------------------------------------


def test_the_command_merges_by_tax_code(cooperative, other_cooperative, area, capsys):
    case = make_case(cooperative=other_cooperative, area=area)

    call_command(
        "merge_cooperatives",
        f"IT {other_cooperative.tax_code}",
        cooperative.tax_code,
        "--note",
        "Atto",
    )

    out = capsys.readouterr().out
    assert "Cooperativa Beta è stata incorporata in Cooperativa Alfa." in out
    assert "Pratiche spostate: 1." in out
    case.refresh_from_db()
    assert case.cooperative == cooperative
    assert CaseEvent.objects.get(case=case, kind=MERGED).note == "Atto"


def test_a_dry_run_of_the_command_changes_nothing(cooperative, other_cooperative, area, capsys):
    case = make_case(cooperative=other_cooperative, area=area)

    with translation.override("en"):
        call_command(
            "merge_cooperatives", other_cooperative.tax_code, cooperative.tax_code, "--dry-run"
        )

    assert "would move: cases moved: 1." in capsys.readouterr().out
    case.refresh_from_db()
    assert case.cooperative == other_cooperative


@pytest.mark.parametrize(
    ("which", "says", "exit_code"),
    [
        ("unknown", "No cooperative has the tax code “00000000000”.", 2),
        ("itself", "A cooperative cannot be merged into itself.", 1),
        ("ceased", "Cooperativa Alfa has ceased", 1),
    ],
)
def test_the_command_refuses_in_one_line(cooperative, other_cooperative, which, says, exit_code):
    into = {"unknown": "00000000000", "itself": other_cooperative.tax_code}.get(
        which, cooperative.tax_code
    )
    if which == "ceased":
        Cooperative.objects.filter(pk=cooperative.pk).update(membership_status="ceased")

    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("merge_cooperatives", other_cooperative.tax_code, into)

    assert says in str(refused.value) and "\n" not in str(refused.value)
    assert refused.value.returncode == exit_code


def test_the_command_needs_both_tax_codes():
    with pytest.raises(CommandError, match="the following arguments are required") as refused:
        call_command("merge_cooperatives", "00000000000")
    assert refused.value.returncode == 2


# --- Finding the moved cases -------------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _found_by_api(user, q) -> list[str]:
    response = _api(user).get("/api/v1/cases/", {"q": q})
    assert response.status_code == 200, response.content
    return [case["reference"] for case in response.json()["results"]]


@postgresql_only
def test_the_moved_cases_are_found_under_the_absorbing_cooperative(
    cooperative, other_cooperative, area, supervisor, member
):
    beta_person = person_in(other_cooperative, Role.MEMBER, user__username="socio.beta").user
    moved = make_case(
        cooperative=other_cooperative, area=area, subject="Bilancio", requester=beta_person
    )
    third = factories.CooperativeFactory(name="Cooperativa Gamma")
    stranger = person_in(third, Role.LEGAL_REPRESENTATIVE, user__username="socio.gamma").user

    merge(other_cooperative, cooperative)

    by_name = search_cases(
        cases_visible_to(supervisor), query="Cooperativa Alfa", user=supervisor, staff=True
    )
    assert moved in by_name
    by_tax_code = search_cases(
        cases_visible_to(supervisor), query=cooperative.tax_code, user=supervisor, staff=True
    )
    assert moved in by_tax_code
    assert moved.reference in _found_by_api(supervisor, "Cooperativa Alfa")
    assert moved.reference in _found_by_api(member, "Cooperativa Alfa")  # Alfa's legal rep
    assert moved.reference in _found_by_api(beta_person, "Cooperativa Alfa")  # moved with it
    assert moved.reference in _found_by_api(beta_person, "Bilancio")
    assert moved.reference not in _found_by_api(stranger, "Cooperativa Alfa")
    assert moved.reference not in _found_by_api(stranger, "Bilancio")


# --- Pages and words ---------------------------------------------------------------------------


def test_the_staff_pages_say_who_absorbed_whom(cooperative, other_cooperative, supervisor, area):
    case = make_case(cooperative=other_cooperative, area=area)
    merge(other_cooperative, cooperative)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(supervisor)

    absorbed = browser.get(reverse("work:cooperative", args=[other_cooperative.pk])).text
    assert (
        f'Merged into <a href="/work/cooperatives/{cooperative.pk}/">Cooperativa Alfa</a> on '
        "30 June 2026." in absorbed
    )
    absorbing = browser.get(reverse("work:cooperative", args=[cooperative.pk])).text
    beta_link = f'<a href="/work/cooperatives/{other_cooperative.pk}/">Cooperativa Beta</a>'
    assert f"{beta_link}, on 30 June 2026" in absorbing
    timeline = browser.get(reverse("work:case", args=[case.pk])).text
    assert "Cooperativa Beta merged into Cooperativa Alfa: the case moved with it." in timeline

    italian = Client(HTTP_ACCEPT_LANGUAGE="it")
    italian.force_login(supervisor)
    page = italian.get(reverse("work:cooperative", args=[other_cooperative.pk])).text
    alfa_link = f'<a href="/work/cooperatives/{cooperative.pk}/">Cooperativa Alfa</a>'
    assert f"Incorporata in {alfa_link} il 30 giugno 2026." in page


def test_the_words_in_italian_and_in_english(cooperative, other_cooperative, consultant):
    summary = merge(other_cooperative, cooperative, dry_run=True)
    kind = CaseEvent.Kind.COOPERATIVE_MERGED

    assert str(kind.label) == "Cooperativa incorporata in un'altra"
    assert summary.text().startswith(
        "Incorporare Cooperativa Beta in Cooperativa Alfa sposterebbe:"
    )
    with pytest.raises(ForbiddenError) as italian:
        merge(other_cooperative, cooperative, actor=consultant)
    assert str(italian.value).startswith("Solo un amministratore o un supervisore di tutte le aree")
    with translation.override("en"):
        assert str(kind.label) == "Cooperative merged into another"
        assert summary.text().startswith(
            "Merging Cooperativa Beta into Cooperativa Alfa would move:"
        )
        with pytest.raises(ForbiddenError, match="^Only an administrator or a supervisor"):
            merge(other_cooperative, cooperative, actor=consultant)
        with pytest.raises(CaseError, match="^A cooperative cannot be merged into itself"):
            merge(cooperative, cooperative)
    with pytest.raises(CaseError, match="^Una cooperativa non può essere incorporata in se stessa"):
        merge(cooperative, cooperative)
