"""Saved views of the staff case list: saving, who sees them, deleting, the default view, and
views whose filters name something that is gone."""

import re

import pytest
from django.urls import reverse

from casework.models import SavedView, UserProfile
from tests import factories
from workflows import process

from .case_listing import URL, listed, references
from .conftest import work_task_of

pytestmark = pytest.mark.django_db

SAVE = "/work/cases/views/"
DEFAULT = "/work/cases/views/default/"


def save(client, name, filters="", shared_with_area=""):
    return client.post(
        SAVE, {"name": name, "filters": filters, "shared_with_area": shared_with_area}
    )


@pytest.fixture
def queued_case(open_case, other_member, other_cooperative, consultant):
    """A legal case of Cooperativa Beta back in the area's queue: nobody holds it."""
    case = open_case(other_member, other_cooperative, subject="Contratto di lavoro")
    process.task_release(task=work_task_of(case), actor=consultant)
    case.refresh_from_db()
    assert case.status == "unassigned"
    return case


def test_saving_the_current_filters_opens_the_saved_view(client, consultant, queued_case):
    client.force_login(consultant)

    response = save(client, "Da assegnare", "status=unassigned&sort=-opened")

    view = SavedView.objects.get(owner=consultant)
    assert view.filters == {"status": ["unassigned"], "sort": ["-opened"]}
    assert view.shared_with_area is None
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?view={view.pk}"
    page = client.get(response["Location"])
    assert "The view “Da assegnare” is saved." in page.content.decode()
    assert references(page) == [queued_case.reference]
    assert 'Cases <span class="muted">· Da assegnare</span>' in page.content.decode()


def test_the_save_form_carries_the_filters_of_the_page(client, consultant):
    client.force_login(consultant)

    page = client.get(URL, {"status": ["assigned", "waiting"], "q": "", "page": "1"})

    assert 'name="filters" value="status=assigned&amp;status=waiting"' in page.content.decode()


def test_a_private_view_is_not_seen_by_a_colleague(client, consultant, colleague):
    view = SavedView.objects.create(owner=consultant, name="Le mie", filters={"assignee": ["me"]})
    client.force_login(colleague)

    page = client.get(URL, {"all": "1"}).content.decode()
    opened = client.get(URL, {"view": view.pk})

    assert "Le mie" not in page
    assert "This saved view no longer exists, or is not shared with you." in (
        opened.content.decode()
    )
    assert "Le mie" not in opened.content.decode()


def test_a_view_shared_with_an_area_is_seen_by_its_staff_only(
    client, consultant, colleague, other_area_consultant, area_supervisor, area, queued_case
):
    client.force_login(consultant)
    save(client, "Coda legale", "status=unassigned", shared_with_area=str(area.pk))
    view = SavedView.objects.get(name="Coda legale")
    assert view.shared_with_area == area

    for person in (colleague, area_supervisor):
        client.force_login(person)
        page = client.get(URL, {"view": view.pk})
        assert "Coda legale" in page.content.decode()
        assert references(page) == [queued_case.reference]
        assert "by " in page.content.decode()

    client.force_login(other_area_consultant)
    assert "Coda legale" not in client.get(URL, {"all": "1"}).content.decode()


def test_one_may_share_only_with_ones_own_areas(client, consultant, other_area):
    client.force_login(consultant)

    response = save(client, "Fiscale", "status=assigned", shared_with_area=str(other_area.pk))

    assert response.status_code == 400
    assert "is not one of the available choices" in response.content.decode()
    assert not SavedView.objects.exists()


def test_names_are_unique_per_owner(client, consultant, colleague):
    client.force_login(consultant)
    save(client, "Urgenti", "priority=urgent")

    again = save(client, "Urgenti", "priority=high")

    assert again.status_code == 400
    assert "You already have a view named “Urgenti”: choose another name." in (
        again.content.decode()
    )
    client.force_login(colleague)
    assert save(client, "Urgenti", "priority=urgent").status_code == 302
    assert SavedView.objects.filter(name="Urgenti").count() == 2


def test_filters_that_are_not_valid_cannot_be_saved(client, consultant):
    client.force_login(consultant)

    response = save(client, "Sbagliata", "status=archived")

    assert response.status_code == 400
    assert "Correct the filters before saving them as a view." in response.content.decode()
    assert not SavedView.objects.exists()


def test_one_deletes_ones_own_views_only(client, consultant, colleague, area):
    mine = SavedView.objects.create(owner=consultant, name="Mia", shared_with_area=area)
    client.force_login(colleague)

    assert client.post(reverse("work:case_view_delete", args=[mine.pk])).status_code == 404
    client.force_login(consultant)
    response = client.post(reverse("work:case_view_delete", args=[mine.pk]))

    assert response.status_code == 302
    assert not SavedView.objects.exists()


def test_the_page_offers_delete_only_for_ones_own_views(client, consultant, colleague, area):
    SavedView.objects.create(owner=colleague, name="Di Carla", shared_with_area=area)
    SavedView.objects.create(owner=consultant, name="Mia")
    client.force_login(consultant)

    page = client.get(URL).content.decode()

    assert "Di Carla" in page and "Mia" in page
    assert page.count(">Delete<") == 1


def test_the_default_view_opens_with_the_list_and_all_shows_everything(
    client, consultant, assigned_case, queued_case
):
    view = SavedView.objects.create(
        owner=consultant, name="Da assegnare", filters={"status": ["unassigned"]}
    )
    client.force_login(consultant)

    response = client.post(DEFAULT, {"view": view.pk, "next": URL})

    assert response.status_code == 302
    assert UserProfile.objects.get(user=consultant).default_view == view
    default = client.get(URL)
    assert references(default) == [queued_case.reference]
    assert "your default" in default.content.decode()
    everything = client.get(URL, {"all": "1"})
    assert sorted(references(everything)) == sorted(
        [assigned_case.reference, queued_case.reference]
    )
    # The default view's pages and column headers keep its filters.
    header = re.search(r'<a href="([^"]+)">Reference</a>', default.content.decode()).group(1)
    assert "status=unassigned" in header and f"view={view.pk}" in header


def test_the_default_can_be_set_back_to_every_case(client, consultant, assigned_case):
    view = SavedView.objects.create(owner=consultant, name="Vuota", filters={"status": ["closed"]})
    UserProfile.objects.create(user=consultant, default_view=view)
    client.force_login(consultant)
    assert listed(client) == []

    client.post(DEFAULT, {"view": ""})

    assert UserProfile.objects.get(user=consultant).default_view is None
    assert listed(client) == [assigned_case.reference]


def test_a_colleagues_private_view_cannot_be_made_ones_default(client, consultant, colleague):
    view = SavedView.objects.create(owner=colleague, name="Privata")
    client.force_login(consultant)

    assert client.post(DEFAULT, {"view": view.pk}).status_code == 404
    assert not UserProfile.objects.filter(user=consultant, default_view=view).exists()


def test_a_default_view_no_longer_shared_opens_the_whole_list(
    client, consultant, colleague, area, assigned_case
):
    view = SavedView.objects.create(
        owner=colleague, name="Condivisa", filters={"status": ["closed"]}, shared_with_area=area
    )
    UserProfile.objects.create(user=consultant, default_view=view)
    view.shared_with_area = None
    view.save()
    client.force_login(consultant)

    assert listed(client) == [assigned_case.reference]


def test_a_view_naming_what_is_gone_opens_with_its_valid_filters_and_says_so(
    client, consultant, assigned_case, queued_case
):
    gone = factories.AreaFactory(code="tributi", name="Tributi", reference_prefix="TRI")
    view = SavedView.objects.create(
        owner=consultant,
        name="Vecchia",
        filters={
            "status": ["unassigned", "archived"],
            "area": ["tributi"],
            "colour": ["red"],
            "opened_from": ["not a date"],
        },
    )
    gone.delete()
    client.force_login(consultant)

    response = client.get(URL, {"view": view.pk})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Some filters of the view “Vecchia” no longer apply and were left out:" in page
    for words in ("colour", "Status: archived", "Area: tributi", "Opened from: not a date"):
        assert words in page
    assert references(response) == [queued_case.reference]


def test_a_stored_view_with_values_of_the_wrong_shape_still_opens(client, consultant):
    view = SavedView.objects.create(
        owner=consultant, name="Strana", filters={"status": "assigned", "priority": [1, None]}
    )
    client.force_login(consultant)

    response = client.get(URL, {"view": view.pk})

    assert response.status_code == 200
    assert "Priority: 1, None" in response.content.decode()


def test_a_colleagues_shared_view_is_offered_in_one_select_opens_and_can_become_the_default(
    client, consultant, area, assigned_case, queued_case, colleague
):
    # (The cases first: with the colleague in the area, routing could give them one.)
    shared = SavedView.objects.create(
        owner=colleague,
        name="Da assegnare",
        filters={"status": ["unassigned"]},
        shared_with_area=area,
    )
    client.force_login(consultant)

    page = client.get(URL).content.decode()
    # Offered as an option of the shared views' select, not as a list entry with its forms.
    assert re.search(
        rf'<option value="{shared.pk}">Da assegnare \([^)]+, by [^)]+\)</option>', page
    )
    assert ">Delete<" not in page

    opened = client.get(URL, {"view": shared.pk})
    assert references(opened) == [queued_case.reference]
    assert f'<option value="{shared.pk}" selected>' in opened.content.decode()
    assert "Make “Da assegnare” my default" in opened.content.decode()

    response = client.post(DEFAULT, {"view": shared.pk, "next": URL})
    assert response.status_code == 302
    default = client.get(URL)
    assert references(default) == [queued_case.reference]
    assert "Your default: Da assegnare" in default.content.decode()
    assert "Make “Da assegnare” my default" not in default.content.decode()


def test_a_view_shared_with_an_area_one_is_not_in_is_neither_offered_nor_opened(
    client, consultant, colleague, assigned_case
):
    other_area = factories.AreaFactory(code="fiscal", reference_prefix="FIS")
    hidden = SavedView.objects.create(owner=colleague, name="Altrui", shared_with_area=other_area)
    client.force_login(consultant)

    assert "Altrui" not in client.get(URL).content.decode()
    opened = client.get(URL, {"view": hidden.pk})
    assert "This saved view no longer exists, or is not shared with you." in (
        opened.content.decode()
    )
