"""Finding the case a reply belongs to: its ids, then the bracketed reference."""

import pytest

from casework.inbound.parse import parse
from casework.inbound.threading import case_reference_in, thread_ids
from tests.inbound import sample


@pytest.mark.parametrize(
    ("subject", "reference"),
    [
        ("Re: [LEG-2026-000123] Verbale", "LEG-2026-000123"),
        ("R: I: [FIS-2026-000001] Avviso", "FIS-2026-000001"),
        ("[AB-2025-123456]", "AB-2025-123456"),
        ("Re: [LAVOR-2026-1000000] a counter past a million", "LAVOR-2026-1000000"),
        ("Two: [LEG-2026-000001] and [FIS-2026-000002]", "LEG-2026-000001"),
    ],
)
def test_a_bracketed_reference_is_found(subject, reference):
    assert case_reference_in(subject) == reference


@pytest.mark.parametrize(
    "subject",
    [
        "Re: LEG-2026-000123 without brackets",
        "Re: [leg-2026-000123] lower case",
        "Re: [L-2026-000123] prefix too short",
        "Re: [LEGALE-2026-000123] prefix too long",
        "Re: [LEG-2026-00012] five digits",
        "Re: [LEG-٢٠٢٦-٠٠٠١٢٣] Arabic-Indic digits",
        "Re: [LEG-２０２６-０００１２３] full-width digits",
        "Re: [LEG-2026-00012³] a superscript",
        "Re: [ЛЕГ-2026-000123] Cyrillic letters",
        "",
    ],
)
def test_anything_else_is_no_reference(subject):
    assert case_reference_in(subject) is None


def test_thread_ids_are_in_reply_to_then_references_without_repeats():
    incoming = parse(sample("reply_italian.eml"))

    assert thread_ids(incoming) == (
        "5b0e8c1d2a3f4e5d6c7b8a9f0e1d2c3b.LEG-2026-000123@federazione.example",
        "case.LEG-2026-000123@federazione.example",
    )


def test_a_message_answering_nothing_has_no_thread_ids():
    assert thread_ids(parse(sample("no_message_id.eml"))) == ()
