"""The supervisors' list of unmatched mail (/work/mail/): who sees it, what it shows, and the two
decisions (link to a cooperative, which opens the case; discard with a reason).

The e-mails come in through `mail_take`, as the poll hands them over; nothing is mocked.
"""

from __future__ import annotations

import html
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from casework.models import Case, CaseEvent, InboundEmail, Mailbox
from casework.services.mail_intake import mail_discard, mail_take
from tests import factories
from tests.inbound import sample

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
Status = InboundEmail.Status
STRANGER = "sconosciuto@example.org"


@pytest.fixture(autouse=True)
def unmatched_mail_media(settings, tmp_path):
    """The originals go to a temporary directory, never to var/uploads."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def legal_inbox(process_setup):
    """The legal area's mailbox."""
    return Mailbox.objects.create(
        name="legale",
        address="legale@federazione.example",
        kind=Mailbox.Kind.MAILDIR,
        path="var/mail/legale",
        area=process_setup,
    )


@pytest.fixture
def triage_inbox(process_setup):
    """The federation's general address: no area, so its mail is for every-area supervisors."""
    return Mailbox.objects.create(
        name="info", address="info@federazione.example", kind=Mailbox.Kind.MAILDIR, path="var/x"
    )


def _raw(
    *,
    subject="Richiesta di parere",
    text="Buongiorno, vorremmo un parere.",
    html_part=None,
    sender=f"Mario Sconosciuto <{STRANGER}>",
    number=1,
    attachments=(),
) -> bytes:
    mail = EmailMessage(policy=email_policy.SMTP)
    mail["From"] = sender
    mail["To"] = "legale@federazione.example"
    mail["Subject"] = subject
    mail["Date"] = "Mon, 05 Jan 2026 11:30:00 +0100"
    mail["Message-ID"] = f"<unmatched.{number}@example.org>"
    mail.set_content(text)
    if html_part is not None:
        mail.add_alternative(html_part, subtype="html")
    for name, content in attachments:
        mail.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    return mail.as_bytes()


def _unmatched(mailbox, *, received_at=None, **message) -> InboundEmail:
    inbound = mail_take(mailbox=mailbox, raw=_raw(**message), received_at=received_at)
    assert inbound.status == Status.UNMATCHED, inbound.error
    return inbound


def _page(response) -> str:
    return response.content.decode()


# --- Who sees it ---------------------------------------------------------------------------


def test_a_supervisor_of_the_area_sees_the_waiting_mail_newest_first(
    client, area_supervisor, legal_inbox
):
    older = _unmatched(
        legal_inbox, subject="Prima richiesta", received_at=datetime(2026, 1, 5, 9, tzinfo=ROME)
    )
    newer = _unmatched(
        legal_inbox,
        subject="Seconda richiesta",
        number=2,
        received_at=datetime(2026, 1, 6, 9, tzinfo=ROME),
    )
    client.force_login(area_supervisor)

    page = _page(client.get(reverse("work:mail")))

    assert page.index("Seconda richiesta") < page.index("Prima richiesta")
    assert "Mario Sconosciuto" in page and STRANGER in page
    assert "legale@federazione.example" in page
    # Why it waits: the intake's own reason.
    assert html.escape(older.error) in page
    assert reverse("work:mail_detail", args=[newer.pk]) in page


def test_failed_mail_is_listed_apart(client, area_supervisor, legal_inbox):
    failed = InboundEmail.objects.create(
        mailbox=legal_inbox,
        header_message_id="rotto@example.org",
        status=Status.FAILED,
        from_address=STRANGER,
        subject="Messaggio rotto",
        raw="inbound/rotto.eml",
        error="OperationalError: the disk was full",
    )
    client.force_login(area_supervisor)

    page = _page(client.get(reverse("work:mail")))

    waiting, failed_section = page.split("Could not be processed", 1)
    assert "Messaggio rotto" not in waiting
    assert "Messaggio rotto" in failed_section
    assert failed.error in failed_section
    assert "No e-mail is waiting" in waiting


def test_a_pec_is_marked_in_the_list(client, supervisor, process_setup):
    pec_inbox = Mailbox.objects.create(
        name="pec",
        address="sportello@pec.federazione.example",
        kind=Mailbox.Kind.MAILDIR,
        path="var/pec",
        area=process_setup,
        is_pec=True,
    )
    # The certified sender (alfa@pec.coopalfa.example) is nobody's address here.
    inbound = mail_take(mailbox=pec_inbox, raw=sample("pec_envelope.eml"))
    assert inbound.status == Status.UNMATCHED
    client.force_login(supervisor)

    page = _page(client.get(reverse("work:mail")))
    detail = _page(client.get(reverse("work:mail_detail", args=[inbound.pk])))

    assert '<span class="pill pec"' in page
    # The page shows the cooperative's own message inside the envelope, not the provider's.
    assert "Trasmettiamo l&#x27;avviso ricevuto" in detail
    assert "avviso.pdf.p7m" in detail


def test_the_nav_counts_the_waiting_mail_for_supervisors_only(
    client, area_supervisor, consultant, legal_inbox
):
    _unmatched(legal_inbox)
    _unmatched(legal_inbox, number=2)

    client.force_login(area_supervisor)
    supervisor_nav = _page(client.get(reverse("work:inbox")))
    client.force_login(consultant)
    consultant_nav = _page(client.get(reverse("work:inbox")))

    assert reverse("work:mail") in supervisor_nav
    assert '<span class="badge">2<span class="visually-hidden"> waiting' in supervisor_nav
    assert reverse("work:mail") not in consultant_nav


@pytest.mark.parametrize("who", ["consultant", "member"])
def test_consultants_and_members_are_refused(client, request, who, legal_inbox):
    inbound = _unmatched(legal_inbox)
    client.force_login(request.getfixturevalue(who))

    responses = [
        client.get(reverse("work:mail")),
        client.get(reverse("work:mail_detail", args=[inbound.pk])),
        client.get(reverse("work:mail_original", args=[inbound.pk])),
        client.post(reverse("work:mail_discard", args=[inbound.pk]), {"discard-reason": "Spam"}),
    ]

    assert [response.status_code for response in responses] == [403] * 4
    inbound.refresh_from_db()
    assert inbound.status == Status.UNMATCHED


def test_a_supervisor_of_another_area_neither_sees_nor_decides(client, other_area, legal_inbox):
    fiscal_supervisor = factories.SupervisorFactory(
        user__username="supervisore.fiscale", all_areas=False, areas=[other_area]
    ).user
    inbound = _unmatched(legal_inbox, subject="Riservato alla legale")
    client.force_login(fiscal_supervisor)

    page = _page(client.get(reverse("work:mail")))
    detail = client.get(reverse("work:mail_detail", args=[inbound.pk]))
    original = client.get(reverse("work:mail_original", args=[inbound.pk]))
    discard = client.post(
        reverse("work:mail_discard", args=[inbound.pk]), {"discard-reason": "Spam"}
    )

    assert "Riservato alla legale" not in page
    assert (detail.status_code, original.status_code, discard.status_code) == (404, 404, 404)
    inbound.refresh_from_db()
    assert inbound.status == Status.UNMATCHED


def test_mail_of_a_mailbox_without_area_is_for_every_area_supervisors(
    client, area_supervisor, supervisor, triage_inbox
):
    inbound = _unmatched(triage_inbox, subject="Per chi?")

    client.force_login(area_supervisor)
    refused = client.get(reverse("work:mail_detail", args=[inbound.pk]))
    client.force_login(supervisor)
    shown = client.get(reverse("work:mail_detail", args=[inbound.pk]))

    assert refused.status_code == 404
    assert shown.status_code == 200
    assert "Per chi?" in _page(shown)


# --- What the detail page shows ------------------------------------------------------------


def test_the_detail_shows_headers_text_and_attachment_names(client, area_supervisor, legal_inbox):
    inbound = _unmatched(
        legal_inbox,
        text="Vi scriviamo per il contratto.\nCordiali saluti",
        attachments=[("contratto.pdf", b"%PDF-1.4\n%%EOF\n")],
    )
    client.force_login(area_supervisor)

    page = _page(client.get(reverse("work:mail_detail", args=[inbound.pk])))

    assert "Mario Sconosciuto &lt;sconosciuto@example.org&gt;" in page
    assert "legale@federazione.example" in page
    assert "unmatched.1@example.org" in page
    assert "Vi scriviamo per il contratto.\nCordiali saluti" in page
    assert "contratto.pdf" in page
    assert reverse("work:mail_original", args=[inbound.pk]) in page
    assert "Link to a cooperative and open the case" in page


def test_the_html_of_a_mail_is_never_rendered(client, area_supervisor, legal_inbox):
    inbound = _unmatched(
        legal_inbox,
        text="Testo <script>alert('x')</script> semplice",
        html_part="<p>Testo</p><script>alert('html')</script><img src=x onerror=alert(1)>",
    )
    client.force_login(area_supervisor)

    page = _page(client.get(reverse("work:mail_detail", args=[inbound.pk])))

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "onerror" not in page


def test_the_original_is_a_download_for_the_supervisor(client, area_supervisor, legal_inbox):
    inbound = _unmatched(legal_inbox)
    client.force_login(area_supervisor)

    response = client.get(reverse("work:mail_original", args=[inbound.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".eml" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "message/rfc822"
    assert b"".join(response.streaming_content) == _raw()


# --- Link ------------------------------------------------------------------------------------


def test_linking_opens_the_case_and_goes_to_it(
    client, area_supervisor, consultant, legal_inbox, cooperative, member
):
    inbound = _unmatched(legal_inbox, subject="Contratto di appalto")
    membership = member.memberships.get(cooperative=cooperative)
    client.force_login(area_supervisor)

    response = client.post(
        reverse("work:mail_link", args=[inbound.pk]),
        {"cooperative": cooperative.pk, "requester": membership.pk},
        follow=True,
    )

    case = Case.objects.get(subject="Contratto di appalto")
    assert response.redirect_chain[-1][0] == reverse("work:case", args=[case.pk])
    assert f"Case {case.reference} opened for Cooperativa Alfa" in _page(response)
    assert (case.cooperative, case.requester, case.channel) == (cooperative, member, "email")
    inbound.refresh_from_db()
    assert (inbound.status, inbound.case, inbound.decided_by) == (
        Status.LINKED,
        case,
        area_supervisor,
    )
    linked = case.events.get(kind=CaseEvent.Kind.MAIL_LINKED)
    assert linked.actor == area_supervisor
    # The case page says who linked it, from where.
    assert "from unmatched mail" in _page(response)


def test_the_link_form_needs_a_cooperative(client, area_supervisor, legal_inbox):
    inbound = _unmatched(legal_inbox)
    client.force_login(area_supervisor)

    response = client.post(reverse("work:mail_link", args=[inbound.pk]), {"cooperative": ""})

    assert response.status_code == 400
    assert 'id="id_cooperative_errors"' in _page(response)
    inbound.refresh_from_db()
    assert inbound.status == Status.UNMATCHED


def test_a_requester_of_another_cooperative_is_refused_next_to_the_field(
    client, area_supervisor, legal_inbox, cooperative, other_member
):
    inbound = _unmatched(legal_inbox)
    client.force_login(area_supervisor)

    response = client.post(
        reverse("work:mail_link", args=[inbound.pk]),
        {"cooperative": cooperative.pk, "requester": other_member.memberships.get().pk},
    )

    assert response.status_code == 400
    page = _page(response)
    assert 'id="id_requester_errors"' in page
    assert "This person is not of the chosen cooperative." in page
    assert not Case.objects.exists()


def test_without_a_requester_a_sender_who_is_no_member_is_refused(
    client, area_supervisor, legal_inbox, cooperative, member
):
    inbound = _unmatched(legal_inbox)
    client.force_login(area_supervisor)

    response = client.post(
        reverse("work:mail_link", args=[inbound.pk]), {"cooperative": cooperative.pk}
    )

    assert response.status_code == 400
    page = _page(response)
    assert 'id="id_requester_errors"' in page
    assert "Choose the requester" in page
    assert not Case.objects.exists()


def test_the_requester_choice_lists_every_cooperative_for_the_page_script(
    client, area_supervisor, legal_inbox, cooperative, member, other_member
):
    inbound = _unmatched(legal_inbox)
    client.force_login(area_supervisor)

    page = _page(client.get(reverse("work:mail_detail", args=[inbound.pk])))

    assert f'data-cooperative="{cooperative.pk}"' in page
    assert "staff_intake.js" in page


# --- Discard ---------------------------------------------------------------------------------


def test_discarding_needs_a_reason(client, area_supervisor, legal_inbox):
    inbound = _unmatched(legal_inbox)
    client.force_login(area_supervisor)

    response = client.post(
        reverse("work:mail_discard", args=[inbound.pk]), {"discard-reason": "   "}
    )

    assert response.status_code == 400
    page = _page(response)
    assert 'id="id_discard-reason_errors"' in page
    inbound.refresh_from_db()
    assert inbound.status == Status.UNMATCHED


def test_discarding_records_who_and_why(client, area_supervisor, legal_inbox):
    inbound = _unmatched(legal_inbox, subject="Offerta imperdibile")
    client.force_login(area_supervisor)

    response = client.post(
        reverse("work:mail_discard", args=[inbound.pk]),
        {"discard-reason": "Pubblicità, nessuna cooperativa"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("work:mail")
    page = _page(response)
    assert f"The e-mail of {STRANGER} is discarded." in page
    assert "Offerta imperdibile" not in page.split("</ul>", 1)[1]
    inbound.refresh_from_db()
    assert inbound.status == Status.DISCARDED
    assert inbound.decided_by == area_supervisor
    assert inbound.decision_note == "Pubblicità, nessuna cooperativa"
    detail = _page(client.get(reverse("work:mail_detail", args=[inbound.pk])))
    assert "Discarded by" in detail and "Pubblicità, nessuna cooperativa" in detail


def test_a_decision_taken_meanwhile_by_someone_else_is_said_clearly(
    client, area_supervisor, supervisor, legal_inbox, cooperative, member
):
    inbound = _unmatched(legal_inbox)
    client.force_login(area_supervisor)
    # The page is open; meanwhile a colleague discards the e-mail.
    client.get(reverse("work:mail_detail", args=[inbound.pk]))
    mail_discard(inbound=inbound, actor=supervisor, reason="Già gestita per telefono")

    response = client.post(
        reverse("work:mail_link", args=[inbound.pk]),
        {"cooperative": cooperative.pk, "requester": member.memberships.get().pk},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("work:mail_detail", args=[inbound.pk])
    page = _page(response)
    assert "This e-mail has already been decided: discarded by a supervisor." in page
    assert "Link to a cooperative and open the case" not in page
    assert not Case.objects.exists()
    inbound.refresh_from_db()
    assert inbound.decided_by == supervisor


def test_the_list_query_count_does_not_grow_with_mail(
    client, area_supervisor, legal_inbox, django_assert_max_num_queries
):
    for number in range(3):
        _unmatched(legal_inbox, number=number)
    client.force_login(area_supervisor)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("work:mail"))
    for number in range(3, 20):
        _unmatched(legal_inbox, number=number)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("work:mail"))

    assert response.status_code == 200
