"""Hours on the pages: the portal's usage and estimate answer, the workspace's panel, composer
and cooperative page, and the billing file."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from casework.models import Estimate, TimeEntry
from workflows import process
from workflows.flows import CaseFlow

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _english(client):
    client.cookies["django_language"] = "en"
    return client


# --- The portal -----------------------------------------------------------------------------------


def test_the_legal_representative_sees_the_hours_used(
    client, legal_rep, consultant, assigned_case, hours_plan
):
    process.case_record_time(case=assigned_case, actor=consultant, minutes=420)
    client.force_login(legal_rep)

    page = _english(client).get(reverse("portal-cases"), **EN).content.decode()

    assert f"hours used 7 of 10 in {hours_plan.year}" in page


def test_an_ordinary_member_does_not(client, plain_member, hours_plan):
    client.force_login(plain_member)

    page = _english(client).get(reverse("portal-cases"), **EN).content.decode()

    assert "hours used" not in page and 'id="hours"' not in page


def test_the_portal_usage_in_a_fixed_number_of_queries(
    client, legal_rep, consultant, open_case, hours_plan, other_area, django_assert_max_num_queries
):
    process.case_record_time(case=open_case(), actor=consultant, minutes=30)
    client.force_login(legal_rep)
    _english(client).get(reverse("portal-cases"))
    with django_assert_max_num_queries(40) as few:
        client.get(reverse("portal-cases"))
    for number in range(5):
        case = open_case(subject=f"Caso {number}")
        process.case_record_time(case=case, actor=consultant, minutes=30)

    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("portal-cases")).content.decode()
    assert f"hours used 3 of 10 in {hours_plan.year}" in page


@pytest.fixture
def hours_waiting(assigned_case, consultant, hours_plan):
    estimate = process.case_propose_estimate(
        case=assigned_case, actor=consultant, minutes=180, note="Ricorso in commissione"
    )
    return assigned_case, estimate


def test_the_requester_accepts_an_estimate_in_the_portal(client, member, hours_waiting):
    case, estimate = hours_waiting
    client.force_login(member)
    _english(client)

    page = client.get(reverse("portal-case", args=[case.pk]), **EN).content.decode()
    assert "An estimate waits for your answer" in page and "Ricorso in commissione" in page
    assert "3 hours" in page

    response = client.post(
        reverse("portal-estimate-accept", args=[case.pk, estimate.pk]), {"note": "Ok"}, **EN
    )

    assert response.status_code == 302
    estimate.refresh_from_db()
    case.refresh_from_db()
    assert estimate.status == "accepted" and estimate.answer_note == "Ok"
    assert case.status == "assigned"
    assert process.active_task(case, CaseFlow.work) is not None


def test_declining_in_the_portal(client, member, hours_waiting):
    case, estimate = hours_waiting
    client.force_login(member)

    client.post(reverse("portal-estimate-decline", args=[case.pk, estimate.pk]), {}, **EN)

    estimate.refresh_from_db()
    assert estimate.status == "declined"


def test_a_refused_answer_is_shown_on_the_page(client, plain_member, hours_waiting, cooperative):
    case, estimate = hours_waiting
    # A participant who is an ordinary member sees the case but does not answer for Alfa.
    from casework.models import CaseParticipant

    CaseParticipant.objects.create(case=case, user=plain_member)
    client.force_login(plain_member)

    page = _english(client).get(reverse("portal-case", args=[case.pk]), **EN).content.decode()
    assert "Accept the estimate" not in page

    response = client.post(reverse("portal-estimate-accept", args=[case.pk, estimate.pk]), **EN)

    assert response.status_code == 400
    assert "Only the requester" in response.content.decode()
    estimate.refresh_from_db()
    assert estimate.status == "pending"


def test_another_cooperatives_member_gets_404(client, other_member, hours_waiting):
    case, estimate = hours_waiting
    client.force_login(other_member)

    response = client.post(reverse("portal-estimate-accept", args=[case.pk, estimate.pk]))

    assert response.status_code == 404
    assert Estimate.objects.get(pk=estimate.pk).status == "pending"


def test_a_message_while_an_estimate_waits_keeps_the_case_waiting(client, member, hours_waiting):
    case, _estimate = hours_waiting
    client.force_login(member)

    client.post(reverse("portal-case-reply", args=[case.pk]), {"body": "Ne parliamo"}, **EN)

    case.refresh_from_db()
    assert case.status == "waiting"
    assert process.active_task(case, CaseFlow.await_estimate) is not None


# --- The workspace ------------------------------------------------------------------------------


def test_the_case_page_lists_entries_and_estimates(client, consultant, hours_waiting):
    case, estimate = hours_waiting
    process.case_record_time(case=case, actor=consultant, minutes=15, billable=False)
    client.force_login(consultant)

    page = client.get(reverse("work:case", args=[case.pk]), **EN).content.decode()

    assert 'id="hours"' in page and f'data-estimate="{estimate.pk}"' in page
    assert "not billable" in page and "Waiting for the cooperative" in page
    assert f"hours used 0 of 10 in {timezone.localdate().year}" in page


def test_the_composer_proposes_an_estimate(client, consultant, assigned_case, hours_plan):
    client.force_login(consultant)
    page = client.get(reverse("work:case", args=[assigned_case.pk]), **EN).content.decode()
    assert 'value="estimate"' in page

    response = client.post(
        reverse("work:compose", args=[assigned_case.pk]),
        {"composer-mode": "estimate", "composer-body": "Ricorso", "composer-minutes": "180"},
        **EN,
    )

    assert response.status_code == 302
    assigned_case.refresh_from_db()
    assert assigned_case.status == "waiting"
    assert Estimate.objects.get(case=assigned_case).minutes == 180


def test_the_composer_offers_no_estimate_without_a_plan(client, consultant, assigned_case):
    client.force_login(consultant)
    page = client.get(reverse("work:case", args=[assigned_case.pk]), **EN).content.decode()
    assert 'value="estimate"' not in page

    response = client.post(
        reverse("work:compose", args=[assigned_case.pk]),
        {"composer-mode": "estimate", "composer-body": "Ricorso", "composer-minutes": "180"},
        **EN,
    )

    assert response.status_code == 400
    assert "has no service plan" in response.content.decode()
    assert not Estimate.objects.exists()


def test_time_beyond_the_plan_is_a_form_error_in_the_composer(
    client, consultant, assigned_case, hours_plan
):
    process.case_record_time(case=assigned_case, actor=consultant, minutes=600)
    client.force_login(consultant)

    response = client.post(
        reverse("work:compose", args=[assigned_case.pk]),
        {"composer-mode": "time", "composer-minutes": "30", "composer-body": "Altro"},
        **EN,
    )

    assert response.status_code == 400
    assert "propose an estimate" in response.content.decode()
    assert TimeEntry.objects.filter(case=assigned_case).count() == 1


def test_correcting_and_deleting_an_entry_on_the_case_page(client, consultant, assigned_case):
    [entry] = process.case_record_time(case=assigned_case, actor=consultant, minutes=40)
    client.force_login(consultant)
    prefix = f"entry-{entry.pk}"

    response = client.post(
        reverse("work:time_entry_change", args=[assigned_case.pk, entry.pk]),
        {f"{prefix}-minutes": "25", f"{prefix}-note": "Corretto", f"{prefix}-billable": "on"},
        **EN,
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.minutes == 25 and entry.note == "Corretto" and entry.billable

    client.post(reverse("work:time_entry_delete", args=[assigned_case.pk, entry.pk]), **EN)
    assigned_case.refresh_from_db()
    assert assigned_case.minutes_spent == 0 and not TimeEntry.objects.exists()


def test_bad_corrections_change_nothing(client, consultant, assigned_case):
    [entry] = process.case_record_time(case=assigned_case, actor=consultant, minutes=40)
    client.force_login(consultant)

    response = client.post(
        reverse("work:time_entry_change", args=[assigned_case.pk, entry.pk]),
        {f"entry-{entry.pk}-minutes": "0"},
        follow=True,
        **EN,
    )

    assert "The time entry was not changed." in response.content.decode()
    entry.refresh_from_db()
    assert entry.minutes == 40


def test_the_case_page_panel_in_a_fixed_number_of_queries(
    client, consultant, assigned_case, hours_plan, django_assert_max_num_queries
):
    process.case_record_time(case=assigned_case, actor=consultant, minutes=10)
    client.force_login(consultant)
    client.get(reverse("work:case", args=[assigned_case.pk]))
    with django_assert_max_num_queries(200) as before:
        client.get(reverse("work:case", args=[assigned_case.pk]))
    for _ in range(5):
        process.case_record_time(case=assigned_case, actor=consultant, minutes=10)

    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(reverse("work:case", args=[assigned_case.pk]))


def test_the_cooperative_page_shows_the_plan(
    client, consultant, assigned_case, hours_plan, cooperative
):
    process.case_record_time(case=assigned_case, actor=consultant, minutes=90)
    client.force_login(consultant)

    page = client.get(reverse("work:cooperative", args=[cooperative.pk]), **EN).content.decode()

    assert f"hours used 1.5 of 10 in {hours_plan.year}" in page
    assert 'data-area="legal"' in page
    assert "Billing file" not in page  # for supervisors


# --- The billing file ---------------------------------------------------------------------------


def _rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_billing_file_has_a_row_per_entry(
    client, supervisor, consultant, member, assigned_case, hours_plan, other_cooperative
):
    process.case_record_time(case=assigned_case, actor=consultant, minutes=540, note="Parere")
    estimate = process.case_propose_estimate(
        case=assigned_case, actor=consultant, minutes=120, note="Oltre"
    )
    process.case_accept_estimate(estimate=estimate, actor=member)
    process.case_record_time(case=assigned_case, actor=consultant, minutes=90)
    process.case_record_time(case=assigned_case, actor=consultant, minutes=5, billable=False)
    today = timezone.localdate().isoformat()
    client.force_login(supervisor)

    response = client.get(reverse("work:billing_csv"), {"since": today, "until": today}, **EN)

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, *rows = _rows(response)
    assert header[:7] == [
        "Cooperative",
        "Tax code",
        "Case",
        "Area",
        "Consultant",
        "Date",
        "Minutes",
    ]
    assert [(r[2], r[5], r[6], r[7], r[8], r[9], r[10]) for r in rows] == [
        (assigned_case.reference, today, "540", "yes", "within plan", "", ""),
        (assigned_case.reference, today, "60", "yes", "within plan", "", ""),
        (assigned_case.reference, today, "30", "yes", "beyond plan", str(estimate.pk), "120"),
        (assigned_case.reference, today, "5", "no", "not billable", "", ""),
    ]
    assert rows[0][0] == "Cooperativa Alfa" and rows[0][11] == "Parere"


def test_entries_outside_the_period_or_without_a_plan(
    client, supervisor, consultant, open_case, other_member, other_cooperative
):
    case = open_case(other_member, other_cooperative)
    process.case_record_time(case=case, actor=consultant, minutes=30)
    today = timezone.localdate()
    client.force_login(supervisor)

    [_header, row] = _rows(
        client.get(reverse("work:billing_csv"), {"since": today, "until": today}, **EN)
    )
    assert row[0] == "Cooperativa Beta" and row[8] == "no plan"
    yesterday = (today - timedelta(days=1)).isoformat()
    assert (
        len(
            _rows(client.get(reverse("work:billing_csv"), {"since": yesterday, "until": yesterday}))
        )
        == 1
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"since": "2026-01-01"},
        {"since": "2026-02-30", "until": "2026-03-01"},
        {"since": "01/01/2026", "until": "2026-03-01"},
        {"since": "2026-03-01", "until": "2026-01-01"},
        {"since": "2000-01-01", "until": "2026-01-01"},
    ],
)
def test_bad_periods_are_400_with_a_message(client, supervisor, params):
    client.force_login(supervisor)

    response = client.get(reverse("work:billing_csv"), params, **EN)

    assert response.status_code == 400
    assert "since=YYYY-MM-DD" in response.content.decode()


def test_consultants_and_members_may_not_download_it(client, consultant, member):
    for who in (consultant, member):
        client.force_login(who)
        response = client.get(
            reverse("work:billing_csv"), {"since": "2026-01-01", "until": "2026-01-31"}
        )
        assert response.status_code == 403


def test_the_billing_command(consultant, assigned_case, hours_plan, capsys):
    process.case_record_time(case=assigned_case, actor=consultant, minutes=30)
    today = timezone.localdate().isoformat()

    out = io.StringIO()
    call_command("billing_csv", "--since", today, "--until", today, "--language", "en", stdout=out)

    header, row = list(csv.reader(io.StringIO(out.getvalue())))
    assert header[0] == "Cooperative" and row[6] == "30" and row[8] == "within plan"


@pytest.mark.parametrize(
    "args", [[], ["--since", "2026-01-01"], ["--since", "x", "--until", "2026-01-01"]]
)
def test_the_billing_command_refuses_bad_dates_with_exit_code_2(args):
    with pytest.raises(CommandError) as refused:
        call_command("billing_csv", *args)

    assert refused.value.returncode == 2
