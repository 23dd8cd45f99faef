"""A calendar or policy change in the admin moves the due instants of the open cases it concerns."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from casework.models import Case, CaseEvent, Closure
from workflows import process

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=ROME)


def open_case(member, cooperative, area):
    with time_machine.travel(MONDAY_9, tick=False):
        return process.case_open(
            requester=member, cooperative=cooperative, area=area, subject="Statuto", description="x"
        )


def closure_form(calendar, day: date, opening_hours):
    """The admin change form of the calendar, with one closure added for the whole `day`."""
    data = {
        "office": str(calendar.office_id),
        "observe_national_holidays": "on",
        "observe_patron_day": "on",
        "opening_hours-TOTAL_FORMS": str(len(opening_hours)),
        "opening_hours-INITIAL_FORMS": str(len(opening_hours)),
        "closures-TOTAL_FORMS": "1",
        "closures-INITIAL_FORMS": "0",
        "closures-0-starts_at_0": day.strftime("%d/%m/%Y"),
        "closures-0-starts_at_1": "00:00",
        "closures-0-ends_at_0": day.strftime("%d/%m/%Y"),
        "closures-0-ends_at_1": "23:59",
        "closures-0-reason": "Trasloco",
    }
    for index, hours in enumerate(opening_hours):
        data.update(
            {
                f"opening_hours-{index}-id": str(hours.pk),
                f"opening_hours-{index}-calendar": str(calendar.pk),
                f"opening_hours-{index}-weekday": str(hours.weekday),
                f"opening_hours-{index}-opens_at": hours.opens_at.strftime("%H:%M"),
                f"opening_hours-{index}-closes_at": hours.closes_at.strftime("%H:%M"),
            }
        )
    return data


def test_closing_the_office_in_the_admin_moves_due_instants_and_sla_due(
    client,
    admin_user,
    calendar,
    process_setup,
    member,
    cooperative,
    consultant,
    django_capture_on_commit_callbacks,
    capsys,
):
    case = open_case(member, cooperative, process_setup)
    assert case.resolution_due_at == datetime(2026, 12, 4, 18, 0, tzinfo=ROME)
    call_command("sla_due", "--office", "BO", "--start", "2026-11-30T09:00", "--minutes", "480")
    assert capsys.readouterr().out.strip().splitlines()[-1] == "2026-11-30T18:00:00+01:00"

    client.force_login(admin_user)
    hours = list(calendar.opening_hours.order_by("weekday", "opens_at"))
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=ROME), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/admin/casework/businesscalendar/{calendar.pk}/change/",
                closure_form(calendar, date(2026, 11, 30), hours),
                HTTP_ACCEPT_LANGUAGE="it",
            )
    assert response.status_code == 302
    assert Closure.objects.filter(calendar=calendar).count() == 1

    call_command("sla_due", "--office", "BO", "--start", "2026-11-30T09:00", "--minutes", "480")
    assert capsys.readouterr().out.strip().splitlines()[-1] == "2026-12-01T18:00:00+01:00"
    case.refresh_from_db()
    # Monday 30 November closed: the resolution is due one business day later.
    assert case.resolution_due_at == datetime(2026, 12, 7, 18, 0, tzinfo=ROME)
    event = CaseEvent.objects.get(case=case, kind="sla_recomputed")
    assert event.after["resolution_due_at"] == "2026-12-07T18:00:00+01:00"


def test_policy_change_moves_only_that_area_and_priority(
    process_setup, policies, member, cooperative, consultant
):
    from casework.sla.recompute import recompute_open_cases

    case = open_case(member, cooperative, process_setup)
    urgent = open_case(member, cooperative, process_setup)
    Case.objects.filter(pk=urgent.pk).update(priority="urgent")
    policies["normal"].resolution_minutes = 2400
    policies["normal"].save()
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=ROME), tick=False):
        assert recompute_open_cases(area_id=process_setup.pk, priority="normal") == 1
    case.refresh_from_db()
    # 60 of 2400 minutes consumed by Monday 10:00: the remaining 2340 end on Friday at 18:00.
    assert case.resolution_due_at == datetime(2026, 11, 27, 18, 0, tzinfo=ROME)
    assert case.resolution_elapsed_seconds == 3600
    assert not CaseEvent.objects.filter(case=urgent, kind="sla_recomputed").exists()


def test_sla_due_between_and_bad_input(calendar, capsys):
    call_command("sla_due", "--office", "bo", "--between", "2026-12-24T08:00", "2026-12-28T10:00")
    # 24 December: 09-13 and 14-18 (no closure in this calendar), 25-27 closed, 28: 09-10.
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(8 * 60 + 60)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ZZ"):
        call_command("sla_due", "--office", "ZZ", "--start", "2026-12-24T17:30", "--minutes", "1")
    with pytest.raises(CommandError):
        call_command("sla_due", "--office", "BO", "--start", "yesterday", "--minutes", "1")
