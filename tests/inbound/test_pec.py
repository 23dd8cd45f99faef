"""PEC envelopes and receipts, read only on a PEC mailbox; daticert.xml read safely."""

from datetime import datetime, timedelta, timezone

import pytest

from casework.inbound import pec
from casework.inbound.classify import why_ignored
from casework.inbound.errors import DaticertRefused, DaticertUnreadable
from casework.inbound.parse import parse
from tests.inbound import sample

INNER_ID = "opec-inner-0001@pec.coopalfa.example"
OUTGOING_ID = "5b0e8c1d2a3f4e5d6c7b8a9f0e1d2c3b.LEG-2026-000123@federazione.example"
CERTIFIED_AT = datetime(2026, 1, 15, 10, 23, 45, tzinfo=timezone(timedelta(hours=1)))


def test_an_envelope_is_unwrapped_to_the_cooperatives_message_with_its_certified_data():
    envelope = pec.read_pec(parse(sample("pec_envelope.eml")), pec_mailbox=True)

    assert envelope.kind == pec.TRANSPORT
    assert envelope.receipt is None
    assert envelope.problems == ()
    assert not envelope.is_receipt and not envelope.is_failure
    # The case is opened from the inner message, not from the provider's envelope.
    inner = envelope.inner
    assert inner.message_id == INNER_ID
    assert inner.subject == "Avviso di accertamento 2025"
    assert inner.from_address == "alfa@pec.coopalfa.example"
    assert [a.filename for a in inner.attachments] == ["avviso.pdf.p7m"]
    certificate = envelope.certificate
    assert certificate.tipo == "posta-certificata"
    assert certificate.errore == "nessuno"
    assert certificate.mittente == "alfa@pec.coopalfa.example"
    assert certificate.destinatari == (
        pec.Recipient("sportello@pec.federazione.example", "certificato"),
        pec.Recipient("archivio@federazione.example", "esterno"),
    )
    assert certificate.oggetto == "Avviso di accertamento 2025"
    assert certificate.gestore_emittente == "Gestore PEC di prova S.p.A."
    assert certificate.identificativo == "opec210.20260115102345.12345.678.1.62@pec.gestore.example"
    assert certificate.msgid == INNER_ID
    assert envelope.certified_at == CERTIFIED_AT
    assert envelope.riferimento_message_id == INNER_ID


def test_the_envelope_keeps_the_providers_parts_as_documents():
    incoming = parse(sample("pec_envelope.eml"))

    assert [(a.filename, a.content_type) for a in incoming.attachments] == [
        ("postacert.eml", "message/rfc822"),
        ("daticert.xml", "application/xml"),
        ("smime.p7s", "application/pkcs7-signature"),
    ]
    assert incoming.content_type == "multipart/signed"


def test_an_anomaly_envelope_is_a_failure_with_the_original_inside():
    envelope = pec.read_pec(parse(sample("pec_anomaly.eml")), pec_mailbox=True)

    assert envelope.kind == pec.ANOMALY
    assert envelope.is_failure
    assert envelope.inner.message_id == INNER_ID


@pytest.mark.parametrize("kind", sorted(pec.RECEIPTS))
def test_each_receipt_names_the_message_it_answers(kind):
    incoming = parse(sample(f"pec_receipt_{kind}.eml"))

    envelope = pec.read_pec(incoming, pec_mailbox=True)

    assert envelope.kind == pec.RECEIPT
    assert envelope.receipt == kind
    assert envelope.is_receipt
    assert envelope.riferimento_message_id == OUTGOING_ID
    assert envelope.certificate.tipo == kind
    assert envelope.certificate.msgid == OUTGOING_ID
    assert envelope.is_failure == (kind in pec.FAILURE_RECEIPTS)
    assert envelope.problems == ()


def test_a_full_delivery_receipt_carries_the_delivered_copy():
    envelope = pec.read_pec(parse(sample("pec_receipt_avvenuta-consegna.eml")), pec_mailbox=True)

    assert envelope.certificate.ricevuta == "completa"
    assert envelope.certificate.consegna == "alfa@pec.coopalfa.example"
    assert envelope.inner.message_id == OUTGOING_ID


def test_a_delivery_error_tells_the_extended_error():
    envelope = pec.read_pec(parse(sample("pec_receipt_errore-consegna.eml")), pec_mailbox=True)

    assert envelope.certificate.errore == "no-dest"
    assert envelope.certificate.errore_esteso == "5.1.1 - Utente non esistente"


def test_a_receipt_with_a_null_return_path_is_still_a_receipt_when_pec_is_asked_first():
    incoming = parse(sample("pec_receipt_non-accettazione.eml"))

    # Classification alone would drop it as a bounce; PEC is asked first on a PEC mailbox.
    assert why_ignored(incoming) == "bounce"
    assert pec.read_pec(incoming, pec_mailbox=True).receipt == pec.NON_ACCEPTANCE


def test_the_reference_falls_back_on_the_daticert_msgid():
    raw = sample("pec_receipt_accettazione.eml").replace(b"X-Riferimento-Message-ID:", b"X-Other:")

    envelope = pec.read_pec(parse(raw), pec_mailbox=True)

    assert envelope.riferimento_message_id == OUTGOING_ID


@pytest.mark.parametrize(
    "name", ["pec_envelope.eml", "forged_pec.eml", "pec_receipt_accettazione.eml"]
)
def test_pec_headers_are_ignored_outside_a_pec_mailbox(name):
    assert pec.read_pec(parse(sample(name)), pec_mailbox=False) is None


def test_a_forged_pec_header_on_plain_mail_is_plain_mail():
    incoming = parse(sample("forged_pec.eml"))

    assert pec.is_pec(incoming)  # the header is there...
    assert pec.read_pec(incoming, pec_mailbox=False) is None  # ...and means nothing here
    assert why_ignored(incoming) is None


def test_plain_mail_on_a_pec_mailbox_is_not_pec():
    assert pec.read_pec(parse(sample("reply_english.eml")), pec_mailbox=True) is None


@pytest.mark.parametrize("name", ["daticert_external_entity.xml", "daticert_billion_laughs.xml"])
def test_a_daticert_declaring_entities_is_refused(name):
    with pytest.raises(DaticertRefused) as refused:
        pec.parse_daticert(sample(name))

    assert refused.value.code == "daticert_refused"


def test_a_doctype_naming_an_external_dtd_is_read_and_the_dtd_never_fetched():
    # Real providers write one, some with an https address; expat loads no external DTD.
    certificate = pec.parse_daticert(sample("daticert_public_dtd.xml"))

    assert certificate.tipo == "avvenuta-consegna"
    assert certificate.data == CERTIFIED_AT


def test_an_entity_from_an_external_dtd_is_never_resolved(tmp_path):
    dtd = tmp_path / "entities.dtd"
    dtd.write_text('<!ENTITY segreto "LOADED">')
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE postacert SYSTEM "{dtd.as_uri()}">'
        "<postacert><intestazione><oggetto>&segreto;</oggetto></intestazione><dati/></postacert>"
    ).encode()

    with pytest.raises(DaticertUnreadable):
        pec.parse_daticert(xml)


def test_an_envelope_with_a_refused_daticert_keeps_its_inner_message():
    envelope = pec.read_pec(parse(sample("pec_envelope_external_entity.eml")), pec_mailbox=True)

    assert envelope.certificate is None
    assert envelope.problems == ("daticert_refused",)
    assert envelope.inner.message_id == INNER_ID


@pytest.mark.parametrize(
    "xml",
    [b"", b"not xml", b"<other/>", b"<postacert tipo='x'/>", b"<postacert><intestazione>"],
)
def test_a_daticert_that_is_not_one_is_unreadable(xml):
    with pytest.raises(DaticertUnreadable):
        pec.parse_daticert(xml)


def test_a_certified_time_with_a_bad_zone_is_none():
    xml = sample("daticert_public_dtd.xml").replace(b'zona="+0100"', b'zona="CET"')

    assert pec.parse_daticert(xml).data is None
