"""Pages of the cooperative portal, and the home that sends each role to its place.

Views are thin: they read through selectors, and every change of a case goes through
`workflows.process`; a refusal of the domain (`CaseError`) becomes a form error or a message on the
page, never a 500.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casework import mail_timeline, reminders
from casework.attachments import (
    sanitize_filename,
)
from casework.downloads import document_response, wants_inline
from casework.errors import CaseError
from casework.hours import waits_on_estimate
from casework.models import (
    Attachment,
    Case,
    CaseStatus,
    Channel,
    PracticeArea,
    Rating,
    UserProfile,
)
from casework.preferences import preferences_of, preferences_update
from casework.roles import roles_of
from casework.search import search_cases, validate_query
from casework.selectors import (
    attachment_visible_to,
    attachments_visible_to,
    case_list_for,
    cases_visible_to,
    cooperatives_of,
    events_visible_to,
    filter_unread,
    messages_visible_to,
    sharing_of,
)
from casework.services import mark_read
from workflows import process

from . import hours
from .forms import (
    CooperativeSwitchForm,
    IntakeForm,
    RatingForm,
    ReopenForm,
    ReplyForm,
)

SESSION_COOPERATIVE = "portal_cooperative_id"
PAGE_SIZE = 20
SORT_BY_ACTIVITY = "activity"  # `?sort=activity`: the newest activity first
# Filters of the member's list beyond the single statuses: what is still going on, and what
# waits on the cooperative itself (an answer, or a confirmation).
STATUS_GROUPS = {
    "open": CaseStatus.OPEN,
    "mine": (CaseStatus.WAITING, CaseStatus.RESOLVED),
}


# --- Home ----------------------------------------------------------------------------------


def place_of(user) -> str | None:
    """Where a user works: the dashboard, the workspace or the portal (None: no role yet)."""
    roles = roles_of(user)
    if roles.is_admin or roles.is_supervisor:
        return reverse("dashboard")
    if roles.is_consultant:
        return reverse("work:inbox")
    if roles.is_member:
        return reverse("portal-cases")
    return None


@login_required
def home(request):
    place = place_of(request.user)
    if place is not None:
        return redirect(place)
    # Logged in but with no role (e.g. a membership not yet approved): say so, kindly.
    return render(request, "casework/home.html", status=200)


# --- Cooperative portal --------------------------------------------------------------------


def member_page(view=None, *, staff_target=None):
    """The portal is for cooperative members; staff go to their own pages, others are refused.

    `staff_target(kwargs)` names where staff go instead (e.g. the workspace's page of the same
    case); by default their home.
    """

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            roles = roles_of(request.user)
            if not roles.is_member:
                if roles.is_staff_role:
                    return redirect(staff_target(kwargs) if staff_target else "home")
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def portal_cooperatives(request):
    """The member's cooperatives and the one the portal shows (kept in the session).

    The session holds only an id; it is honoured only while it is one of the user's own
    cooperatives, so a stale or forged value falls back to the first cooperative.
    """
    cooperatives = list(cooperatives_of(request.user).order_by("name"))
    chosen_id = request.session.get(SESSION_COOPERATIVE)
    current = next((c for c in cooperatives if c.pk == chosen_id), cooperatives[0])
    return current, cooperatives


def _member_case(request, pk: int) -> Case:
    """A case of one of the member's cooperatives, or 404 (never a hint that it exists)."""
    roles = roles_of(request.user)
    case = (
        case_list_for(request.user).filter(pk=pk, cooperative_id__in=roles.cooperative_ids).first()
    )
    if case is None:
        raise Http404(_("No such case."))
    return case


def _case_list_page(request, *, switch_form=None, status=200):
    current, cooperatives = portal_cooperatives(request)
    cases = case_list_for(request.user).filter(cooperative=current).order_by("-created_at", "-id")
    chosen = request.GET.get("status", "")
    if chosen in STATUS_GROUPS:
        cases = cases.filter(status__in=STATUS_GROUPS[chosen])
    elif chosen in CaseStatus.values:
        cases = cases.filter(status=chosen)
    else:
        chosen = ""
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        cases = filter_unread(cases, request.user, unread=True)
    # A search, best match first unless sorted; never the staff's words, whoever reads.
    query, query_error = request.GET.get("q", "").strip(), None
    try:
        validate_query(query)
    except ValidationError as error:
        query_error, cases, status = error.messages[0], cases.none(), 400
    else:
        cases = search_cases(cases, query=query, user=request.user, staff=False)
    sort = SORT_BY_ACTIVITY if request.GET.get("sort") == SORT_BY_ACTIVITY else ""
    if sort:
        cases = cases.order_by("-last_activity_at", "-id")
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    # Of the cases this person sees (a member: their own and those they follow).
    waiting_on_us = (
        cases_visible_to(request.user)
        .filter(cooperative=current, status__in=STATUS_GROUPS["mine"])
        .count()
    )
    return render(
        request,
        "portal/case_list.html",
        {
            "cooperative": current,
            "cooperatives": cooperatives,
            "switch_form": switch_form
            or CooperativeSwitchForm(user=request.user, initial={"cooperative": current.pk}),
            "page": page,
            "status": chosen,
            "only_unread": only_unread,
            "sort": sort,
            "query": query,
            "query_error": query_error,
            "statuses": CaseStatus.choices,
            "waiting_on_us": waiting_on_us,
            "hours": hours.usage_for(request.user, current),
            "now": timezone.now(),
        },
        status=status,
    )


@member_page
@require_GET
def portal_cases(request):
    return _case_list_page(request)


@member_page
@require_POST
def portal_switch_cooperative(request):
    form = CooperativeSwitchForm(request.POST, user=request.user)
    if not form.is_valid():
        # Only the user's own cooperatives are valid choices: anything else changes nothing.
        messages.error(request, _("You can only switch to one of your own cooperatives."))
        return _case_list_page(request, switch_form=form, status=400)
    cooperative = form.cleaned_data["cooperative"]
    request.session[SESSION_COOPERATIVE] = cooperative.pk
    messages.success(request, _("Now showing the cases of %(name)s.") % {"name": cooperative.name})
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("portal-cases")
    return redirect(target)


def _discard_stored(attachments: list[Attachment]) -> None:
    """Files written before a rollback have no row any more: remove them from disk."""
    for attachment in attachments:
        attachment.file.storage.delete(attachment.file.name)


def _attach_all(case, user, files, *, message=None, stored: list[Attachment]) -> None:
    for upload in files:
        stored.append(
            process.case_attach(case=case, uploaded_by=user, file=upload, message=message)
        )


@member_page
def portal_case_new(request):
    current, cooperatives = portal_cooperatives(request)
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            stored: list[Attachment] = []
            try:
                with transaction.atomic():
                    case = process.case_open(
                        requester=request.user,
                        cooperative=data["cooperative"],
                        area=data["area"],
                        specialty=data["specialty"],
                        subject=data["subject"],
                        description=data["description"],
                        priority=data["priority"],
                        channel=Channel.PORTAL,
                        confidential=data["confidential"],
                    )
                    _attach_all(case, request.user, data["documents"], stored=stored)
            except CaseError as refused:
                _discard_stored(stored)
                form.add_error(None, str(refused))
            else:
                request.session[SESSION_COOPERATIVE] = case.cooperative_id
                messages.success(
                    request,
                    _("Your case %(ref)s has been opened. We will keep you posted here.")
                    % {"ref": case.reference},
                )
                return redirect("portal-case", pk=case.pk)
    else:
        form = IntakeForm(user=request.user, initial={"cooperative": current.pk})
    areas = PracticeArea.objects.filter(is_active=True).order_by("position", "name")
    return render(
        request,
        "portal/case_new.html",
        {
            "form": form,
            "areas": areas,
            "cooperative": current,
            "several_cooperatives": len(cooperatives) > 1,
        },
    )


def _case_page(request, case: Case, *, status: int = 200, **forms):
    visible_attachments = attachments_visible_to(request.user, case)
    conversation = list(
        messages_visible_to(request.user, case).prefetch_related(
            Prefetch("attachments", queryset=visible_attachments)
        )
    )
    estimate = hours.estimate_context(case, request.user, forms.get("estimate_form"))
    # While the case waits on the cooperative, the last public message is the consultant's
    # question: any answer from the cooperative would have ended the wait (unless it waits on an
    # estimate, which only accepting or declining ends).
    question = None
    if case.status == CaseStatus.WAITING and estimate["estimate"] is None:
        question = next((m for m in reversed(conversation) if not m.internal), None)
    documents = attachments_visible_to(request.user, case).filter(message__isnull=True)
    rating = Rating.objects.filter(case=case).first()
    order = preferences_of(request.user)["timeline_order"]
    if order == UserProfile.TimelineOrder.NEWEST:
        conversation.reverse()
    # The reminders and warnings e-mailed to the cooperative, so that the page says what the
    # inbox got.
    reminders_sent = [
        (event.created_at, " ".join(reminders.timeline_words(event)))
        for event in events_visible_to(request.user, case).filter(kind__in=reminders.KINDS)
    ]
    # What came by e-mail and PEC: the cooperative's e-mails received, the documents of them
    # refused and why, the PEC receipts of what the federation sent (staff details left out).
    mail_events = list(
        events_visible_to(request.user, case).filter(kind__in=mail_timeline.MEMBER_KINDS)
    )
    providers = mail_timeline.providers_of(mail_events)
    mail_received = [
        (
            event.created_at,
            event.get_kind_display(),
            " ".join(mail_timeline.timeline_words(event, staff=False, providers=providers)),
        )
        for event in mail_events
    ]
    # A refusal shows at the top of the page, whichever section its form is in (or is no longer
    # shown in, because the case moved on meanwhile).
    action_errors = [error for form in forms.values() for error in form.non_field_errors()]
    context = {
        "action_errors": action_errors,
        "case": case,
        "conversation": conversation,
        "timeline_order": order,
        "timeline_orders": UserProfile.TimelineOrder.choices,
        # Back to the case page (not to the URL a form posted to) at its conversation.
        "timeline_back": reverse("portal-case", args=[case.pk]) + "#conversation",
        "question": question,
        "documents": documents,
        "rating": rating,
        "reminders_sent": reminders_sent,
        "mail_received": mail_received,
        "now": timezone.now(),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "reopen_form": forms.get("reopen_form") or ReopenForm(),
        "rating_form": forms.get("rating_form") or RatingForm(),
        "can_write": case.status
        in (CaseStatus.TRIAGE, CaseStatus.UNASSIGNED, CaseStatus.ASSIGNED, CaseStatus.WAITING),
        "can_answer": case.status in (CaseStatus.RESOLVED,),
        "can_rate": case.status == CaseStatus.CLOSED and rating is None,
        "sharing": sharing_of(case, request.user),
        **estimate,
    }
    return render(request, "portal/case_detail.html", context, status=status)


@member_page(staff_target=lambda kwargs: reverse("work:case", args=[kwargs["pk"]]))
@require_GET
def portal_case(request, pk):
    case = _member_case(request, pk)
    # Opening the case is reading it: no longer unread for this member (only for them).
    mark_read(case=case, user=request.user)
    return _case_page(request, case)


@member_page
@require_POST
def portal_case_reply(request, pk):
    case = _member_case(request, pk)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        files = form.cleaned_data["documents"]
        body = form.cleaned_data["body"].strip() or _("Documents sent: %(names)s") % {
            "names": ", ".join(sanitize_filename(upload.name) for upload in files)
        }
        # A case waiting on an estimate takes the message and goes on waiting for the answer.
        was_waiting = case.status == CaseStatus.WAITING and not waits_on_estimate(case)
        stored: list[Attachment] = []
        try:
            with transaction.atomic():
                message = process.case_post_message(case=case, author=request.user, body=body)
                _attach_all(case, request.user, files, message=message, stored=stored)
        except CaseError as refused:
            _discard_stored(stored)
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                _("Thank you: your answer has been sent and the case is back with the consultant.")
                if was_waiting
                else _("Your message has been sent."),
            )
            return redirect(reverse("portal-case", args=[case.pk]) + "#conversation")
    return _case_page(request, case, reply_form=form)


@member_page
@require_POST
def portal_case_confirm(request, pk):
    case = _member_case(request, pk)
    try:
        process.case_confirm(case=case, actor=request.user)
    except CaseError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Thank you: the case is closed."))
    return redirect("portal-case", pk=case.pk)


def _answer_estimate(request, pk, estimate_id, *, accepted: bool):
    case = _member_case(request, pk)
    form = hours.EstimateAnswerForm(request.POST)
    if form.is_valid():
        answer = process.case_accept_estimate if accepted else process.case_decline_estimate
        try:
            answer(estimate=estimate_id, actor=request.user, note=form.cleaned_data["note"])
        except CaseError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                _("Thank you: you accepted the estimate and the consultant goes on with the work.")
                if accepted
                else _("You declined the estimate; the consultant has been told."),
            )
            return redirect("portal-case", pk=case.pk)
    return _case_page(request, case, status=400, estimate_form=form)


@member_page
@require_POST
def portal_estimate_accept(request, pk, estimate_id):
    return _answer_estimate(request, pk, estimate_id, accepted=True)


@member_page
@require_POST
def portal_estimate_decline(request, pk, estimate_id):
    return _answer_estimate(request, pk, estimate_id, accepted=False)


@member_page
@require_POST
def portal_case_reopen(request, pk):
    case = _member_case(request, pk)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            process.case_reopen(case=case, actor=request.user, reason=form.cleaned_data["reason"])
        except CaseError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("The case is open again and back with the consultant."))
            return redirect("portal-case", pk=case.pk)
    return _case_page(request, case, reopen_form=form)


@member_page
@require_POST
def portal_case_rate(request, pk):
    case = _member_case(request, pk)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            process.case_rate(
                case=case,
                actor=request.user,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except CaseError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("Thank you for your rating."))
            return redirect("portal-case", pk=case.pk)
    return _case_page(request, case, rating_form=form)


@login_required
@require_GET
def attachment_download(request, pk):
    """A document, to whoever may see its case (internal ones to staff only); else 404."""
    attachment = attachment_visible_to(request.user, pk)
    if attachment is None:
        raise Http404(_("No such document."))
    # `?inline=1` shows an image or a PDF in the browser; any other type is still a download.
    return document_response(attachment, inline=wants_inline(request))


@login_required
@require_POST
def timeline_order(request):
    """Remember newest first or oldest first for the person's case pages, and go back there."""
    try:
        preferences_update(user=request.user, timeline_order=request.POST.get("order", ""))
    except CaseError as refused:
        messages.error(request, str(refused))
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("home")
    return redirect(target)
