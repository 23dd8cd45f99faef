"""What the browser journeys share: logging in through the page, and the member's fiscal case."""

from django.contrib.auth import get_user_model
from django.utils import translation
from playwright.sync_api import Page, expect

from casework.demo import DEMO_PASSWORD
from casework.models import Case, CaseStatus, Cooperative, PracticeArea
from workflows import process

MEMBER = "socio.alfa"
FISCAL_CONSULTANTS = ("consulente.fiscale", "consulente.fiscale2")
# The smallest file the upload check accepts as a PDF (it reads the content, not the name).
PDF_BYTES = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def t(text: str) -> str:
    """What an Italian page says for an English source string (itself while not translated)."""
    with translation.override("it"):
        return str(translation.gettext(text))


def log_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the login page, as a person would, and wait for the landing page."""
    page.goto("/login/")
    expect(page.get_by_role("heading", name="Accedi a Sportello")).to_be_visible()
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Accedi").click()
    expect(page.get_by_role("button", name="Esci")).to_be_visible()


def open_fiscal_case() -> Case:
    """The case the member opens through the portal in the first journey, opened directly."""
    case = process.case_open(
        requester=get_user_model().objects.get(username=MEMBER),
        cooperative=Cooperative.objects.get(name="Cooperativa Alfa"),
        area=PracticeArea.objects.get(code="fiscal"),
        subject="Liquidazione IVA in scadenza",
        description="La scadenza della liquidazione trimestrale è vicina: come procediamo?",
    )
    # The fiscal rule on "scadenza" decides the priority; routing prefers the Bologna office.
    assert case.status == CaseStatus.ASSIGNED
    assert case.assignee.username in FISCAL_CONSULTANTS
    return case
