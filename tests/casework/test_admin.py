"""The Django admin: pages open for administrators only, and bad registry data is refused."""

from datetime import datetime

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casework import models
from tests import factories

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
OWN_APPS = {"casework", "auth"}
# Written only by the services (or the audit trail): no add page, no edit in the admin.
NOT_ADDABLE = {
    models.Case,
    models.CaseEvent,
    models.Rating,
    models.Notification,
    models.CaseCounter,
    models.IdempotencyKey,
    models.CaseAccess,
    models.CaseRead,
    models.Heartbeat,
    models.InboundEmail,
    models.Deadline,
    models.TimeEntry,
    models.Estimate,
}


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _ids(items):
    return [model._meta.label for model, _ in items]


def _management(prefix, total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _errors(response) -> str:
    """Every error the admin page shows: the main form, the inlines and their non-form errors."""
    context = response.context
    messages = [str(error) for error in context["adminform"].form.errors.values()]
    for inline in context.get("inline_admin_formsets", []):
        messages += [str(error) for error in inline.formset.errors]
        messages += [str(error) for error in inline.formset.non_form_errors()]
    return " ".join(messages)


# --- Every page opens for an administrator ------------------------------------------------------


def test_every_casework_model_is_in_the_admin():
    registered = {model for model, _ in REGISTERED}
    shown_as_inlines = {
        models.OpeningHours,
        models.Closure,
        models.Message,
        models.Attachment,
        models.SlaPause,
        models.DeadlineReminder,
        models.CaseParticipant,
        models.ServicePlanArea,
    }
    # A model added to models.py must be given an admin (or an inline) on purpose.
    for model in models.Case._meta.apps.get_app_config("casework").get_models():
        assert model in registered or model in shown_as_inlines, model


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=_ids(REGISTERED))
def test_changelist_opens_for_administrator(admin_browser, registry_sample, model, model_admin):
    response = admin_browser.get(_url(model, "changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=_ids(REGISTERED))
def test_add_page_opens_unless_rows_come_from_the_services(
    admin_browser, admin_user, model, model_admin
):
    request = RequestFactory().get("/")
    request.user = admin_user
    expected = 200 if model_admin.has_add_permission(request) else 403

    response = admin_browser.get(_url(model, "add"))

    assert response.status_code == expected
    if model in NOT_ADDABLE:
        assert expected == 403
    elif model._meta.app_label in OWN_APPS:
        assert expected == 200


OWN = [
    (model, model_admin) for model, model_admin in REGISTERED if model._meta.app_label in OWN_APPS
]


@pytest.mark.parametrize(("model", "model_admin"), OWN, ids=_ids(OWN))
def test_change_page_opens_for_administrator(admin_browser, registry_sample, model, model_admin):
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, "registry_sample must hold a row of every model"

    response = admin_browser.get(_url(model, "change", obj.pk))

    assert response.status_code == 200


def test_admin_header_names_sportello(admin_browser):
    response = admin_browser.get(reverse("admin:index"))

    assert "Sportello administration" in response.text


# --- Nobody else gets in -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "consultant", "supervisor"])
def test_other_roles_are_sent_to_the_admin_login(request, browser_as, registry_sample, role):
    browser = browser_as(request.getfixturevalue(role))

    for model, _model_admin in REGISTERED:
        for view in ("changelist", "add"):
            response = browser.get(_url(model, view))
            assert response.status_code in (302, 403), (model, view)
            if response.status_code == 302:
                assert response.url.startswith(reverse("admin:login")), (model, view)


# --- People and roles ----------------------------------------------------------------------------


def _consultant_data(user, office, areas=(), specialties=()):
    return {
        "user": str(user.pk),
        "office": str(office.pk),
        "areas": [str(area.pk) for area in areas],
        "specialties": [str(specialty.pk) for specialty in specialties],
        "capacity": "10",
        "is_active": "on",
    }


def test_consultant_without_area_is_refused(admin_browser, office):
    user = factories.UserFactory(username="nuovo.consulente")

    response = admin_browser.post(_url(models.Consultant, "add"), _consultant_data(user, office))

    assert response.status_code == 200
    assert "A consultant needs at least one practice area." in _errors(response)
    assert not models.Consultant.objects.exists()


def test_consultant_specialty_of_another_area_is_refused(admin_browser, office, area):
    user = factories.UserFactory(username="nuovo.consulente")
    fiscal = factories.AreaFactory(code="fiscal", name="Fiscale", reference_prefix="FIS")
    vat = factories.SpecialtyFactory(area=fiscal, name="IVA")

    response = admin_browser.post(
        _url(models.Consultant, "add"),
        _consultant_data(user, office, areas=[area], specialties=[vat]),
    )

    assert response.status_code == 200
    assert "IVA" in _errors(response)
    assert "areas the consultant does not work in" in _errors(response)
    assert not models.Consultant.objects.exists()


def test_consultant_with_area_and_its_specialty_is_saved(admin_browser, office, area):
    user = factories.UserFactory(username="nuovo.consulente")
    contracts = factories.SpecialtyFactory(area=area, name="Contratti")

    response = admin_browser.post(
        _url(models.Consultant, "add"),
        _consultant_data(user, office, areas=[area], specialties=[contracts]),
    )

    assert response.status_code == 302
    saved = models.Consultant.objects.get(user=user)
    assert list(saved.areas.all()) == [area]
    assert list(saved.specialties.all()) == [contracts]


def test_supervisor_needs_every_area_or_some_area(admin_browser, area):
    user = factories.UserFactory(username="nuovo.supervisore")
    url = _url(models.Supervisor, "add")

    refused = admin_browser.post(url, {"user": str(user.pk)})
    saved = admin_browser.post(url, {"user": str(user.pk), "areas": [str(area.pk)]})

    assert refused.status_code == 200
    assert "Choose at least one practice area" in _errors(refused)
    assert saved.status_code == 302
    assert list(models.Supervisor.objects.get(user=user).areas.all()) == [area]


def test_supervisor_of_every_area_needs_no_area(admin_browser):
    user = factories.UserFactory(username="nuovo.supervisore")

    response = admin_browser.post(
        _url(models.Supervisor, "add"), {"user": str(user.pk), "all_areas": "on"}
    )

    assert response.status_code == 302
    assert models.Supervisor.objects.get(user=user).all_areas


def _membership_data(user, cooperative):
    return {"user": str(user.pk), "cooperative": str(cooperative.pk), "role": "member"}


def test_second_membership_of_same_person_and_cooperative_is_refused(
    admin_browser, member, cooperative
):
    response = admin_browser.post(
        _url(models.Membership, "add"), _membership_data(member, cooperative)
    )

    assert response.status_code == 200
    assert "already a member of this cooperative" in _errors(response)
    assert models.Membership.objects.filter(user=member).count() == 1


def _cooperative_data(cooperative, **changes):
    data = {
        "name": cooperative.name,
        "tax_code": cooperative.tax_code,
        "office": str(cooperative.office_id),
        "sector": str(cooperative.sector_id),
        "membership_status": cooperative.membership_status,
        "joined_on": "",
        "city": cooperative.city,
        "email": cooperative.email,
    }
    data.update(changes)
    return data


def test_duplicate_membership_in_the_cooperative_page_is_refused(
    admin_browser, member, cooperative
):
    existing = models.Membership.objects.get(user=member, cooperative=cooperative)
    created_at = datetime(2026, 1, 1, 10, 0)
    data = _cooperative_data(cooperative)
    data.update(_management("memberships", total=2, initial=1))
    data.update(
        {
            "memberships-0-id": str(existing.pk),
            "memberships-0-cooperative": str(cooperative.pk),
            "memberships-0-user": str(member.pk),
            "memberships-0-role": existing.role,
            "memberships-0-created_at_0": created_at.strftime("%Y-%m-%d"),
            "memberships-0-created_at_1": created_at.strftime("%H:%M:%S"),
            "memberships-1-cooperative": str(cooperative.pk),
            "memberships-1-user": str(member.pk),
            "memberships-1-role": "referent",
            "memberships-1-created_at_0": created_at.strftime("%Y-%m-%d"),
            "memberships-1-created_at_1": created_at.strftime("%H:%M:%S"),
        }
    )

    response = admin_browser.post(_url(models.Cooperative, "change", cooperative.pk), data)

    assert response.status_code == 200
    assert "Please correct the duplicate data for user." in _errors(response)
    assert models.Membership.objects.filter(user=member).count() == 1


def test_user_page_refuses_a_consultant_without_area(admin_browser, office):
    user = factories.UserFactory(username="persona")
    joined = user.date_joined.astimezone()
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        **_management("memberships"),
        **_management("consultant", total=1),
        "consultant-0-office": str(office.pk),
        "consultant-0-capacity": "10",
        "consultant-0-is_active": "on",
        **_management("supervisor"),
        **_management("profile"),
    }

    response = admin_browser.post(_url(get_user_model(), "change", user.pk), data)

    assert response.status_code == 200
    assert "A consultant needs at least one practice area." in _errors(response)
    assert not models.Consultant.objects.exists()


def test_administrator_creates_a_person_and_makes_them_a_consultant(admin_browser, office, area):
    data = {
        "username": "nuova.consulente",
        "usable_password": "true",
        "password1": "una-password-lunga-2026",
        "password2": "una-password-lunga-2026",
        **_management("memberships"),
        **_management("consultant", total=1),
        "consultant-0-office": str(office.pk),
        "consultant-0-areas": [str(area.pk)],
        "consultant-0-capacity": "12",
        "consultant-0-is_active": "on",
        **_management("supervisor"),
        **_management("profile"),
    }

    response = admin_browser.post(_url(get_user_model(), "add"), data)

    assert response.status_code == 302, _errors(response)
    consultant = models.Consultant.objects.get(user__username="nuova.consulente")
    assert list(consultant.areas.all()) == [area]
    assert consultant.capacity == 12
    assert not consultant.user.is_staff


# --- Cooperatives --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tax_code", "fragment"),
    [("00488410011", "check digit"), ("1234", "11 digits"), ("IT ABCDEFGHIJK", "11 digits")],
)
def test_cooperative_with_invalid_tax_code_is_refused(admin_browser, office, tax_code, fragment):
    sector = factories.SectorFactory()
    data = {
        "name": "Cooperativa Gamma",
        "tax_code": tax_code,
        "office": str(office.pk),
        "sector": str(sector.pk),
        "membership_status": "active",
        **_management("memberships"),
    }

    response = admin_browser.post(_url(models.Cooperative, "add"), data)

    assert response.status_code == 200
    assert fragment in _errors(response)
    assert not models.Cooperative.objects.filter(name="Cooperativa Gamma").exists()


def test_cooperative_tax_code_is_stored_without_spaces_and_prefix(admin_browser, office):
    sector = factories.SectorFactory()
    data = {
        "name": "Cooperativa Gamma",
        "tax_code": "it 00488410010 ",
        "office": str(office.pk),
        "sector": str(sector.pk),
        "membership_status": "active",
        **_management("memberships"),
    }

    response = admin_browser.post(_url(models.Cooperative, "add"), data)

    assert response.status_code == 302
    assert models.Cooperative.objects.get(name="Cooperativa Gamma").tax_code == "00488410010"


def test_cooperative_tax_code_already_registered_is_refused(admin_browser, cooperative):
    data = _cooperative_data(
        cooperative, name="Cooperativa Gamma", tax_code=f"IT {cooperative.tax_code}"
    )
    data.update(_management("memberships"))

    response = admin_browser.post(_url(models.Cooperative, "add"), data)

    assert response.status_code == 200
    assert "tax_code" in response.context["adminform"].form.errors


# --- SLA configuration ---------------------------------------------------------------------------


def _policy_data(area, **changes):
    data = {
        "area": str(area.pk),
        "priority": "high",
        "first_response_minutes": "60",
        "resolution_minutes": "600",
        "warning_percent": "75",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("percent", ["0", "150"])
def test_policy_warning_threshold_outside_1_100_is_refused(admin_browser, area, percent):
    response = admin_browser.post(
        _url(models.SlaPolicy, "add"), _policy_data(area, warning_percent=percent)
    )

    assert response.status_code == 200
    assert "warning_percent" in response.context["adminform"].form.errors
    assert not models.SlaPolicy.objects.exists()


def test_policy_first_response_longer_than_resolution_is_refused(admin_browser, area):
    response = admin_browser.post(
        _url(models.SlaPolicy, "add"), _policy_data(area, first_response_minutes="900")
    )

    assert response.status_code == 200
    assert "cannot be longer than the resolution target" in _errors(response)


def test_triage_rule_with_specialty_of_another_area_is_refused(admin_browser, area):
    fiscal = factories.AreaFactory(code="fiscal", name="Fiscale", reference_prefix="FIS")
    vat = factories.SpecialtyFactory(area=fiscal, name="IVA")

    response = admin_browser.post(
        _url(models.TriageRule, "add"),
        {"area": str(area.pk), "specialty": str(vat.pk), "priority": "high", "position": "1"},
    )

    assert response.status_code == 200
    assert "The specialty belongs to another area." in _errors(response)


def test_overlapping_opening_hours_are_refused(admin_browser, office):
    calendar = models.BusinessCalendar.objects.create(office=office)
    data = {
        "office": str(office.pk),
        "observe_national_holidays": "on",
        "observe_patron_day": "on",
        **_management("opening_hours", total=2),
        "opening_hours-0-weekday": "0",
        "opening_hours-0-opens_at": "09:00",
        "opening_hours-0-closes_at": "13:00",
        "opening_hours-1-weekday": "0",
        "opening_hours-1-opens_at": "12:00",
        "opening_hours-1-closes_at": "18:00",
        **_management("closures"),
    }

    response = admin_browser.post(_url(models.BusinessCalendar, "change", calendar.pk), data)

    assert response.status_code == 200
    assert "Opening hours of Monday overlap." in _errors(response)
    assert not calendar.opening_hours.exists()


# --- Cases: found and read here, worked in the app ---------------------------------------------


def _case_data(case, **changes):
    data = {
        "specialty": str(case.specialty_id or ""),
        "subject": case.subject,
        "description": case.description,
        "resolution_summary": case.resolution_summary,
        **_management("messages", total=1, initial=1),
        "messages-0-id": str(case.messages.get().pk),
        "messages-0-case": str(case.pk),
        "messages-0-body": case.messages.get().body,
        **_management("attachments", total=1, initial=1),
        **_management("participant_links", total=1, initial=1),
        **_management("sla_pauses", total=1, initial=1),
        **_management("rating", total=1, initial=1),
        **_management("events", total=1, initial=1),
    }
    data.update(changes)
    return data


def test_case_wording_can_be_corrected_but_not_its_state(admin_browser, registry_sample):
    case = registry_sample
    url = _url(models.Case, "change", case.pk)

    response = admin_browser.post(
        url,
        _case_data(
            case,
            subject="Verifica del contratto di appalto",
            status="triage",
            assignee="",
            priority="urgent",
            sla_state="breached",
        ),
    )

    assert response.status_code == 302, _errors(response)
    case.refresh_from_db()
    assert case.subject == "Verifica del contratto di appalto"
    assert case.status == models.CaseStatus.CLOSED
    assert case.priority == models.Priority.NORMAL
    assert case.sla_state == models.SlaState.ON_TRACK
    assert case.assignee is not None


def test_case_cannot_be_added_or_deleted_in_the_admin(admin_browser, registry_sample):
    assert admin_browser.get(_url(models.Case, "add")).status_code == 403
    assert admin_browser.get(_url(models.Case, "delete", registry_sample.pk)).status_code == 403
    assert models.Case.objects.filter(pk=registry_sample.pk).exists()


def test_case_events_are_append_only(admin_browser, registry_sample):
    event = registry_sample.events.get()

    assert admin_browser.get(_url(models.CaseEvent, "add")).status_code == 403
    assert admin_browser.get(_url(models.CaseEvent, "delete", event.pk)).status_code == 403
    changed = admin_browser.post(_url(models.CaseEvent, "change", event.pk), {"note": "edited"})
    assert changed.status_code == 403
    event.refresh_from_db()
    assert event.note == ""


def test_case_changelist_queries_do_not_grow_with_rows(admin_browser, registry_sample):
    def create_cases(count, start):
        for number in range(start, start + count):
            models.Case.objects.create(
                reference=f"LEG-2026-{number:06d}",
                cooperative=registry_sample.cooperative,
                area=registry_sample.area,
                subject=f"Richiesta {number}",
                description="Testo",
                status=models.CaseStatus.ASSIGNED,
                assignee=factories.UserFactory(),
            )

    url = _url(models.Case, "changelist")
    create_cases(2, start=10)
    with CaptureQueriesContext(connection) as few:
        assert admin_browser.get(url).status_code == 200
    create_cases(20, start=100)
    with CaptureQueriesContext(connection) as many:
        assert admin_browser.get(url).status_code == 200

    assert len(many) == len(few)


@pytest.mark.parametrize("model", [models.Case, models.CaseEvent])
def test_big_changelists_skip_the_full_count(model):
    assert admin.site._registry[model].show_full_result_count is False


@pytest.mark.django_db
def test_every_app_and_model_of_the_admin_is_named_in_italian_and_in_english(admin_client):
    """Issue 20: the Italian admin showed "Access attempts", "Case counters", "AXES"."""
    names = {}
    for language in ("it", "en"):
        page = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE=language)
        names[language] = {
            (app["app_label"], model["object_name"]): (str(app["name"]), str(model["name"]))
            for app in page.context["app_list"]
            for model in app["models"]
        }

    assert names["it"].keys() == names["en"].keys() and len(names["it"]) > 40
    same = [
        (key, names["it"][key])
        for key in names["it"]
        if names["it"][key][0] == names["en"][key][0] or names["it"][key][1] == names["en"][key][1]
    ]
    assert same == []
    assert names["it"][("casework", "CaseCounter")] == (
        "Pratiche e anagrafica",
        "Contatori delle pratiche",
    )
    assert names["it"][("axes", "AccessAttempt")][0] == "Blocchi degli accessi"
