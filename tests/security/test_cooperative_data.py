"""One cooperative's data: exported whole for a data subject request, or erased for good."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation
from rest_framework.authtoken.models import Token

from casework.models import Attachment, Case, CaseEvent, Message, Notification, Rating
from tests import factories
from tests.security.conftest import PDF_BYTES
from workflows import process
from workflows.process import case_attach

pytestmark = pytest.mark.django_db

User = get_user_model()
MARKER = "NOTA-INTERNA-5b2d"
PUBLIC_TEXT = "Il presidente Ugo Fantozzi firma il verbale"
OTHER_TEXT = "Messaggio della Cooperativa Gamma"


@pytest.fixture
def alfa_and_gamma_cases(
    django_capture_on_commit_callbacks,
    open_case,
    office,
    cooperative,
    member,
    consultant,
    outcome,
):
    """Two cases of Cooperativa Alfa (one by a person who also acts for Gamma), one of Gamma."""
    gamma = factories.CooperativeFactory(name="Cooperativa Gamma", office=office)
    shared = factories.MembershipFactory(cooperative=cooperative, user__username="socio.multi").user
    factories.MembershipFactory(cooperative=gamma, user=shared)
    gamma_member = factories.MembershipFactory(cooperative=gamma, user__username="socio.gamma").user

    with django_capture_on_commit_callbacks(execute=True):
        worked = open_case(
            subject="Verbale di assemblea", description="Serve un parere sul verbale"
        )
        process.case_post_message(case=worked, author=member, body=PUBLIC_TEXT)
        case_attach(
            case=worked,
            uploaded_by=member,
            file=SimpleUploadedFile("verbale Fantozzi.pdf", PDF_BYTES),
        )
        process.case_post_message(
            case=worked, author=consultant, body=f"{MARKER} cliente difficile", internal=True
        )
        case_attach(
            case=worked,
            uploaded_by=consultant,
            file=SimpleUploadedFile("appunti.txt", b"Appunti interni del consulente\n"),
            internal=True,
        )
        process.case_resolve(
            case=worked, actor=consultant, outcome=outcome, summary="Parere inviato"
        )
        process.case_confirm(case=worked, actor=member)
        process.case_rate(case=worked, actor=member, score=4, comment="Grazie, Ugo è contento")
        second = open_case(requester=shared, subject="Contratto", description="Contratto di rete")
        theirs = open_case(
            requester=gamma_member,
            cooperative=gamma,
            subject="Statuto Gamma",
            description="Statuto",
        )
        process.case_post_message(case=theirs, author=gamma_member, body=OTHER_TEXT)
        case_attach(
            case=theirs, uploaded_by=gamma_member, file=SimpleUploadedFile("gamma.pdf", PDF_BYTES)
        )
    Token.objects.create(user=member)
    # A failed sign-in: django-axes remembers the username.
    Client(REMOTE_ADDR="192.0.2.1").post("/login/", {"username": "socio", "password": "no"})
    return {
        "worked": worked,
        "second": second,
        "theirs": theirs,
        "gamma": gamma,
        "shared": shared,
        "gamma_member": gamma_member,
    }


def _export(cooperative, tmp_path, name="export.zip") -> tuple[dict, str]:
    target = tmp_path / name
    out = io.StringIO()
    with translation.override("en"):
        call_command(
            "cooperative_export", cooperative=str(cooperative), output=str(target), stdout=out
        )
    with zipfile.ZipFile(target) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return files, out.getvalue()


def _text(files: dict) -> str:
    return "\n".join(data.decode("utf-8", "replace") for data in files.values())


# --- Export --------------------------------------------------------------------------------


def test_export_holds_the_cooperative_its_members_cases_and_documents(
    tmp_path, cooperative, member, alfa_and_gamma_cases
):
    files, output = _export(cooperative.pk, tmp_path)

    assert {
        "manifest.json",
        "cooperative.json",
        "members.json",
        "cases.json",
        "internal_notes.json",
        "emails.json",
    } <= set(files)
    assert json.loads(files["cooperative.json"])["tax_code"] == cooperative.tax_code
    members = {row["username"]: row for row in json.loads(files["members.json"])}
    assert set(members) == {"socio", "socio.multi"}
    assert members["socio"]["email"] == member.email
    assert members["socio"]["last_name"] == member.last_name
    cases = {row["reference"]: row for row in json.loads(files["cases.json"])}
    worked = cases[alfa_and_gamma_cases["worked"].reference]
    assert len(cases) == 2
    assert PUBLIC_TEXT in [message["text"] for message in worked["messages"]]
    assert worked["rating"]["score"] == 4 and "Ugo" in worked["rating"]["comment"]
    assert [event["kind"] for event in worked["events"]][0] == "opened"
    # The documents themselves, byte for byte.
    [document] = worked["documents"]
    assert document["name"] == "verbale Fantozzi.pdf"
    assert files[document["file"]] == PDF_BYTES
    assert document["file"].startswith(f"documents/{alfa_and_gamma_cases['worked'].reference}/")

    # Internal notes only in their own, clearly named file.
    assert MARKER not in files["cases.json"].decode()
    [internal] = json.loads(files["internal_notes.json"])
    assert internal["case"] == alfa_and_gamma_cases["worked"].reference
    assert MARKER in internal["notes"][0]["text"]
    [note_document] = internal["documents"]
    assert note_document["file"].startswith("internal_documents/")
    assert files[note_document["file"]] == b"Appunti interni del consulente\n"

    manifest = json.loads(files["manifest.json"])
    assert manifest["counts"]["cases"] == 2
    assert manifest["counts"]["members"] == 2
    assert manifest["counts"]["notes"] == 1
    assert manifest["counts"]["documents"] == 2
    assert manifest["counts"]["ratings"] == 1
    assert "Cases: 2 of 2." in output
    assert str(tmp_path / "export.zip") in output


def test_export_holds_nothing_of_another_cooperative(tmp_path, cooperative, alfa_and_gamma_cases):
    files, _output = _export(cooperative.pk, tmp_path)
    text = _text(files)

    assert OTHER_TEXT not in text
    assert alfa_and_gamma_cases["theirs"].reference not in text
    assert "socio.gamma" not in text
    assert not any("gamma.pdf" in name for name in files)


def test_export_finds_the_cooperative_by_tax_code(tmp_path, cooperative, alfa_and_gamma_cases):
    files, _output = _export(f"IT {cooperative.tax_code}", tmp_path)

    assert json.loads(files["cooperative.json"])["id"] == cooperative.pk


def test_export_of_an_unknown_cooperative_is_refused(tmp_path):
    with pytest.raises(CommandError):
        call_command("cooperative_export", cooperative="999999", output=str(tmp_path / "x.zip"))
    assert not (tmp_path / "x.zip").exists()


# --- Erasure -------------------------------------------------------------------------------


def _snapshot(cooperative):
    cases = Case.objects.filter(cooperative=cooperative)
    return {
        "cases": sorted(cases.values_list("pk", "status", "area_id", "outcome_id", "priority")),
        "events": CaseEvent.objects.filter(case__in=cases).count(),
        "messages": Message.objects.filter(case__in=cases).count(),
        "attachments": Attachment.objects.filter(case__in=cases).count(),
        "ratings": list(Rating.objects.filter(case__in=cases).values_list("score", flat=True)),
    }


def test_erasure_needs_yes_and_changes_nothing_without_it(
    cooperative, member, alfa_and_gamma_cases
):
    with pytest.raises(CommandError, match="--yes"):
        call_command("cooperative_erase", cooperative=str(cooperative.pk), stdout=io.StringIO())

    member.refresh_from_db()
    assert member.is_active and member.email
    assert Message.objects.filter(body=PUBLIC_TEXT).exists()


def test_erasure_removes_personal_data_and_keeps_the_figures(
    tmp_path, cooperative, member, alfa_and_gamma_cases
):
    before = _snapshot(cooperative)
    personal = [
        f'"{member.username}"',  # quoted: "socio.multi" stays, and contains it
        member.email,
        member.first_name,
        member.last_name,
        PUBLIC_TEXT,
        MARKER,
        "Fantozzi",
        "Ugo",
        "Appunti interni",
    ]
    member_email = member.email
    paths = [Path(a.file.path) for a in Attachment.objects.filter(case__cooperative=cooperative)]
    assert all(path.exists() for path in paths)
    out = io.StringIO()

    with translation.override("en"):
        call_command("cooperative_erase", cooperative=str(cooperative.pk), yes=True, stdout=out)

    # The figures for statistics are all there.
    after = _snapshot(cooperative)
    assert after == before
    # The member's account is anonymous and closed.
    member.refresh_from_db()
    assert not member.is_active
    assert not member.has_usable_password()
    assert (member.first_name, member.last_name, member.email) == ("", "", "")
    assert member.username == f"cancellato-{member.pk}"
    assert not Token.objects.filter(user=member).exists()
    assert not AccessAttempt.objects.filter(username="socio").exists()
    # Whoever also acts for another cooperative keeps their account.
    shared = alfa_and_gamma_cases["shared"]
    shared.refresh_from_db()
    assert shared.is_active and shared.username == "socio.multi" and shared.email
    # Texts, documents and comments are gone.
    cases = Case.objects.filter(cooperative=cooperative)
    assert set(Message.objects.filter(case__in=cases).values_list("body", flat=True)) == {
        "[cancellato]"
    }
    assert set(cases.values_list("subject", flat=True)) == {"[cancellato]"}
    for attachment in Attachment.objects.filter(case__in=cases):
        assert (attachment.size, attachment.file.name, attachment.sha256) == (0, "", "")
    assert not any(path.exists() for path in paths)
    assert Rating.objects.get(case=alfa_and_gamma_cases["worked"]).comment == ""
    for notification in Notification.objects.filter(case__in=cases):
        assert member_email not in notification.email + notification.body
    # Nothing personal is left anywhere the export looks.
    files, _output = _export(cooperative.pk, tmp_path, "after.zip")
    text = _text(files)
    for value in personal:
        assert value not in text, value
    assert "Members anonymised and deactivated: 1;" in out.getvalue()
    assert "cases kept for statistics: 2." in out.getvalue()


def test_erasure_leaves_other_cooperatives_untouched(cooperative, alfa_and_gamma_cases):
    gamma_member = alfa_and_gamma_cases["gamma_member"]
    names = (gamma_member.first_name, gamma_member.last_name, gamma_member.email)
    gamma_file = Path(Attachment.objects.get(case=alfa_and_gamma_cases["theirs"]).file.path)
    before = _snapshot(alfa_and_gamma_cases["gamma"])
    subject = Case.objects.get(pk=alfa_and_gamma_cases["theirs"].pk).subject

    call_command(
        "cooperative_erase", cooperative=str(cooperative.pk), yes=True, stdout=io.StringIO()
    )

    gamma_member.refresh_from_db()
    assert gamma_member.is_active
    assert (gamma_member.first_name, gamma_member.last_name, gamma_member.email) == names
    assert Message.objects.filter(case=alfa_and_gamma_cases["theirs"], body=OTHER_TEXT).exists()
    assert Case.objects.get(pk=alfa_and_gamma_cases["theirs"].pk).subject == subject
    assert gamma_file.exists()
    assert _snapshot(alfa_and_gamma_cases["gamma"]) == before
    assert Notification.objects.filter(recipient=gamma_member).exclude(body="[cancellato]").exists()


def test_erasure_can_run_twice(cooperative, alfa_and_gamma_cases):
    for _ in range(2):
        call_command(
            "cooperative_erase",
            cooperative=str(cooperative.pk),
            yes=True,
            stdout=io.StringIO(),
        )

    assert Case.objects.filter(cooperative=cooperative).count() == 2
