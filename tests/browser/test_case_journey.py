"""A fiscal case from the portal's guided form to the member's rating, in a real browser."""

import re

import pytest
from playwright.sync_api import Page, expect

from casework.models import Attachment, Case, CaseStatus, Rating
from tests.browser.helpers import MEMBER, PDF_BYTES, log_in, open_fiscal_case, t

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def case_row(page: Page, reference: str):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=reference))


def test_member_opens_a_fiscal_case_with_a_document_and_sees_it_listed(registry, new_page):
    page = new_page()
    log_in(page, MEMBER)
    expect(page).to_have_url(re.compile(r"/cases/$"))
    expect(page.get_by_role("heading", name="Pratiche di Cooperativa Alfa")).to_be_visible()

    # When: the guided form, area first, then the specialty and what is needed, with a PDF.
    page.get_by_role("navigation", name="Principale").get_by_role(
        "link", name="Apri una pratica"
    ).click()
    expect(page.get_by_role("heading", name="Apri una pratica", level=1)).to_be_visible()
    page.get_by_label("Area di competenza").select_option(label="Fiscale e tributario")
    expect(
        page.get_by_text("Documenti solitamente necessari per Fiscale e tributario")
    ).to_be_visible()
    expect(page.get_by_text("Documenti solitamente necessari per Legale")).to_be_hidden()
    specialty = page.get_by_label("Specializzazione (facoltativa)")
    expect(specialty).to_be_enabled()
    # Only the chosen area's specialties are offered.
    expect(specialty.get_by_role("option", name="Diritto societario cooperativo")).to_have_count(0)
    specialty.select_option(label="IVA e fatturazione elettronica")
    page.get_by_label("Oggetto").fill("Liquidazione IVA in scadenza")
    page.get_by_role("textbox", name="Di che cosa hai bisogno?").fill(
        "La scadenza della liquidazione trimestrale è vicina: come procediamo?"
    )
    page.get_by_label("Documenti:", exact=True).set_input_files(
        {"name": "registro-iva.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    page.get_by_role("button", name="Apri la pratica").click()

    # Then: the case page confirms it, with the document and who will answer.
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.select_related("assignee").get(subject="Liquidazione IVA in scadenza")
    assert page.url.endswith(f"/cases/{case.pk}/")
    expect(page.get_by_text(f"La tua pratica {case.reference} è stata aperta.")).to_be_visible()
    # Routed straight to a fiscal consultant: the area's rule on "scadenza" set the priority.
    assert case.assignee.consultant.areas.filter(code="fiscal").exists()
    assert case.priority == "high"
    assert Attachment.objects.filter(case=case, original_name="registro-iva.pdf").exists()
    expect(page.get_by_role("link", name="registro-iva.pdf")).to_be_visible()
    summary = page.get_by_role("region", name="Sintesi")
    expect(summary).to_contain_text(case.assignee.get_full_name())
    expect(summary).to_contain_text("Alta")

    # And: the list shows it with its status and the SLA in words.
    page.get_by_role("navigation", name="Principale").get_by_role(
        "link", name="Le nostre pratiche"
    ).click()
    row = case_row(page, case.reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Liquidazione IVA in scadenza")
    expect(row).to_contain_text("Fiscale e tributario")
    expect(row.get_by_role("cell", name="Assegnata")).to_be_visible()
    expect(row).to_contain_text("Nei tempi")
    expect(row).to_contain_text(re.compile(r"Prima risposta attesa entro \S+"))


def test_consultant_asks_member_answers_consultant_resolves_member_confirms_and_rates(
    registry, new_page
):
    case = open_fiscal_case()
    consultant_name = case.assignee.username
    consultant, member = new_page(), new_page()

    # The consultant finds the case in "My tasks" and asks the cooperative for information.
    log_in(consultant, consultant_name)
    expect(consultant).to_have_url(re.compile(r"/work/$"))
    expect(consultant.get_by_role("heading", name="Le mie attività")).to_be_visible()
    case_row(consultant, case.reference).get_by_role("link", name=case.reference).click()
    expect(consultant.get_by_role("heading", name="Liquidazione IVA in scadenza")).to_be_visible()
    composer = consultant.get_by_role("region", name=t("Write on the case"))
    composer.get_by_role("radio", name="Chiedi informazioni alla cooperativa").check()
    composer.get_by_role("textbox", name="Cosa deve inviare o rispondere la cooperativa").fill(
        "Ci mandate i registri IVA del trimestre?"
    )
    composer.get_by_role("button", name="Invia la richiesta").click()
    expect(
        consultant.get_by_text(
            f"{case.reference} è ora in attesa della risposta della cooperativa."
        )
    ).to_be_visible()

    # The member sees the question on the portal and answers it with a document.
    log_in(member, MEMBER)
    expect(case_row(member, case.reference)).to_contain_text("In attesa della cooperativa")
    member.get_by_role("link", name=case.reference).click()
    answer = member.get_by_role("region", name="Il consulente ha bisogno di informazioni")
    expect(answer).to_contain_text("Ci mandate i registri IVA del trimestre?")
    answer.get_by_label("Il tuo messaggio").fill("Eccoli, in allegato.")
    answer.get_by_label("Documenti:", exact=True).set_input_files(
        {"name": "registri-iva-q3.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    answer.get_by_role("button", name="Invia la risposta").click()
    expect(member.get_by_text("Grazie: la tua risposta è stata inviata")).to_be_visible()
    conversation = member.get_by_role("region", name="Conversazione")
    expect(conversation).to_contain_text("Eccoli, in allegato.")
    expect(conversation.get_by_role("link", name="registri-iva-q3.pdf")).to_be_visible()

    # The consultant sees the answer and resolves the case with an outcome and a summary.
    consultant.reload()
    expect(consultant.get_by_role("region", name="Cronologia")).to_contain_text(
        "Eccoli, in allegato."
    )
    composer = consultant.get_by_role("region", name=t("Write on the case"))
    composer.get_by_role("radio", name="Risolvi", exact=True).check()
    composer.get_by_label(t("Outcome of the resolution")).select_option(label="Parere rilasciato")
    composer.get_by_role("textbox", name="Sintesi per la cooperativa").fill(
        "La liquidazione è corretta: versate entro il 16 con il codice tributo 6033."
    )
    composer.get_by_label(t("Minutes spent")).fill("45")
    composer.get_by_role("button", name="Risolvi la pratica").click()
    expect(
        consultant.get_by_text(
            f"{case.reference} è risolta; alla cooperativa viene chiesto di confermare."
        )
    ).to_be_visible()

    # The member confirms and rates.
    member.reload()
    solved = member.get_by_role("region", name="Il problema è risolto?")
    expect(solved).to_contain_text("versate entro il 16 con il codice tributo 6033")
    solved.get_by_role("button", name="Sì, conferma e chiudi la pratica").click()
    expect(member.get_by_text("Grazie: la pratica è chiusa.")).to_be_visible()
    rating = member.get_by_role("region", name="Il tuo giudizio")
    rating.get_by_label("5 – molto soddisfatto").check()
    rating.get_by_label("Commento (facoltativo)").fill("Risposta rapida e chiara.")
    rating.get_by_role("button", name="Invia il giudizio").click()
    expect(member.get_by_text("Grazie per il tuo giudizio.")).to_be_visible()
    expect(member.get_by_role("region", name="Il tuo giudizio")).to_contain_text(
        "Hai dato a questa pratica 5 su 5."
    )

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.outcome.code == "opinion_issued" and case.minutes_spent == 45
    assert Rating.objects.get(case=case).score == 5
