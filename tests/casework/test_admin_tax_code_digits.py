"""A tax code typed with digits other than 0 to 9 is a form error in the admin, never a 500."""

import pytest
from django.core.management import CommandError
from django.urls import reverse

from casework import models
from casework.management.commands.cooperative_export import find_cooperative
from tests import factories

pytestmark = pytest.mark.django_db

# A valid partita IVA, then the same digits in Arabic-Indic script (int() reads each as 0-9).
VALID = "00488410010"
ARABIC_INDIC = VALID.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def _add(admin_browser, office, tax_code):
    data = {
        "name": "Cooperativa Gamma",
        "tax_code": tax_code,
        "office": str(office.pk),
        "sector": str(factories.SectorFactory().pk),
        "membership_status": "active",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    admin_browser.raise_request_exception = False
    return admin_browser.post(reverse("admin:casework_cooperative_add"), data)


@pytest.mark.parametrize(
    "tax_code", ["0048841001²", "①" * 11, ARABIC_INDIC, "IT " + ARABIC_INDIC], ids=repr
)
def test_tax_code_in_other_digits_is_a_form_error(admin_browser, office, tax_code):
    response = _add(admin_browser, office, tax_code)

    assert response.status_code == 200
    assert "11 digits" in str(response.context["adminform"].form.errors["tax_code"])
    assert not models.Cooperative.objects.filter(name="Cooperativa Gamma").exists()


def test_the_same_tax_code_in_ascii_digits_is_accepted(admin_browser, office):
    response = _add(admin_browser, office, VALID)

    assert response.status_code == 302
    assert models.Cooperative.objects.get(name="Cooperativa Gamma").tax_code == VALID


@pytest.mark.parametrize("query", ["²", "①" * 11, ARABIC_INDIC])
@pytest.mark.parametrize("model", ["cooperative", "case"])
def test_searching_for_a_tax_code_in_other_digits_finds_nothing(
    admin_browser, cooperative, model, query
):
    admin_browser.raise_request_exception = False

    response = admin_browser.get(reverse(f"admin:casework_{model}_changelist"), {"q": query})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


@pytest.mark.parametrize("reference", ["²", "①", "٣"])
def test_the_export_command_reads_ids_in_ascii_digits_only(cooperative, reference):
    with pytest.raises(CommandError):
        find_cooperative(reference)
    assert find_cooperative(str(cooperative.pk)) == cooperative
