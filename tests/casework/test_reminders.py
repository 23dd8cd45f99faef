"""Reminders to the cooperative while a case waits on it, and the warning before it closes itself.

Time is moved with time_machine over Christmas 2024 in Bologna's calendar (Monday to Friday,
09:00-13:00 and 14:00-18:00, national holidays closed): from Monday 23 December the business
days are Tuesday 24, Friday 27 (25 and 26 are holidays, then the weekend), Monday 30, Tuesday 31,
Thursday 2 January (the 1st is a holiday), Friday 3 and Tuesday 7 (Monday 6 is Epiphany).
"""

import importlib
import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from casework import reminders
from casework.config.celery import app as celery_app
from casework.models import CaseEvent, Notification, UserProfile
from casework.sla import business_time as bt
from casework.tasks import send_reminders
from workflows import process

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
QUESTION = "Potete inviarci il verbale dell'ultima assemblea?"


def rome(month, day, hour, minute=0, year=None):
    return datetime(year or (2024 if month == 12 else 2025), month, day, hour, minute, tzinfo=ROME)


MONDAY_23_DECEMBER_10 = rome(12, 23, 10)
FIRST_REMINDER = rome(12, 30, 9)  # the 3rd business day after Monday 23, as the office opens
SECOND_REMINDER = rome(1, 7, 9)  # the 7th


def sweep(when):
    with time_machine.travel(when, tick=False):
        return reminders.send_due_reminders()


def mails(case, kind="waiting_reminder"):
    return list(Notification.objects.filter(case=case, kind=kind).order_by("id"))


def recorded(case, kind=CaseEvent.Kind.WAITING_REMINDED):
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("id"))


@pytest.fixture
def asked_on_monday(open_case, consultant):
    """A case whose consultant asked the cooperative a question on Monday 23 December, 10:00."""
    with time_machine.travel(MONDAY_23_DECEMBER_10, tick=False):
        case = open_case()
        process.case_request_info(case=case, actor=consultant, question=QUESTION)
    return case


@pytest.fixture
def resolved_on_monday(open_case, consultant, outcome):
    """A case resolved on Monday 23 December, 10:00: it closes by itself at the end of the 5th
    business day after, Thursday 2 January; the warning is due on Monday 30 December."""
    with time_machine.travel(MONDAY_23_DECEMBER_10, tick=False):
        case = open_case()
        process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Parere inviato")
    case.refresh_from_db()
    assert timezone.localtime(case.confirmation_due_at).date() == rome(1, 2, 0).date()
    return case


# --- While the case waits on the cooperative ---------------------------------------------------


def test_reminders_after_three_and_seven_business_days_each_sent_once(asked_on_monday, member):
    case = asked_on_monday
    # Friday 27 is only the 2nd business day (Christmas and Santo Stefano are closed), and on
    # Monday 30 nothing goes out before the office opens.
    assert sweep(rome(12, 27, 17, 59))["waiting_reminders"] == 0
    assert sweep(rome(12, 30, 8, 59))["waiting_reminders"] == 0
    assert mails(case) == []

    assert sweep(FIRST_REMINDER)["waiting_reminders"] == 1
    assert sweep(FIRST_REMINDER)["waiting_reminders"] == 0
    assert sweep(rome(12, 30, 15))["waiting_reminders"] == 0
    [first] = mails(case)
    assert first.recipient == member and first.email == member.email
    assert first.subject.startswith(f"[{case.reference}] ")
    assert QUESTION in first.body
    assert reverse("portal-case", args=[case.pk]) in first.body

    # Monday 6 January is Epiphany: the 7th business day is Tuesday 7.
    assert sweep(rome(1, 6, 17))["waiting_reminders"] == 0
    assert sweep(SECOND_REMINDER)["waiting_reminders"] == 1
    assert sweep(SECOND_REMINDER)["waiting_reminders"] == 0
    assert sweep(rome(2, 3, 10))["waiting_reminders"] == 0
    assert len(mails(case)) == 2

    waiting_since = case.sla_pauses.get().started_at.isoformat()
    assert [(e.after, e.actor) for e in recorded(case)] == [
        ({"reminder": 3, "waiting_since": waiting_since}, None),
        ({"reminder": 7, "waiting_since": waiting_since}, None),
    ]
    assert [e.created_at for e in recorded(case)] == [FIRST_REMINDER, SECOND_REMINDER]


def test_a_sweep_that_was_down_sends_only_the_latest_due_reminder(asked_on_monday):
    case = asked_on_monday
    assert sweep(rome(1, 8, 11))["waiting_reminders"] == 1
    assert sweep(rome(1, 9, 11))["waiting_reminders"] == 0
    assert [e.after["reminder"] for e in recorded(case)] == [7]
    assert len(mails(case)) == 1


def test_answering_stops_the_reminders_and_a_new_request_starts_a_new_series(
    asked_on_monday, member, consultant
):
    case = asked_on_monday
    with time_machine.travel(rome(12, 27, 11), tick=False):
        process.case_post_message(case=case, author=member, body="Ecco il verbale.")
    assert sweep(rome(1, 10, 10))["waiting_reminders"] == 0
    assert mails(case) == []

    # Asked again on Monday 13 January: Tuesday 14, Wednesday 15, Thursday 16.
    with time_machine.travel(rome(1, 13, 16), tick=False):
        process.case_request_info(case=case, actor=consultant, question="Manca la firma.")
    assert sweep(rome(1, 15, 17))["waiting_reminders"] == 0
    assert sweep(rome(1, 16, 9))["waiting_reminders"] == 1
    [mail] = mails(case)
    assert "Manca la firma." in mail.body and QUESTION not in mail.body
    assert [e.after["waiting_since"] for e in recorded(case)] == [
        case.sla_pauses.get(ended_at__isnull=True).started_at.isoformat()
    ]


def test_the_areas_reminder_days_are_honoured(asked_on_monday, process_setup):
    process_setup.waiting_reminder_days = "5"
    process_setup.save()
    case = asked_on_monday
    assert sweep(rome(12, 31, 17))["waiting_reminders"] == 0  # the 4th business day
    assert sweep(rome(1, 2, 9))["waiting_reminders"] == 1  # the 5th
    assert sweep(rome(1, 20, 9))["waiting_reminders"] == 0
    assert [e.after["reminder"] for e in recorded(case)] == [5]


def test_an_area_without_reminder_days_sends_none(asked_on_monday, process_setup):
    process_setup.waiting_reminder_days = ""
    process_setup.save()
    assert sweep(rome(1, 20, 9)) == {"waiting_reminders": 0, "auto_close_warnings": 0}
    assert mails(asked_on_monday) == []


def test_the_reminder_is_in_the_requesters_language(asked_on_monday, member):
    UserProfile.objects.create(user=member, language="en")
    sweep(FIRST_REMINDER)
    [mail] = mails(asked_on_monday)
    assert "Reminder: information still needed" in mail.subject
    with translation.override("en"):
        asked = formats.date_format(timezone.localtime(MONDAY_23_DECEMBER_10), "DATETIME_FORMAT")
    assert asked in mail.body and "23 December 2024, 10:00" in mail.body


def test_the_reminder_is_in_italian_by_default(asked_on_monday):
    sweep(FIRST_REMINDER)
    [mail] = mails(asked_on_monday)
    assert "23 dicembre 2024, 10:00" in mail.body


def test_internal_notes_never_reach_the_cooperative(open_case, consultant, member):
    secret = "Nota interna: il socio è moroso, non dirglielo."
    with time_machine.travel(MONDAY_23_DECEMBER_10, tick=False):
        case = open_case()
        # Written at the very instant of the question, and after it.
        process.case_post_message(case=case, author=consultant, body=secret, internal=True)
        process.case_request_info(case=case, actor=consultant, question=QUESTION)
        process.case_post_message(case=case, author=consultant, body=secret, internal=True)
    sweep(FIRST_REMINDER)
    [mail] = mails(case)
    assert QUESTION in mail.body and secret not in mail.body
    assert secret not in mail.subject


def test_a_requester_without_an_address_is_not_chased(asked_on_monday, member):
    member.email = ""
    member.save()
    assert sweep(SECOND_REMINDER)["waiting_reminders"] == 0
    assert recorded(asked_on_monday) == []


# --- Before a resolved case closes by itself ---------------------------------------------------


def test_warning_two_business_days_before_closing_sent_once(resolved_on_monday, member):
    case = resolved_on_monday
    # Closing on Thursday 2 January: two business days before it is Monday 30 December.
    assert sweep(rome(12, 27, 17))["auto_close_warnings"] == 0
    assert sweep(rome(12, 30, 8, 59))["auto_close_warnings"] == 0
    assert sweep(rome(12, 30, 9))["auto_close_warnings"] == 1
    assert sweep(rome(12, 30, 9))["auto_close_warnings"] == 0
    assert sweep(rome(1, 2, 17))["auto_close_warnings"] == 0
    [mail] = mails(case, "auto_close_warning")
    assert mail.recipient == member
    assert mail.subject.startswith(f"[{case.reference}] ")
    assert "2 gennaio 2025, 23:59" in mail.body
    assert reverse("portal-case", args=[case.pk]) in mail.body
    [event] = recorded(case, CaseEvent.Kind.AUTO_CLOSE_WARNED)
    assert event.after == {"closes_at": case.confirmation_due_at.isoformat()}
    assert event.actor is None


def test_a_warning_missed_while_the_sweep_was_down_goes_once_before_the_closing(
    resolved_on_monday,
):
    assert sweep(rome(1, 2, 16))["auto_close_warnings"] == 1
    assert sweep(rome(1, 2, 17))["auto_close_warnings"] == 0
    # Once closed, nothing is left to warn about.
    assert sweep(rome(1, 3, 9))["auto_close_warnings"] == 0
    assert len(mails(resolved_on_monday, "auto_close_warning")) == 1


def test_a_reopened_case_is_not_warned_and_a_new_resolution_is(
    resolved_on_monday, member, consultant, outcome
):
    case = resolved_on_monday
    with time_machine.travel(rome(12, 24, 10), tick=False):
        process.case_reopen(case=case, actor=member, reason="Manca la parte sul CdA")
    assert sweep(rome(12, 30, 9))["auto_close_warnings"] == 0

    # Resolved again on Monday 30: closes at the end of Wednesday 8 January (Tuesday 31,
    # Thursday 2, Friday 3, Tuesday 7, Wednesday 8), so it is warned on Friday 3.
    with time_machine.travel(rome(12, 30, 10), tick=False):
        process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Integrato")
    assert sweep(rome(1, 3, 8, 59))["auto_close_warnings"] == 0
    assert sweep(rome(1, 3, 9))["auto_close_warnings"] == 1
    assert sweep(rome(1, 7, 9))["auto_close_warnings"] == 0
    assert len(mails(case, "auto_close_warning")) == 1


def test_the_areas_warning_days_are_honoured(resolved_on_monday, process_setup):
    process_setup.auto_close_warning_days = 1
    process_setup.save()
    assert sweep(rome(12, 31, 8))["auto_close_warnings"] == 0
    assert sweep(rome(12, 31, 9))["auto_close_warnings"] == 1


def test_an_area_without_warning_days_sends_none(resolved_on_monday, process_setup):
    process_setup.auto_close_warning_days = 0
    process_setup.save()
    assert sweep(rome(1, 2, 12))["auto_close_warnings"] == 0


def test_no_warning_when_its_day_is_not_after_the_resolution(
    open_case, consultant, outcome, process_setup
):
    # Two business days to confirm (closing on Friday 27): the warning's day would be the
    # resolution's own, and the resolution's e-mail already said when it closes.
    process_setup.confirmation_days = 2
    process_setup.save()
    with time_machine.travel(MONDAY_23_DECEMBER_10, tick=False):
        case = open_case()
        process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Fatto")
    assert sweep(rome(12, 27, 10))["auto_close_warnings"] == 0
    assert mails(case, "auto_close_warning") == []


# --- Concurrency and cost ------------------------------------------------------------------------


def _in_threads(count, target):
    barrier = threading.Barrier(count)
    results = []

    def run():
        barrier.wait()
        try:
            results.append(target())
        except Exception as error:  # noqa: BLE001 - the test shows what went wrong
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_send_each_reminder_once(asked_on_monday, resolved_on_monday):
    with time_machine.travel(FIRST_REMINDER, tick=False):
        results = _in_threads(4, reminders.send_due_reminders)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["waiting_reminders"] for r in results) == 1
    assert sum(r["auto_close_warnings"] for r in results) == 1
    assert len(mails(asked_on_monday)) == 1 and len(recorded(asked_on_monday)) == 1
    warned = recorded(resolved_on_monday, CaseEvent.Kind.AUTO_CLOSE_WARNED)
    assert len(mails(resolved_on_monday, "auto_close_warning")) == 1 and len(warned) == 1


def _sweep_statements(when):
    with time_machine.travel(when, tick=False), CaptureQueriesContext(connection) as queries:
        counts = reminders.send_due_reminders()
    assert counts == {"waiting_reminders": 0, "auto_close_warnings": 0}
    return len(queries)


def test_more_cases_than_a_batch_are_all_reminded(open_case, consultant, monkeypatch):
    monkeypatch.setattr(reminders, "BATCH", 2)
    with time_machine.travel(MONDAY_23_DECEMBER_10, tick=False):
        cases = [open_case(subject=f"Pratica {n}") for n in range(5)]
        for case in cases:
            process.case_request_info(case=case, actor=consultant, question=QUESTION)
    assert sweep(FIRST_REMINDER)["waiting_reminders"] == 5
    assert all(len(mails(case)) == 1 for case in cases)


def test_the_sweep_costs_the_same_however_many_cases_are_not_due(
    open_case, consultant, outcome, django_assert_max_num_queries
):
    def waiting_and_resolved(count):
        with time_machine.travel(MONDAY_23_DECEMBER_10, tick=False):
            for _ in range(count):
                case = open_case()
                process.case_request_info(case=case, actor=consultant, question=QUESTION)
                case = open_case()
                process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Ok")

    # Friday 27: every one of them is a candidate (old enough to look at, closing soon), none
    # is due; after the first reminders on Monday 30, the same between the 3rd and the 7th day.
    waiting_and_resolved(1)
    sweep(rome(12, 27, 10))  # the office's calendar is read once per process
    few = _sweep_statements(rome(12, 27, 10))
    waiting_and_resolved(6)
    assert _sweep_statements(rome(12, 27, 10)) == few
    sweep(FIRST_REMINDER)
    with django_assert_max_num_queries(few):
        _sweep_statements(rome(1, 3, 10))


# --- The task, the timelines and the admin --------------------------------------------------------


def test_the_beat_task_runs_directly_and_through_celery(asked_on_monday):
    with time_machine.travel(FIRST_REMINDER, tick=False):
        assert send_reminders.delay().get() == {"waiting_reminders": 1, "auto_close_warnings": 0}
        assert send_reminders() == {"waiting_reminders": 0, "auto_close_warnings": 0}
    assert len(mails(asked_on_monday)) == 1


def test_the_beat_schedule_runs_this_task():
    # The migration's rows are re-created as it created them: a transactional test may have
    # flushed every table.
    schedules = importlib.import_module("workflows.migrations.0009_conversation_schedules")
    schedules.register(apps, None)
    scheduled = PeriodicTask.objects.filter(task="casework.tasks.send_reminders").first()
    assert scheduled is not None and scheduled.enabled
    assert scheduled.interval.every == 600 and scheduled.interval.period == "seconds"
    assert celery_app.tasks["casework.tasks.send_reminders"].name == send_reminders.name


def test_the_consultant_and_the_member_see_the_reminders_on_the_case(
    asked_on_monday, consultant, member, browser_as
):
    sweep(FIRST_REMINDER)
    with time_machine.travel(rome(12, 30, 10), tick=False):
        workspace = browser_as(consultant).get(reverse("work:case", args=[asked_on_monday.pk]))
        portal = browser_as(member).get(reverse("portal-case", args=[asked_on_monday.pk]))
    assert workspace.status_code == 200 and portal.status_code == 200
    words = "E-mail reminder: 3 business days without an answer to the request of"
    assert "Reminder sent to the cooperative" in workspace.content.decode()
    assert words in workspace.content.decode()
    assert "Reminders sent to you by e-mail" in portal.content.decode()
    assert words in portal.content.decode()


def test_the_member_sees_the_warning_on_the_case(resolved_on_monday, member, browser_as):
    sweep(rome(12, 30, 9))
    with time_machine.travel(rome(12, 30, 10), tick=False):
        page = browser_as(member).get(reverse("portal-case", args=[resolved_on_monday.pk]))
    assert "E-mail warning: the case closes by itself on" in page.content.decode()


def test_the_member_gets_them_in_the_api_timeline(asked_on_monday, resolved_on_monday, member):
    sweep(FIRST_REMINDER)
    client = APIClient()
    client.force_authenticate(member)
    for case, kind in (
        (asked_on_monday, "waiting_reminded"),
        (resolved_on_monday, "auto_close_warned"),
    ):
        response = client.get(f"/api/v1/cases/{case.pk}/events/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert kind in [event["kind"] for event in response.json()["results"]]


def test_the_area_admin_shows_the_reminder_settings(admin_browser, area):
    page = admin_browser.get(reverse("admin:casework_practicearea_change", args=[area.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'name="waiting_reminder_days"' in content and 'value="3,7"' in content
    assert 'name="auto_close_warning_days"' in content


# --- Business days on the office calendar ------------------------------------------------------


@pytest.fixture
def bologna_hours():
    return bt.calendar_for(
        bt.CalendarSpec(
            weekly_hours=bt.DEMO_WEEKLY_HOURS, holiday_subdiv="BO", timezone="Europe/Rome"
        )
    )


@pytest.mark.parametrize(
    ("days", "opening"),
    [
        (1, rome(12, 24, 9)),
        (2, rome(12, 27, 9)),
        (3, rome(12, 30, 9)),
        (7, rome(1, 7, 9)),
        (-1, rome(12, 20, 9)),
        (-5, rome(12, 16, 9)),
    ],
)
def test_business_day_opening_counts_whole_days_of_the_calendar(bologna_hours, days, opening):
    # The hour of the instant does not matter: its own day is never counted.
    for hour in (0, 10, 23):
        instant = MONDAY_23_DECEMBER_10.replace(hour=hour)
        assert bt.business_day_opening(bologna_hours, instant, days) == opening


def test_business_day_opening_before_a_closing_skips_holidays(bologna_hours):
    closes = rome(1, 2, 23, 59)
    assert bt.business_day_opening(bologna_hours, closes, -2) == rome(12, 30, 9)
    # San Petronio (4 October) is Bologna's own holiday.
    assert bt.business_day_opening(bologna_hours, rome(10, 3, 12, year=2025), 1) == rome(
        10, 6, 9, year=2025
    )


def test_business_day_opening_refuses_bad_input(bologna_hours):
    with pytest.raises(ValueError):
        bt.business_day_opening(bologna_hours, MONDAY_23_DECEMBER_10, 0)
    with pytest.raises(ValueError):
        bt.business_day_opening(bologna_hours, datetime(2024, 12, 23, 10), 1)
    closed_for_ever = bt.BusinessCalendar(
        bt.CalendarSpec(
            weekly_hours=((0, time(9), time(18)),),
            closures=((MONDAY_23_DECEMBER_10, MONDAY_23_DECEMBER_10 + timedelta(days=5000)),),
        )
    )
    with pytest.raises(ValueError):
        bt.business_day_opening(closed_for_ever, MONDAY_23_DECEMBER_10, 1)
