"""The pages: the Deadlines panel of the workspace case page (list, add, change, done), the
portal's shared deadlines, the consultant's Deadlines page and the dashboard's panel."""

from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from casework import deadline_agenda as agenda
from casework.models import CaseEvent, Deadline
from casework.services import deadlines as services
from tests import factories

pytestmark = pytest.mark.django_db


def page(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def form_data(**values):
    data = {
        "title": "Ricorso in Commissione tributaria",
        "kind": "tax",
        "trigger_date": "2026-07-15",
        "term_days": "60",
        "term_months": "",
        "responsible": "",
        "note": "",
    }
    data.update(values)
    return {f"deadline-{key}": value for key, value in data.items() if value is not None}


# --- The case page's panel ---------------------------------------------------------------------


def test_a_consultant_adds_a_60_day_tax_deadline_from_the_case_page(
    client, consultant, assigned_case
):
    client.force_login(consultant)
    case_url = reverse("work:case", args=[assigned_case.pk])
    assert 'action="{}"'.format(reverse("work:deadline_new", args=[assigned_case.pk])) in (
        client.get(case_url).content.decode()
    )

    response = client.post(
        reverse("work:deadline_new", args=[assigned_case.pk]), form_data(shared="on"), follow=True
    )

    assert response.status_code == 200
    (deadline,) = Deadline.objects.all()
    # 15 July + 60 days = Sunday 13 September 2026: Monday 14 September.
    assert deadline.due_on == date(2026, 9, 14) and deadline.shared
    assert deadline.responsible == consultant
    content = response.content.decode()
    assert "Deadline “Ricorso in Commissione tributaria” added" in content
    assert f'id="deadline-{deadline.pk}"' in content
    assert "shared with the cooperative" in content


def test_a_refused_deadline_shows_the_form_again_with_the_reason(client, consultant, assigned_case):
    client.force_login(consultant)
    url = reverse("work:deadline_new", args=[assigned_case.pk])

    for values, words in (
        ({"term_days": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"trigger_date": "9999-07-15"}, "The date must be between 1900 and 9998."),
        ({"term_months": "2"}, "Give the term in days or in months, not both."),
        ({"kind": "fixed"}, "give no term"),
        ({"title": ""}, "This field is required."),
        ({"trigger_date": "15/07/2026"}, "Enter a valid date."),
    ):
        response = client.post(url, form_data(**values))
        assert response.status_code == 400, values
        content = response.content.decode()
        assert words in content, (values, content[-3000:])
        assert 'aria-invalid="true"' in content

    assert not Deadline.objects.exists()


def test_the_consultant_changes_marks_done_and_reopens_a_deadline(
    client, consultant, add_deadline, assigned_case
):
    deadline = add_deadline(kind="judicial", trigger_date=date(2027, 7, 15), term_days=30)
    client.force_login(consultant)
    edit = reverse("work:deadline_edit", args=[deadline.pk])
    assert "Change the deadline" in client.get(edit).content.decode()

    prefixed = {
        key.replace("deadline-", f"deadline-{deadline.pk}-"): value
        for key, value in form_data(
            title=deadline.title, kind="judicial", trigger_date="2027-08-03", term_days="30"
        ).items()
    }
    response = client.post(edit, prefixed, follow=True)
    assert "saved: due on" in response.content.decode()
    deadline.refresh_from_db()
    assert deadline.due_on == date(2027, 9, 30)

    client.post(reverse("work:deadline_done", args=[deadline.pk]))
    deadline.refresh_from_db()
    assert deadline.status == "done"
    content = client.get(reverse("work:case", args=[assigned_case.pk])).content.decode()
    assert 'action="{}"'.format(reverse("work:deadline_reopen", args=[deadline.pk])) in content

    client.post(reverse("work:deadline_reopen", args=[deadline.pk]))
    deadline.refresh_from_db()
    assert deadline.status == "open"


def test_the_timeline_tells_the_deadlines_story(client, consultant, add_deadline, assigned_case):
    deadline = add_deadline(kind="judicial", trigger_date=date(2026, 7, 15), term_days=30)
    services.deadline_change(deadline=deadline, actor=consultant, trigger_date=date(2026, 8, 3))
    services.deadline_mark_done(deadline=deadline, actor=consultant)

    content = page(client, consultant, reverse("work:case", args=[assigned_case.pk]))
    content = content.content.decode()

    assert "Deadline added" in content
    assert "Due date: 14/09/2026 → 30/09/2026." in content
    assert "Changed: trigger date." in content
    assert "Deadline met" in content
    assert "is done." in content


def test_staff_of_another_area_cannot_reach_the_deadlines(
    client, fiscal_consultant_only, add_deadline, assigned_case
):
    deadline = add_deadline()
    client.force_login(fiscal_consultant_only)

    assert client.get(reverse("work:deadline_edit", args=[deadline.pk])).status_code == 404
    assert client.post(reverse("work:deadline_done", args=[deadline.pk])).status_code == 404
    assert client.get(reverse("work:deadline_new", args=[assigned_case.pk])).status_code == 404
    deadline.refresh_from_db()
    assert deadline.status == "open"


@pytest.mark.parametrize("url_name", ["work:deadlines", "work:deadline_edit", "work:deadline_done"])
def test_members_are_refused_the_staff_pages(client, member, add_deadline, url_name):
    deadline = add_deadline(shared=True)
    client.force_login(member)
    args = [] if url_name == "work:deadlines" else [deadline.pk]

    response = (client.post if url_name.endswith("done") else client.get)(
        reverse(url_name, args=args)
    )

    assert response.status_code == 403
    deadline.refresh_from_db()
    assert deadline.status == "open"


# --- The portal ----------------------------------------------------------------------------------


def test_the_portal_shows_the_shared_deadlines_only(client, member, add_deadline, assigned_case):
    add_deadline(title="Deposito del bilancio", shared=True, note="nota per lo staff")
    add_deadline(title="Verifica interna del fascicolo", shared=False)

    content = page(client, member, reverse("portal-case", args=[assigned_case.pk]))
    content = content.content.decode()

    assert "Deposito del bilancio" in content
    assert "Verifica interna del fascicolo" not in content
    assert "nota per lo staff" not in content
    assert reverse("calendar") in content
    # Their events are the staff's: the cooperative's timeline leaves them out.
    assert "Deadline added" not in content


def test_the_portal_shows_no_panel_without_shared_deadlines(client, member, assigned_case):
    content = page(client, member, reverse("portal-case", args=[assigned_case.pk]))

    assert 'id="deadlines"' not in content.content.decode()


# --- The Deadlines page ------------------------------------------------------------------------


def _make(add_deadline, *, days, **values):
    today = timezone.localdate()
    values.setdefault("title", f"Scadenza a {days} giorni")
    return add_deadline(kind="fixed", trigger_date=today + timedelta(days=days), **values)


def test_the_deadlines_page_sorts_missed_this_week_the_next_30_days_and_further(
    client, consultant, add_deadline, deadline_colleague
):
    with time_machine.travel("2026-12-02 10:00 +01:00"):  # a Wednesday
        missed = _make(add_deadline, days=-3)
        Deadline.objects.filter(pk=missed.pk).update(status="missed")
        late = _make(add_deadline, days=-1)  # open, its day gone: missed at the next sweep
        this_week = _make(add_deadline, days=4)  # Sunday 6 December
        next_week = _make(add_deadline, days=5)  # Monday 7 December
        far = _make(add_deadline, days=31)
        done = _make(add_deadline, days=2)
        services.deadline_mark_done(deadline=done, actor=consultant)
        colleagues = _make(add_deadline, days=1, responsible=deadline_colleague)

        content = page(client, consultant, reverse("work:deadlines")).content.decode()

    def section(heading_id):
        start = content.index(f'id="{heading_id}"')
        end = content.find("</section>", start)
        return content[start:end]

    def shown(deadline, where):
        return f'data-deadline="{deadline.pk}"' in section(where)

    assert shown(missed, "deadlines-missed") and shown(late, "deadlines-missed")
    assert shown(this_week, "deadlines-week") and not shown(next_week, "deadlines-week")
    assert shown(next_week, "deadlines-later")
    assert shown(far, "deadlines-further") and not shown(far, "deadlines-later")
    everywhere = "".join(
        section(f"deadlines-{where}") for where in ("missed", "week", "later", "further")
    )
    for absent in (done, colleagues):
        assert f'data-deadline="{absent.pk}"' not in everywhere
    assert reverse("work:case", args=[this_week.case_id]) in section("deadlines-week")


def test_further_ahead_lists_the_nearest_and_points_to_the_feed(client, consultant, add_deadline):
    with time_machine.travel("2026-12-02 10:00 +01:00"):
        rows = [_make(add_deadline, days=40 + n) for n in range(agenda.FURTHER_ROWS + 1)]

        content = page(client, consultant, reverse("work:deadlines")).content.decode()

    start = content.index('id="deadlines-further"')
    further = content[start : content.find("</section>", start)]
    assert all(f'data-deadline="{row.pk}"' in further for row in rows[:-1])
    assert f'data-deadline="{rows[-1].pk}"' not in further
    assert (
        f"Only the {agenda.FURTHER_ROWS} nearest deadlines further ahead are listed here" in content
    )
    assert reverse("calendar") in content[content.index('id="deadlines-further-more"') :]


def test_a_supervisor_sees_the_deadlines_of_the_areas_they_supervise(
    client, area_supervisor, add_deadline, open_case, other_area, other_member, office
):
    ours = _make(add_deadline, days=2)
    fiscal = factories.ConsultantFactory(
        user__username="consulente.fiscale.x", office=office, areas=[other_area], capacity=50
    ).user
    theirs_case = open_case(area=other_area, subject="IVA")
    theirs_case.refresh_from_db()
    theirs = services.deadline_add(
        case=theirs_case,
        actor=fiscal,
        title="Versamento IVA",
        kind="fixed",
        trigger_date=timezone.localdate() + timedelta(days=2),
    )

    content = page(client, area_supervisor, reverse("work:deadlines")).content.decode()

    assert f'data-deadline="{ours.pk}"' in content
    assert f'data-deadline="{theirs.pk}"' not in content


def test_the_page_filters_by_area(client, supervisor, add_deadline, other_area):
    deadline = _make(add_deadline, days=2)

    legal = page(client, supervisor, reverse("work:deadlines"), area="legal").content.decode()
    fiscal = page(client, supervisor, reverse("work:deadlines"), area="fiscal").content.decode()
    unknown = page(client, supervisor, reverse("work:deadlines"), area="nope")

    assert f'data-deadline="{deadline.pk}"' in legal
    assert f'data-deadline="{deadline.pk}"' not in fiscal
    assert unknown.status_code == 400
    assert "There is no practice area “nope”." in unknown.content.decode()


def test_the_deadlines_page_reads_the_same_number_of_queries_for_3_or_30_rows(
    client, supervisor, add_deadline, deadline_colleague, django_assert_max_num_queries
):
    client.force_login(supervisor)
    url = reverse("work:deadlines")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for n in range(3):
        _make(add_deadline, days=n - 1, responsible=deadline_colleague)
    few = count()
    for n in range(27):
        _make(add_deadline, days=n % 40 - 5)
    many = count()

    assert many == few
    with django_assert_max_num_queries(12):
        client.get(url)


def test_the_navigation_links_the_deadlines_page(client, consultant, member):
    assert reverse("work:deadlines") in (
        page(client, consultant, reverse("work:inbox")).content.decode()
    )
    assert reverse("work:deadlines") not in (
        page(client, member, reverse("portal-cases")).content.decode()
    )


def test_the_case_page_reads_no_more_queries_with_more_deadlines(
    client, consultant, add_deadline, assigned_case
):
    client.force_login(consultant)
    url = reverse("work:case", args=[assigned_case.pk])
    add_deadline()

    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(10):
        add_deadline(title=f"Scadenza {n}")
    with CaptureQueriesContext(connection) as eleven:
        client.get(url)

    # The timeline grows by ten events, which it reads in the same queries.
    assert len(eleven) == len(one)
    assert CaseEvent.objects.filter(case=assigned_case, kind="deadline_added").count() == 11


# --- The dashboard -------------------------------------------------------------------------------


def dashboard_panel(user) -> str:
    """The dashboard's deadline panel as the dashboard includes it, for `user`, in English."""
    request = RequestFactory().get(reverse("dashboard"))
    request.user = user
    with translation.override("en"):
        return render_to_string("dashboard/_deadlines.html", request=request)


def test_the_dashboard_includes_the_deadline_panel():
    source = Path(settings.BASE_DIR, "templates", "dashboard", "index.html").read_text()

    assert '{% include "dashboard/_deadlines.html" %}' in source


def test_the_dashboard_shows_missed_and_coming_deadlines(client, supervisor, add_deadline):
    missed = _make(add_deadline, days=-2, title="Bilancio non depositato")
    Deadline.objects.filter(pk=missed.pk).update(status="missed")
    coming = _make(add_deadline, days=3, title="Versamento F24")
    _make(add_deadline, days=20, title="Troppo lontana")

    content = dashboard_panel(supervisor)

    start = content.index('id="deadline-watch"')
    panel = content[start : content.index("</section>", start)]
    assert "Missed and coming deadlines" in panel
    assert 'data-figure="deadlines_missed">1<' in panel
    assert 'data-figure="deadlines_coming">1<' in panel
    assert "Bilancio non depositato" in panel and "Versamento F24" in panel
    assert "Troppo lontana" not in panel
    assert reverse("work:case", args=[coming.case_id]) in panel
