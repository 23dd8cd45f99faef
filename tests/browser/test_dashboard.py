"""The supervisor's dashboard moves when a case breaches its SLA, in a real browser."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from casework.models import Case, Cooperative, PracticeArea, SlaState
from casework.sla import watch
from tests.browser.helpers import log_in
from workflows import process

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The tiles of "Open cases by SLA state", by their Italian words.
TILES = {"open": "aperte", "at_risk": "a rischio", "breached": "con SLA violato"}


def tile_counts(page: Page) -> dict[str, int]:
    """The numbers of the SLA tiles, read as a person reads them: "3 aperte"."""
    tiles = page.get_by_role("region", name="Pratiche aperte per stato dello SLA")
    counts = {}
    for key, words in TILES.items():
        tile = tiles.get_by_role("listitem").filter(
            has_text=re.compile(rf"^\s*\d+\s+{re.escape(words)}\s*$")
        )
        expect(tile).to_have_count(1)
        counts[key] = int(tile.inner_text().split()[0])
    return counts


def open_case(subject: str, area_code: str) -> Case:
    return process.case_open(
        requester=get_user_model().objects.get(username="socio.alfa"),
        cooperative=Cooperative.objects.get(name="Cooperativa Alfa"),
        area=PracticeArea.objects.get(code=area_code),
        subject=subject,
        description="Serve un parere entro la scadenza.",
    )


def test_breach_moves_the_supervisors_numbers_and_lists_the_case(registry, new_page):
    # The fiscal rule on "scadenza" routes the first case; no legal rule decides the second,
    # which waits in triage: both are open and on track.
    late = open_case("Cartella esattoriale da contestare", "fiscal")
    open_case("Contratto di appalto", "legal")
    page = new_page()
    log_in(page, "supervisore")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", name="Cruscotto", level=1)).to_be_visible()
    before = tile_counts(page)
    assert before["open"] == 2 and before["breached"] == 0
    breached = page.get_by_role("region", name=re.compile(r"^SLA violato \(\d+\)$"))
    expect(breached).to_contain_text("Nessuna pratica aperta ha violato lo SLA.")

    # When: the case's due instants pass and the SLA watch runs.
    now = timezone.now()
    Case.objects.filter(pk=late.pk).update(
        first_response_warn_at=now - timedelta(hours=3),
        first_response_due_at=now - timedelta(hours=2),
        resolution_warn_at=now - timedelta(hours=2),
        resolution_due_at=now - timedelta(hours=1),
    )
    watch.sweep()
    assert Case.objects.get(pk=late.pk).sla_state == SlaState.BREACHED
    page.reload()

    # Then: one more breached, the same open cases, and the case in the breached list.
    after = tile_counts(page)
    assert after == {**before, "breached": before["breached"] + 1}
    breached = page.get_by_role("region", name=f"SLA violato ({after['breached']})")
    row = breached.get_by_role("row").filter(has=page.get_by_role("link", name=late.reference))
    expect(row).to_contain_text("Cartella esattoriale da contestare")
    expect(row).to_contain_text("Fiscale e tributario")
    by_area = page.get_by_role("table", name="Pratiche aperte per area di competenza")
    fiscal = by_area.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="Fiscale e tributario")
    )
    # open, at risk, breached, in triage, unassigned
    expect(fiscal.get_by_role("cell")).to_have_text(["1", "0", "1", "0", "0"])

    # And: the supervisor follows the link to the case and sees the breach in its history.
    row.get_by_role("link", name=late.reference).click()
    expect(page).to_have_url(re.compile(rf"/work/cases/{late.pk}/$"))
    expect(page.get_by_role("heading", name="Cartella esattoriale da contestare")).to_be_visible()
    clocks = page.get_by_role("table", name="Tempi SLA")
    expect(clocks.get_by_role("row", name=re.compile("^Prima risposta"))).to_contain_text(
        "SLA violato"
    )
    expect(page.get_by_role("region", name="Cronologia")).to_contain_text("SLA violato")
