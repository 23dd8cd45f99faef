"""Signed documents through the portal (issue 15): a cooperative's .p7m is accepted, not 415."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from casework.attachments import allowed_type_names
from casework.models import Attachment
from tests.inbound import sample

pytestmark = pytest.mark.django_db


def test_a_member_replies_with_a_signed_document(client, member, member_case):
    client.force_login(member)

    response = client.post(
        f"/cases/{member_case.pk}/reply/",
        {
            "body": "Il verbale firmato",
            "documents": [SimpleUploadedFile("verbale.pdf.p7m", sample("verbale.pdf.p7m"))],
        },
    )

    assert response.status_code == 302
    stored = Attachment.objects.get(case=member_case)
    assert stored.content_type == "application/pkcs7-mime"
    assert stored.signature["signers"] == ["Mario Rossi (RSSMRA80A01H501U)"]


def test_the_accepted_kinds_name_signed_documents():
    with translation.override("en"):
        assert "Signed document (.p7m)" in allowed_type_names()
