"""Documents on a case: type from the content, size limit, who may upload and download."""

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from casework.attachments import detect_content_type, sanitize_filename
from casework.models import Attachment, CaseEvent
from tests.inbound import sample
from workflows import process

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60
LATIN1 = "Caffè e società".encode("latin-1")


def office_file(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        if kind == "docx":
            archive.writestr("word/document.xml", "<document/>")
        elif kind == "xlsx":
            archive.writestr("xl/workbook.xml", "<workbook/>")
        else:
            archive.writestr("notes.txt", "just a zip")
    return buffer.getvalue()


def url(case, suffix=""):
    return f"/api/v1/cases/{case.pk}/attachments/{suffix}"


def upload(client, case, name, content, **fields):
    return client.post(
        url(case), {"file": SimpleUploadedFile(name, content), **fields}, format="multipart"
    )


@pytest.mark.parametrize(
    "name, content, content_type",
    [
        ("verbale.pdf", PDF, "application/pdf"),
        ("foto.png", PNG, "image/png"),
        ("foto.jpg", JPEG, "image/jpeg"),
        ("note.txt", "Verbale dell'assemblea: però sì.".encode(), "text/plain"),
        ("statuto.docx", office_file("docx"), DOCX),
        ("bilancio.xlsx", office_file("xlsx"), XLSX),
        ("archivio.zip", office_file("zip"), "application/zip"),
        # The name says nothing: a PDF called .exe is a PDF.
        ("strano.exe", PDF, "application/pdf"),
    ],
)
def test_accepted_types(api, member, assigned_case, name, content, content_type):
    response = upload(api(member), assigned_case, name, content)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == content_type
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["internal"] is False
    event = CaseEvent.objects.get(case=assigned_case, kind="attachment_added")
    assert event.after["attachment"] == body["id"]


@pytest.mark.parametrize(
    "name, content",
    [
        ("programma.exe", EXE),
        ("finto.pdf", EXE),
        ("latin1.txt", LATIN1),
        ("binario.txt", b"abc\x00def"),
        ("rotto.zip", b"PK\x03\x04not really a zip"),
    ],
)
def test_refused_types_are_415(api, member, assigned_case, name, content):
    response = upload(api(member), assigned_case, name, content)

    assert response.status_code == 415, response.content
    assert response.json()["code"] == "unsupported_type"
    assert not Attachment.objects.exists()


def test_types_not_in_settings_are_415(api, member, assigned_case, settings):
    settings.ATTACHMENT_ALLOWED_TYPES = ["application/pdf"]

    assert upload(api(member), assigned_case, "a.png", PNG).status_code == 415
    assert upload(api(member), assigned_case, "a.pdf", PDF).status_code == 201


def test_oversize_is_413(api, member, assigned_case, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000

    just_right = upload(api(member), assigned_case, "a.txt", b"a" * 1000)
    too_big = upload(api(member), assigned_case, "b.txt", b"a" * 1001)
    # Far over the limit: refused from the announced length, before the body is read.
    huge = upload(api(member), assigned_case, "c.txt", b"a" * (200 * 1024))

    assert just_right.status_code == 201
    assert too_big.status_code == 413 and too_big.json()["code"] == "too_large"
    assert huge.status_code == 413
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [{}, {"file": "not a file"}, {"file": SimpleUploadedFile("vuoto.pdf", b"")}],
)
def test_bad_upload_is_400(api, member, assigned_case, data):
    response = api(member).post(url(assigned_case), data, format="multipart")

    assert response.status_code == 400


def test_json_upload_is_415(api, member, assigned_case):
    response = api(member).post(url(assigned_case), {"file": "x"}, format="json")

    assert response.status_code == 415


def test_download(api, member, consultant, assigned_case):
    uploaded = upload(api(member), assigned_case, "../../etc/verbale.pdf", PDF).json()

    response = api(consultant).get(uploaded["download_url"])

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="verbale.pdf"' in response["Content-Disposition"]
    assert uploaded["name"] == "verbale.pdf"


def test_internal_documents_stay_with_the_staff(api, member, consultant, assigned_case):
    uploaded = upload(api(consultant), assigned_case, "perizia.pdf", PDF, internal="true")
    assert uploaded.status_code == 201 and uploaded.json()["internal"] is True
    attachment_id = uploaded.json()["id"]
    coop = api(member)

    assert coop.get(url(assigned_case)).json()["count"] == 0
    assert coop.get(url(assigned_case, f"{attachment_id}/")).status_code == 404
    assert coop.get(url(assigned_case, f"{attachment_id}/download/")).status_code == 404
    kinds = [
        e["kind"] for e in coop.get(f"/api/v1/cases/{assigned_case.pk}/events/").json()["results"]
    ]
    assert "attachment_added" not in kinds
    assert api(consultant).get(url(assigned_case, f"{attachment_id}/download/")).status_code == 200


def test_member_may_not_upload_internal(api, member, assigned_case):
    response = upload(api(member), assigned_case, "a.pdf", PDF, internal="true")

    assert response.status_code == 403


def test_attachment_to_a_message(api, member, consultant, assigned_case):
    note = process.case_post_message(case=assigned_case, author=consultant, body="n", internal=True)
    reply = process.case_post_message(case=assigned_case, author=member, body="ecco")

    mine = upload(api(member), assigned_case, "a.pdf", PDF, message=reply.pk)
    on_note = upload(api(member), assigned_case, "a.pdf", PDF, message=note.pk)
    staff_on_note = upload(api(consultant), assigned_case, "a.pdf", PDF, message=note.pk)

    assert mine.status_code == 201 and mine.json()["message"] == reply.pk
    assert on_note.status_code == 400
    # Attached to an internal note, a document is internal.
    assert staff_on_note.json()["internal"] is True
    messages = api(member).get(f"/api/v1/cases/{assigned_case.pk}/messages/").json()["results"]
    assert [len(m["attachments"]) for m in messages] == [1]


def test_no_documents_on_a_cancelled_case(api, member, supervisor, assigned_case):
    process.case_cancel(case=assigned_case, actor=supervisor, reason="Doppione")

    assert upload(api(member), assigned_case, "a.pdf", PDF).status_code == 409


def test_outsiders_get_404(api, outsider, fiscal_consultant, member, assigned_case):
    attachment_id = upload(api(member), assigned_case, "a.pdf", PDF).json()["id"]
    for user in (outsider, fiscal_consultant):
        client = api(user)
        assert client.get(url(assigned_case)).status_code == 404
        assert client.get(url(assigned_case, f"{attachment_id}/download/")).status_code == 404
        assert upload(client, assigned_case, "a.pdf", PDF).status_code == 404


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\bilancio 2025.pdf", "bilancio 2025.pdf"),
        ("a\x00b\r\nc.pdf", "abc.pdf"),
        ('x";rm -rf.pdf', "x_rm -rf.pdf"),
        ("....", "document"),
        ("", "document"),
    ],
)
def test_sanitize_filename(name, expected):
    assert sanitize_filename(name) == expected


def test_long_names_keep_their_extension():
    name = sanitize_filename("a" * 500 + ".pdf")

    assert len(name) <= 200 and name.endswith(".pdf")


def test_sniffer_needs_content():
    assert detect_content_type(io.BytesIO(b"")) is None


# Signed documents (issue 15): a CAdES .p7m is accepted on every upload path and described; a
# PAdES PDF is a PDF, described too. The samples are signed by "Mario Rossi" (make_samples.py).
MARIO = "Mario Rossi (RSSMRA80A01H501U)"


@pytest.mark.parametrize("name", ["verbale.pdf.p7m", "verbale_base64.pdf.p7m"])
def test_a_p7m_is_accepted_and_described(api, member, assigned_case, name):
    response = upload(api(member), assigned_case, name, sample(name))

    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "application/pkcs7-mime"
    stored = Attachment.objects.get(pk=response.json()["id"])
    assert stored.file.name.endswith(".p7m") and stored.original_name == name
    assert stored.signature == {
        "kind": "cades",
        "inner_name": name.removesuffix(".p7m"),
        "signers": [MARIO],
        "readable": True,
        "problem": None,
    }


def test_a_damaged_p7m_is_stored_as_unreadable_with_its_reason(api, member, assigned_case):
    response = upload(
        api(member), assigned_case, "danneggiato.pdf.p7m", sample("danneggiato.pdf.p7m")
    )

    assert response.status_code == 201, response.content
    signature = Attachment.objects.get(pk=response.json()["id"]).signature
    assert signature["kind"] == "cades" and signature["readable"] is False
    assert signature["problem"]


def test_a_signed_pdf_is_a_pdf_described_with_its_signer(api, member, assigned_case):
    response = upload(api(member), assigned_case, "firmato.pdf", sample("firmato_pades.pdf"))

    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "application/pdf"
    signature = Attachment.objects.get(pk=response.json()["id"]).signature
    assert signature["kind"] == "pades" and signature["signers"] == [MARIO]


def test_an_ordinary_pdf_has_no_signature(api, member, assigned_case):
    response = upload(api(member), assigned_case, "verbale.pdf", PDF)

    assert Attachment.objects.get(pk=response.json()["id"]).signature == {}
