"""Reading raw messages: the fields intake needs, the reply without its history, bad input."""

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from casework.inbound import parse as parse_module
from casework.inbound.errors import MessageTooLarge, UnreadableMessage
from casework.inbound.htmltext import html_to_text
from casework.inbound.parse import Address, parse, synthetic_message_id
from tests.inbound import sample

OUTGOING_ID = "5b0e8c1d2a3f4e5d6c7b8a9f0e1d2c3b.LEG-2026-000123@federazione.example"


def test_a_reply_is_read_with_its_threading_headers_and_sender():
    incoming = parse(sample("reply_italian.eml"))

    assert incoming.message_id == "20260105113000.1a2b3c@coopalfa.example"
    assert incoming.message_id_synthetic is False
    assert incoming.in_reply_to == OUTGOING_ID
    assert incoming.references == ("case.LEG-2026-000123@federazione.example", OUTGOING_ID)
    assert incoming.subject == "Re: [LEG-2026-000123] Verbale dell'assemblea"
    # The address is lower-cased for matching; the name stays as written.
    assert (incoming.from_address, incoming.from_name) == (
        "socio.alfa@coopalfa.example",
        "Socio Alfa",
    )
    assert incoming.to == (Address("sportello@federazione.example"),)
    assert incoming.date == datetime(2026, 1, 5, 11, 30, tzinfo=timezone(timedelta(hours=1)))
    assert incoming.text_source == "plain"
    assert incoming.defects == ()


def test_italian_quoted_history_is_trimmed_and_the_whole_text_kept():
    incoming = parse(sample("reply_italian.eml"))

    assert incoming.reply.startswith("Buongiorno,")
    assert "Il contratto è firmato." in incoming.reply
    assert "ha scritto:" not in incoming.reply
    assert "attende il verbale" not in incoming.reply
    # The signature is the sender's, not history: it stays.
    assert "Cooperativa Alfa" in incoming.reply
    assert "> la pratica LEG-2026-000123 attende il verbale" in incoming.text


def test_english_quoted_history_is_trimmed():
    incoming = parse(sample("reply_english.eml"))

    assert "the signed contract is attached." in incoming.reply
    assert "wrote:" not in incoming.reply
    assert "waiting for the signed contract" not in incoming.reply


def test_an_outlook_style_italian_header_block_is_trimmed():
    incoming = parse(sample("reply_outlook.eml"))

    assert incoming.reply == "Confermo la data dell'incontro."


def test_an_html_only_message_is_turned_into_text_without_markup_or_scripts():
    incoming = parse(sample("html_only.eml"))

    assert incoming.text_source == "html"
    assert "<" not in incoming.reply.replace("<sportello", "")
    assert incoming.reply == "Grazie, il documento è in allegato.\nA presto & buon lavoro."
    assert "alert" not in incoming.text
    assert "ignored title" not in incoming.text
    assert "color: red" not in incoming.text
    # The quoted part comes out quoted, as a text mail program writes it.
    assert "> Gentile socio, ci manca il documento." in incoming.text


def test_html_to_text_keeps_paragraphs_lists_and_entities():
    text = html_to_text(
        "<head><title>x</title><body><p>Uno &amp; due</p><ul><li>a</li><li>b</li></ul>"
        "<div>riga<br>a capo</div><blockquote>citato</blockquote>"
    )

    assert text == "Uno & due\n\n- a\n- b\n\nriga\na capo\n\n> citato"


def test_a_plain_and_html_message_keeps_the_plain_text_and_lists_its_documents():
    incoming = parse(sample("alternative_with_attachments.eml"))

    assert incoming.text == "Testo semplice del messaggio."
    # The HTML rendering of the same text is not a document.
    assert [(a.filename, a.content_type) for a in incoming.attachments] == [
        ("firmato_pades.pdf", "application/pdf"),
        ("fattura.pdf", "application/pdf"),  # as declared: what it really is is sniff()'s job
        ("bomba.zip", "application/zip"),
    ]
    assert all(a.size == len(a.content) > 0 for a in incoming.attachments)


def test_a_zip_bomb_is_taken_as_the_small_archive_it_is():
    incoming = parse(sample("alternative_with_attachments.eml"))

    bomb = next(a for a in incoming.attachments if a.filename == "bomba.zip")
    # 64 MiB of zeros inside; the attachment is the compressed archive, byte for byte.
    assert bomb.content == sample("bomba.zip")
    assert bomb.size < 1024 * 1024


def test_a_missing_message_id_gets_a_stable_synthetic_one():
    raw = sample("no_message_id.eml")

    first, again = parse(raw), parse(raw)

    assert first.message_id_synthetic is True
    assert first.message_id == again.message_id == synthetic_message_id(raw)
    assert first.message_id.endswith("@sportello.invalid")
    assert "synthetic_message_id" in first.defects
    assert parse(raw + b"\r\nother").message_id != first.message_id


def test_a_duplicate_message_id_keeps_the_first_and_says_so():
    incoming = parse(sample("duplicate_message_id.eml"))

    assert incoming.message_id == "20260105113000.1a2b3c@coopalfa.example"
    assert "duplicate_message_id" in incoming.defects


def test_an_8bit_header_without_charset_is_read_as_utf8_or_windows_1252():
    incoming = parse(sample("eight_bit_header.eml"))

    assert incoming.subject == "Richiesta di proroga perché è urgente"
    assert incoming.from_name == "Società Cooperativa Alfa"  # Windows-1252 bytes
    assert incoming.from_address == "info@coopalfa.example"
    assert "8bit_header" in incoming.defects
    # Nothing left that a database or a template would refuse.
    assert incoming.subject.encode("utf-8") and incoming.from_name.encode("utf-8")


def test_a_multipart_whose_boundary_is_never_found_keeps_its_text():
    incoming = parse(sample("malformed_boundary.eml"))

    assert "Vi invio i documenti richiesti." in incoming.text
    assert "StartBoundaryNotFoundDefect" in incoming.defects


def test_a_multipart_cut_short_keeps_the_parts_it_has():
    incoming = parse(sample("unclosed_multipart.eml"))

    assert incoming.text == "Il testo arriva intero."
    assert [(a.filename, a.content) for a in incoming.attachments] == [
        ("dati.bin", bytes([0, 1, 2, 3, 4, 5]))
    ]
    assert "CloseBoundaryNotFoundDefect" in incoming.defects


@pytest.mark.parametrize(
    "raw",
    [
        b'Message-ID: <>\r\nFrom: "unterminated <x@y\r\nTo: ,,,@,\r\nDate: not a date\r\n'
        b"In-Reply-To: no brackets here\r\n\r\nhello",
        b"From: a@b.example\r\nContent-Type: multipart/mixed\r\n\r\nno boundary parameter",
        b"From: a@b.example\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\n\xe8 ok",
        b"From: a@b.example\r\nContent-Type: ///\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@",
        b"Subject: =?utf-8?b?broken?= =?x-unknown?q?abc?=\r\n\r\nbody",
        b"From: a@b.example\r\nMessage-ID: <" + b"x" * 300 + b"@b.example>\r\n\r\nlong id",
    ],
    ids=["broken-headers", "no-boundary", "unknown-charset", "bad-type", "bad-words", "long-id"],
)
def test_bad_input_is_read_as_far_as_it_goes_and_never_raises(raw):
    incoming = parse(raw)

    assert incoming.message_id
    assert incoming.raw == raw
    assert isinstance(incoming.text, str)


def test_a_bad_date_is_none_and_a_date_without_zone_is_utc():
    assert parse(b"Date: not a date\r\nSubject: x\r\n\r\n").date is None
    assert parse(b"Date: Mon, 5 Jan 2026 10:00:00 -0000\r\n\r\n").date == datetime(
        2026, 1, 5, 10, tzinfo=UTC
    )


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"just some text\n\nwithout headers"])
def test_a_message_where_nothing_can_be_read_is_refused(raw):
    with pytest.raises(UnreadableMessage) as refused:
        parse(raw)

    assert refused.value.code == "unreadable_message"


def test_an_oversized_message_is_refused_before_parsing(monkeypatch):
    # 30 MB, over the 25 MB default.
    raw = b"From: a@b.example\r\nSubject: big\r\n\r\n" + b"x" * (30 * 1024 * 1024)

    def never(*args, **kwargs):  # pragma: no cover - reaching it is the failure
        raise AssertionError("the parser ran on a message over the limit")

    monkeypatch.setattr(parse_module.BytesParser, "parsebytes", never)
    with pytest.raises(MessageTooLarge) as refused:
        parse(raw)

    assert refused.value.code == "message_too_large"


def test_the_size_limit_is_an_argument():
    raw = sample("reply_english.eml")

    with pytest.raises(MessageTooLarge):
        parse(raw, max_bytes=len(raw) - 1)
    assert parse(raw, max_bytes=len(raw)).subject


def test_the_reply_parser_is_not_run_on_a_huge_text():
    text = "riga\n" * (parse_module.REPLY_PARSE_MAX_CHARS // 5 + 1)

    assert parse_module.reply_of(text) == text.strip()


def test_long_lines_are_kept_whole_in_the_reply():
    paragraph = "Il sottoscritto " + "chiede una proroga " * 150  # one line, as HTML gives it
    text = (
        f"{paragraph}\n\nSaluti\n\n"
        "Il giorno lun 5 gen 2026 alle ore 10:00 Sportello <s@federazione.example> ha scritto:\n"
        "> testo citato\n"
    )

    assert parse_module.reply_of(text) == f"{paragraph.strip()}\n\nSaluti"


def test_a_text_built_to_slow_the_reply_parser_comes_back_whole():
    # Lines starting "Il " that never say "ha scritto:" cost the parser the square of their
    # length: those longer than REPLY_LINE_MAX_CHARS are set aside and put back after, so the
    # reader gets the whole text (how long it takes is measured in bench/, not here).
    long_line = "Il " + "ab " * 2000
    assert len(long_line) > parse_module.REPLY_LINE_MAX_CHARS
    hostile = (long_line + "\n") * 15 + ("Il " + "ab " * 95 + "\n") * 50

    reply = parse_module.reply_of(hostile)

    assert reply.startswith("Il ab ab") and reply.count("\n") == 64  # nothing trimmed
    assert reply.count(long_line.strip()) == 15


def test_the_headers_needed_later_are_kept_by_lower_case_name():
    incoming = parse(sample("own_notification.eml"))

    assert incoming.header("X-Sportello-Notification") == "42"
    assert incoming.header("auto-submitted") == "auto-generated"
    assert incoming.header("Received") is None  # not one intake reads


def test_an_incoming_message_turns_into_plain_data():
    # What the intake service stores or hands to a task: no parser objects inside.
    data = dataclasses.asdict(parse(sample("pec_envelope.eml")))

    assert data["headers"]["x-trasporto"] == "posta-certificata"
    assert data["attachments"][0]["filename"] == "postacert.eml"
