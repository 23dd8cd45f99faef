"""Cooperatives from a CSV in the admin: a preview lists each row's error and writes nothing
until the file is clean; then the confirmation writes exactly what the preview showed."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casework import models
from tests import factories
from tests.factories import _partita_iva

pytestmark = pytest.mark.django_db

HEADER = "tax_code;name;office;sector;kind;membership_status;joined_on;city;email\n"


def _upload(admin_browser, text: str, encoding="utf-8"):
    return admin_browser.post(
        reverse("admin:casework_cooperative_import"),
        {
            "format": "0",  # CSV, the first of the formats offered
            "import_file": SimpleUploadedFile("cooperative.csv", text.encode(encoding)),
        },
    )


def test_a_file_with_errors_lists_each_row_and_writes_nothing(admin_browser, office):
    good, far = _partita_iva(2000001), _partita_iva(2000002)
    text = HEADER + (
        f"{good};Cooperativa Buona;BO;;social;active;2020-01-15;Bologna;buona@example.org\n"
        "12345678901;Cooperativa Sbagliata;BO;;social;active;2020-01-15;Imola;x@example.org\n"
        f"{far};Cooperativa Lontana;ZZ;;other;active;2020-01-15;Roma;l@example.org\n"
    )

    response = _upload(admin_browser, text)

    assert response.status_code == 200
    page = response.content.decode()
    # The bad tax code and the unknown office are each named beside their row.
    assert re.search(r"tax code|partita IVA", page, re.IGNORECASE)
    assert "ZZ" in page
    assert "confirm_form" not in response.context  # no way to confirm a file with errors
    assert not models.Cooperative.objects.filter(name__startswith="Cooperativa ").exists()


def test_a_file_not_in_utf8_is_a_form_error(admin_browser, office):
    text = (
        HEADER
        + f"{_partita_iva(2000003)};Cooperativa Società;BO;;social;active;;Forlì;f@example.org\n"
    )

    response = _upload(admin_browser, text, encoding="latin-1")

    assert response.status_code == 200
    assert "not UTF-8" in response.content.decode()
    assert not models.Cooperative.objects.filter(city="Forlì").exists()


def test_a_clean_file_is_previewed_then_written_once_confirmed(admin_browser, office):
    sector = factories.SectorFactory(code="social", name="Sociale")
    tax_code = _partita_iva(2000004)
    text = HEADER + (
        f"{tax_code};Cooperativa Nuova;bo;social;social;active;15/01/2020;Imola;n@example.org\n"
    )

    preview = _upload(admin_browser, text)

    assert preview.status_code == 200
    assert not models.Cooperative.objects.filter(tax_code=tax_code).exists()
    assert "confirm_form" in preview.context, re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", preview.content.decode())
    )[-1500:]
    confirm = preview.context["confirm_form"]
    response = admin_browser.post(
        reverse("admin:casework_cooperative_process_import"),
        {name: confirm[name].value() for name in confirm.fields},
    )

    assert response.status_code == 302
    cooperative = models.Cooperative.objects.get(tax_code=tax_code)
    assert (cooperative.name, cooperative.office, cooperative.sector, cooperative.kind) == (
        "Cooperativa Nuova",
        office,
        sector,
        "social",
    )
    assert str(cooperative.joined_on) == "2020-01-15"
