"""The language switch in the header, and the staff pages a cooperative member may not open."""

import re

import pytest
from playwright.sync_api import expect

from casework.models import Case
from tests.browser.helpers import log_in, open_fiscal_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_switches_to_english_and_back(registry, new_page):
    page = new_page()
    log_in(page, "socio.alfa")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", name="Pratiche di Cooperativa Alfa")).to_be_visible()

    # When: English is chosen in the header's language menu.
    page.get_by_label("Lingua").select_option(label="English")

    # Then: the same page in English, and the next page too.
    expect(page).to_have_url(re.compile(r"/cases/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Cases of Cooperativa Alfa")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Our cases")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    nav.get_by_role("link", name="Open a case").click()
    expect(page.get_by_role("heading", name="Open a case", level=1)).to_be_visible()
    expect(page.get_by_label("Practice area")).to_be_visible()
    expect(page.get_by_role("button", name="Open the case")).to_be_visible()

    # When: back to Italian, from the page where the person is.
    page.get_by_label("Language").select_option(label="Italiano")

    # Then: Italian again, on the same page.
    expect(page).to_have_url(re.compile(r"/cases/new/$"))
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", name="Apri una pratica", level=1)).to_be_visible()
    expect(page.get_by_label("Area di competenza")).to_be_visible()


def test_member_is_refused_the_staff_pages(registry, new_page):
    case = open_fiscal_case()
    page = new_page()
    log_in(page, "socio.alfa")

    # The portal offers no way into the staff pages...
    nav = page.get_by_role("navigation", name="Principale")
    expect(nav.get_by_role("link", name="Le nostre pratiche")).to_be_visible()
    for staff_link in ("Cruscotto", "Le mie attività", "Coda"):
        expect(nav.get_by_role("link", name=staff_link)).to_have_count(0)

    # ...and typing their addresses is refused, even for the member's own case.
    for path in ("/work/", "/work/queue/", f"/work/cases/{case.pk}/", "/dashboard/"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_text("Liquidazione IVA")).to_have_count(0)
    assert Case.objects.get(pk=case.pk).status == "assigned"


def test_logged_out_visitor_is_sent_to_the_login_page(new_page):
    page = new_page()
    for path in ("/work/", "/dashboard/"):
        page.goto(path)
        expect(page).to_have_url(re.compile(rf"/login/\?next={re.escape(path)}$"))
        expect(page.get_by_role("heading", name="Accedi a Sportello")).to_be_visible()
