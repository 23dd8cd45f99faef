"""Unmatched mail (under /work/mail/): what intake could not give a cooperative, for a supervisor
to link to one (which opens its case) or to discard with a reason.

A supervisor sees the mail of the mailboxes of their areas; the mail of a mailbox without an area
is for the supervisors of every area. The decisions are the intake service's
(`casework.services.mail_intake`), which records them and refuses a message already decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from casework import limits, policy
from casework.errors import CaseError, ConflictError, NotFoundError
from casework.inbound import parse, pec
from casework.inbound.errors import InboundError, MessageTooLarge
from casework.models import Cooperative, InboundEmail, Mailbox, Membership, PracticeArea
from casework.roles import Roles, roles_of
from casework.services import mail_intake

from .forms import WorkspaceForm
from .intake import _RequesterField, _TaggedSelect

PAGE_SIZE = 25
Status = InboundEmail.Status
# What waits for a supervisor: the unmatched mail to decide, and the mail intake failed on.
WAITING = (Status.UNMATCHED, Status.FAILED)
# What this page shows of a message: while it waits, and what a supervisor decided on it.
ON_THIS_PAGE = (*WAITING, Status.LINKED, Status.DISCARDED)


# --- Who sees which mail -------------------------------------------------------------------


def sorts_mail(roles: Roles) -> bool:
    """Unmatched mail is for supervisors (and administrators)."""
    return roles.is_supervisor or roles.is_admin


def mail_visible_to(roles: Roles) -> QuerySet[InboundEmail]:
    """The messages of the mailboxes whose mail this supervisor decides on (`policy`): those
    of their areas, and those of a mailbox without area for a supervisor of every area."""
    mail = InboundEmail.objects.filter(status__in=ON_THIS_PAGE)
    if not sorts_mail(roles):
        return mail.none()
    # A handful of mailboxes: asking the policy of each keeps the rule in one place.
    mailboxes = [
        mailbox.pk
        for mailbox in Mailbox.objects.only("pk", "area_id")
        if policy.may_decide_mail(roles, mailbox)
    ]
    return mail.filter(mailbox_id__in=mailboxes)


def waiting_mail_count(user) -> int:
    """The nav's badge: the unmatched mail waiting for this supervisor."""
    roles = roles_of(user)
    if not sorts_mail(roles):
        return 0
    return mail_visible_to(roles).filter(status=Status.UNMATCHED).count()


def supervisor_required(view):
    """Anonymous users go to the login page; anyone who does not sort mail gets a 403."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not sorts_mail(roles_of(request.user)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(guarded)


def _visible_mail(request, inbound_id: int) -> InboundEmail:
    """One message of this supervisor's mailboxes; another area's is not found (404)."""
    return get_object_or_404(
        mail_visible_to(roles_of(request.user)).select_related(
            "mailbox", "mailbox__area", "case", "cooperative", "decided_by"
        ),
        pk=inbound_id,
    )


# --- Forms ---------------------------------------------------------------------------------


class LinkForm(WorkspaceForm):
    """Link to a cooperative: the case is opened in the name of one of its people."""

    cooperative = forms.ModelChoiceField(
        label=gettext_lazy("Cooperative"),
        queryset=Cooperative.objects.none(),
        empty_label=gettext_lazy("Choose a cooperative…"),
    )
    requester = _RequesterField(
        label=gettext_lazy("On behalf of"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=gettext_lazy("The sender, if a member of the cooperative"),
        help_text=gettext_lazy(
            "The person who receives the case's e-mails and follows it in the portal."
        ),
        widget=_TaggedSelect(tag="cooperative", of=lambda m: m.cooperative_id),
    )
    area = forms.ModelChoiceField(
        label=gettext_lazy("Practice area"),
        queryset=PracticeArea.objects.none(),
        required=False,
        empty_label=gettext_lazy("The mailbox's area"),
    )

    def __init__(self, *args, roles: Roles, mailbox: Mailbox, **kwargs):
        super().__init__(*args, **kwargs)
        active = Cooperative.MembershipStatus.ACTIVE
        self.fields["cooperative"].queryset = Cooperative.objects.filter(
            membership_status=active
        ).order_by("name")
        self.fields["requester"].queryset = (
            Membership.objects.filter(cooperative__membership_status=active, user__is_active=True)
            .select_related("user", "cooperative")
            .order_by("cooperative__name", "user__last_name", "user__first_name", "user__username")
        )
        # A supervisor opens the case in an area of their own; without a choice, the mailbox's.
        areas = PracticeArea.objects.filter(is_active=True).order_by("position", "name")
        if not roles.supervises_all:
            areas = areas.filter(pk__in=roles.supervised_area_ids)
        area = self.fields["area"]
        area.queryset = areas
        if mailbox.area_id is None:
            area.empty_label = _("The first practice area (the mailbox has none)")

    def clean(self):
        data = super().clean()
        cooperative, requester = data.get("cooperative"), data.get("requester")
        if cooperative and requester and requester.cooperative_id != cooperative.pk:
            self.add_error("requester", _("This person is not of the chosen cooperative."))
        return data


class DiscardForm(WorkspaceForm):
    reason = forms.CharField(
        label=gettext_lazy("Why it is discarded"),
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept with the e-mail, for whoever looks at it later."),
        error_messages={"required": gettext_lazy("Say why the e-mail is discarded.")},
    )


# Which field a refusal of the service is about (its `code`); others go above the form.
FIELD_OF_REFUSAL = {
    "cooperative": "cooperative",
    "requester": "requester",
    "area": "area",
    # Opening the case in an area the supervisor does not answer for.
    "forbidden": "area",
    "required": "reason",
    "too_long": "reason",
}


# --- Pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailRow:
    inbound: InboundEmail
    why: str


@dataclass(frozen=True)
class MailPage:
    """One page of a section of the list, with its own page parameter (the two page apart)."""

    rows: list[MailRow]
    page: Any
    previous_url: str | None
    next_url: str | None


def why_it_waits(inbound: InboundEmail) -> str:
    """What keeps a message on this page, in the reader's language."""
    return inbound.error or str(inbound.get_status_display())


def _section(request, mail: QuerySet[InboundEmail], param: str) -> MailPage:
    page = Paginator(mail, PAGE_SIZE).get_page(request.GET.get(param))

    def url(number: int) -> str:
        query = request.GET.copy()
        query[param] = str(number)
        return f"?{query.urlencode()}"

    return MailPage(
        rows=[MailRow(inbound, why_it_waits(inbound)) for inbound in page.object_list],
        page=page,
        previous_url=url(page.previous_page_number()) if page.has_previous() else None,
        next_url=url(page.next_page_number()) if page.has_next() else None,
    )


@supervisor_required
def mail_list(request):
    """The unmatched mail, newest first, and below it the mail intake could not process."""
    mail = mail_visible_to(roles_of(request.user)).select_related("mailbox")
    return render(
        request,
        "workspace/mail_list.html",
        {
            "waiting": _section(request, mail.filter(status=Status.UNMATCHED), "page"),
            "failed": _section(request, mail.filter(status=Status.FAILED), "failed_page"),
        },
    )


@dataclass(frozen=True)
class Shown:
    """What the page shows of the original: its headers, its text, its attachments' names."""

    headers: list[tuple[str, str]]
    text: str
    attachments: list[str]
    problem: str = ""


def _addresses(addresses) -> str:
    return ", ".join(
        f"{one.name} <{one.address}>" if one.name else one.address for one in addresses
    )


def _when(value) -> str:
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATETIME_FORMAT")


def _read_original(inbound: InboundEmail) -> Shown:
    """The stored original parsed again, the PEC envelope opened: its plain text only (the HTML
    of a mail is never shown, only the text read from it)."""
    if inbound.size > parse.MAX_MESSAGE_BYTES:
        # Not read into memory only to be refused: the download still has it.
        return Shown([], "", [], str(MessageTooLarge().message))
    try:
        with inbound.raw.open("rb") as handle:
            raw = handle.read()
    except (FileNotFoundError, ValueError, OSError):
        return Shown([], "", [], _("The original message is no longer stored."))
    try:
        incoming = parse.parse(raw)
        envelope = pec.read_pec(incoming, pec_mailbox=inbound.mailbox.is_pec)
    except InboundError as unreadable:
        return Shown([], "", [], str(unreadable.message))
    if envelope is not None and envelope.inner is not None:
        incoming = envelope.inner
    sender = _addresses([parse.Address(incoming.from_address, incoming.from_name)])
    headers = [
        (_("From"), sender),
        (_("Reply to"), _addresses(incoming.reply_to)),
        (_("To"), _addresses(incoming.to)),
        (_("Cc"), _addresses(incoming.cc)),
        (_("Date"), _when(incoming.date)),
        (_("Subject"), incoming.subject),
        (_("Message-ID"), incoming.message_id),
    ]
    return Shown(
        headers=[(name, value) for name, value in headers if value],
        text=incoming.text,
        attachments=[part.filename or _("(no name)") for part in incoming.attachments],
    )


def _name(user) -> str:
    if user is None:
        return _("a former user")
    return user.get_full_name() or user.get_username()


def _render_detail(request, inbound: InboundEmail, *, link_form=None, discard_form=None):
    roles = roles_of(request.user)
    bound = link_form is not None or discard_form is not None
    return render(
        request,
        "workspace/mail_detail.html",
        {
            "inbound": inbound,
            "shown": _read_original(inbound),
            "undecided": inbound.status in mail_intake.UNDECIDED,
            "why": why_it_waits(inbound) if inbound.status in WAITING else "",
            "decided_by": _name(inbound.decided_by),
            "link_form": link_form or LinkForm(roles=roles, mailbox=inbound.mailbox),
            "discard_form": discard_form or DiscardForm(prefix="discard"),
        },
        status=400 if bound else 200,
    )


@supervisor_required
def mail_detail(request, inbound_id):
    return _render_detail(request, _visible_mail(request, inbound_id))


def _decided_meanwhile(request, inbound: InboundEmail, refusal: CaseError):
    """Someone else decided first (or the e-mail is gone): say so on the e-mail's page, which
    now shows that decision."""
    messages.error(request, refusal.message)
    return redirect("work:mail_detail", inbound.pk)


@supervisor_required
@require_POST
def mail_link(request, inbound_id):
    """Link the e-mail to a cooperative: the case opens, and its page follows."""
    inbound = _visible_mail(request, inbound_id)
    form = LinkForm(request.POST, roles=roles_of(request.user), mailbox=inbound.mailbox)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = mail_intake.mail_link(
                inbound=inbound,
                actor=request.user,
                cooperative=data["cooperative"],
                requester=data["requester"].user if data["requester"] else None,
                area=data["area"],
            )
        except (ConflictError, NotFoundError) as refused:
            return _decided_meanwhile(request, inbound, refused)
        except CaseError as refused:
            form.add_error(FIELD_OF_REFUSAL.get(refused.code), refused.message)
        else:
            messages.success(
                request,
                _("Case %(ref)s opened for %(cooperative)s from the e-mail of %(sender)s.")
                % {
                    "ref": case.reference,
                    "cooperative": case.cooperative.name,
                    "sender": inbound.from_address or _("an unknown sender"),
                },
            )
            return redirect("work:case", case.pk)
    return _render_detail(request, inbound, link_form=form)


@supervisor_required
@require_POST
def mail_discard(request, inbound_id):
    """Discard the e-mail with a reason: it stays, with who decided and why."""
    inbound = _visible_mail(request, inbound_id)
    form = DiscardForm(request.POST, prefix="discard")
    if form.is_valid():
        try:
            mail_intake.mail_discard(
                inbound=inbound, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except (ConflictError, NotFoundError) as refused:
            return _decided_meanwhile(request, inbound, refused)
        except CaseError as refused:
            form.add_error(FIELD_OF_REFUSAL.get(refused.code), refused.message)
        else:
            messages.success(
                request,
                _("The e-mail of %(sender)s is discarded.")
                % {"sender": inbound.from_address or _("an unknown sender")},
            )
            return redirect("work:mail")
    return _render_detail(request, inbound, discard_form=form)


@supervisor_required
def mail_original(request, inbound_id):
    """The whole original as a `.eml` download, never shown in the browser."""
    inbound = _visible_mail(request, inbound_id)
    try:
        handle = inbound.raw.open("rb")
    except (FileNotFoundError, ValueError, OSError) as missing:
        raise Http404(_("The original message is no longer stored.")) from missing
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"message-{inbound.pk}.eml",
        content_type="message/rfc822",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
