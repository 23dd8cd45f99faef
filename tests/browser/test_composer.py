"""The case page's composer in a real browser: a reply with a canned text and a PDF, an internal
note, a request for information, and a resolution whose error keeps the focus on its field.

The names are looked up in the Italian catalogue (the browser asks for Italian pages), so the
tests hold whether or not a string has been translated yet.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from casework.models import Attachment, CaseStatus, Message
from tests.browser.helpers import PDF_BYTES, log_in, open_fiscal_case, t

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open_case_as_its_consultant(new_page, case) -> tuple[Page, object]:
    page = new_page()
    log_in(page, case.assignee.username)
    page.goto(f"/work/cases/{case.pk}/")
    composer = page.get_by_role("region", name=t("Write on the case"))
    expect(composer).to_be_visible()
    return page, composer


def test_a_reply_with_a_canned_text_and_a_pdf(registry, new_page):
    case = open_fiscal_case()
    page, composer = _open_case_as_its_consultant(new_page, case)

    # The canned reply goes into the text, filled with the case's names, and the text keeps it.
    composer.get_by_label(t("Canned reply")).select_option(label="Presa in carico")
    composer.get_by_role("button", name=t("Insert")).click()
    text = composer.get_by_role("textbox", name=t("Reply to the cooperative"))
    expect(text).to_be_focused()
    expect(text).to_have_value(
        re.compile(rf"abbiamo preso in carico la pratica {case.reference} di Cooperativa Alfa")
    )
    text.press("End")
    text.press_sequentially("\nIn allegato il parere.")
    composer.get_by_label(f"{t('Documents')}:", exact=True).set_input_files(
        {"name": "parere-iva.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    composer.get_by_role("button", name=t("Send the reply")).click()

    expect(
        page.get_by_text(t("Reply sent on %(reference)s.") % {"reference": case.reference})
    ).to_be_visible()
    timeline = page.get_by_role("region", name=t("Timeline"))
    expect(timeline).to_contain_text("In allegato il parere.")
    expect(timeline.get_by_role("link", name="parere-iva.pdf", exact=True)).to_be_visible()
    expect(timeline.get_by_role("link", name=t("Preview"))).to_have_attribute(
        "href", re.compile(r"\?inline=1$")
    )
    message = Message.objects.get(case=case, body__contains="In allegato il parere.")
    assert message.internal is False
    document = Attachment.objects.get(case=case, original_name="parere-iva.pdf")
    assert document.message == message and document.internal is False


def test_an_internal_note(registry, new_page):
    case = open_fiscal_case()
    page, composer = _open_case_as_its_consultant(new_page, case)

    composer.get_by_role("radio", name=t("Internal note")).check()
    # The text and the button say what is being sent now.
    composer.get_by_role("textbox", name=t("Internal note")).fill("Sentire il collega del lavoro.")
    composer.get_by_role("button", name=t("Add the note")).click()

    expect(
        page.get_by_text(t("Internal note added to %(reference)s.") % {"reference": case.reference})
    ).to_be_visible()
    expect(page.get_by_role("region", name=t("Timeline"))).to_contain_text(
        "Sentire il collega del lavoro."
    )
    assert Message.objects.get(case=case, body="Sentire il collega del lavoro.").internal is True


def test_a_request_for_information(registry, new_page):
    case = open_fiscal_case()
    page, composer = _open_case_as_its_consultant(new_page, case)

    composer.get_by_role("radio", name=t("Ask the cooperative for information")).check()
    composer.get_by_role("textbox", name=t("What the cooperative should send or answer")).fill(
        "Ci mandate i registri IVA del trimestre?"
    )
    composer.get_by_role("button", name=t("Send the request")).click()

    expect(
        page.get_by_text(
            t("%(reference)s now waits for the cooperative's answer.")
            % {"reference": case.reference}
        )
    ).to_be_visible()
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING


def test_resolving_without_a_summary_shows_the_error_beside_it_and_focuses_it(registry, new_page):
    case = open_fiscal_case()
    page, composer = _open_case_as_its_consultant(new_page, case)
    composer.get_by_role("radio", name=t("Resolve")).check()
    composer.get_by_label(t("Outcome of the resolution")).select_option(
        label="Calcolo o simulazione fornita"
    )
    composer.get_by_label(t("Minutes spent")).fill("30")

    composer.get_by_role("button", name=t("Resolve the case")).click()

    # The browser lands on the composer, the error beside the summary, which has the focus.
    expect(page).to_have_url(re.compile(r"/compose/#composer$"))
    summary = composer.get_by_role("textbox", name=t("Summary for the cooperative"))
    expect(summary).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "id_composer-body"
    expect(summary).to_have_attribute("aria-invalid", "true")
    expect(composer.locator("#id_composer-body_errors")).to_have_text(
        t("Write the summary for the cooperative.")
    )
    expect(summary).to_have_attribute(
        "aria-describedby", re.compile(r"\bid_composer-body_errors\b")
    )
    # What was chosen is kept.
    expect(composer.get_by_role("radio", name=t("Resolve"))).to_be_checked()
    expect(composer.get_by_label(t("Minutes spent"))).to_have_value("30")
    case.refresh_from_db()
    assert case.status == CaseStatus.ASSIGNED

    summary.fill("Il calcolo è corretto: versate entro il 16.")
    composer.get_by_role("button", name=t("Resolve the case")).click()

    expect(
        page.get_by_text(
            t("%(reference)s is resolved; the cooperative is asked to confirm.")
            % {"reference": case.reference}
        )
    ).to_be_visible()
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.minutes_spent == 30
