"""Pages of the consultant workspace and the supervisor's queues (federation staff only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework import deadline_words, hours, mail_timeline, policy, reminders, routing
from casework.audit import case_read_recorded
from casework.downloads import document_response, preview_kind, wants_inline
from casework.errors import CaseError, ConflictError, ForbiddenError, NotFoundError
from casework.models import (
    Case,
    CaseAccess,
    CaseEvent,
    CaseStatus,
    Channel,
    OutcomeCode,
    PracticeArea,
    Priority,
    SlaPause,
    Specialty,
    UserProfile,
)
from casework.preferences import preferences_of
from casework.presenters import CLOCK_LABELS, SlaSummary, clock_rows, sla_summary
from casework.roles import Roles, roles_of
from casework.selectors import (
    attachments_visible_to,
    cases_visible_to,
    messages_visible_to,
    sharing_of,
)
from casework.services import mark_read
from workflows import process
from workflows.flows import CaseFlow, FollowUpFlow
from workflows.selectors import (
    HUMAN_STEPS,
    available_tasks,
    by_case_activity,
    by_case_due,
    case_of,
    my_tasks,
    with_case_read_state,
)

from . import composer, forms

PAGE_SIZE = 25
ACTIVE_TASK = (STATUS.NEW, STATUS.ASSIGNED)


def staff_required(view):
    """Anonymous users go to the login page; anyone who is not federation staff gets a 403."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not roles_of(request.user).is_staff_role:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(guarded)


def _display_name(user, *, nobody: str | None = None) -> str:
    """A person's name; events without an actor were done by Sportello itself."""
    if user is None:
        return nobody or _("Sportello")
    return user.get_full_name() or user.get_username()


def _back(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- Tasks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    task: Task
    case: Case | None
    step: str
    sla: SlaSummary | None
    url: str
    unread: bool = False  # for the reader: the case moved since they last opened it
    last_activity_at: datetime | None = None


def _task_url(task: Task, case: Case | None) -> str:

    if task.flow_task is FollowUpFlow.review:
        return reverse("work:follow_up", args=[task.pk])
    if case is None:
        return reverse("work:inbox")
    return reverse("work:case", args=[case.pk])


def _task_rows(tasks, *, now: datetime) -> list[TaskRow]:

    rows = []
    for task in tasks:
        case = case_of(task)
        rows.append(
            TaskRow(
                task=task,
                case=case,
                step=str(task.flow_task.task_title),
                sla=sla_summary(case, now=now) if case is not None else None,
                url=_task_url(task, case),
                # Annotated by `_sorted_tasks` (workflows.selectors.with_case_read_state).
                unread=case is not None and bool(getattr(task, "case_unread", False)),
                last_activity_at=case.last_activity_at if case is not None else None,
            )
        )
    return rows


SORT_BY_ACTIVITY = "activity"


SORT_BY_TASK_AGE = "oldest"


def _sorted_tasks(request, tasks):
    """Tasks with their case's read state, in the order asked for: by default the case due
    soonest first; `?sort=activity` the newest activity first; `?sort=oldest` the oldest task
    first."""
    tasks = with_case_read_state(tasks, request.user)
    sort = request.GET.get("sort")
    if sort == SORT_BY_ACTIVITY:
        return by_case_activity(tasks), SORT_BY_ACTIVITY
    if sort == SORT_BY_TASK_AGE:
        return tasks, SORT_BY_TASK_AGE
    return by_case_due(tasks), ""


def _visible_task(user, task_id: int) -> tuple[Task, Case]:
    """A task whose case the user may see, with that case; 404 for anything else."""

    visible = cases_visible_to(user)
    task = get_object_or_404(
        Task.objects.select_related(
            "owner",
            "process__caseprocess__case__area",
            "process__followupprocess__case__area",
        ).filter(
            Q(process__caseprocess__case__in=visible)
            | Q(process__followupprocess__case__in=visible)
        ),
        pk=task_id,
    )
    case = case_of(task)
    if case is None:
        raise Http404
    return task, case


@staff_required
def task_open(request, task_pk):
    """A task opens as the page of its case, where every action of a task lives."""
    task, case = _visible_task(request.user, task_pk)
    return redirect(_task_url(task, case))


@staff_required
def inbox(request):

    tasks, sort = _sorted_tasks(request, my_tasks(request.user))
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _task_rows(page.object_list, now=timezone.now())
    return render(
        request,
        "workspace/inbox.html",
        {"page": page, "rows": rows, "section": "inbox", "sort": sort},
    )


def _queue_steps(roles: Roles):

    steps = [("work", CaseFlow.work)]
    if roles.supervises_all or roles.supervised_area_ids:
        steps = [
            ("triage", CaseFlow.triage),
            ("assign_manually", CaseFlow.assign_manually),
            *steps,
            ("review", FollowUpFlow.review),
        ]
    return steps


@staff_required
def queue(request):

    steps = _queue_steps(roles_of(request.user))
    tasks = available_tasks(request.user)
    step = request.GET.get("step", "")
    node = dict(steps).get(step)
    if node is not None:
        tasks = tasks.filter(flow_task=node)
    else:
        step = ""
    tasks, sort = _sorted_tasks(request, tasks)
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "workspace/queue.html",
        {
            "page": page,
            "rows": _task_rows(page.object_list, now=timezone.now()),
            "steps": [(slug, str(node.task_title)) for slug, node in steps],
            "step": step,
            "section": "queue",
            "sort": sort,
        },
    )


@staff_required
@require_POST
def claim(request, task_id):

    task, case = _visible_task(request.user, task_id)
    back = _back(request, reverse("work:queue"))
    try:
        process.task_claim(task=task.pk, actor=request.user)
    except ConflictError as refused:
        if refused.code == "already_claimed":
            task.refresh_from_db(fields=["owner", "status"])
            if task.status not in ACTIVE_TASK:
                messages.error(request, _("This task is already finished; nothing was changed."))
            elif task.owner_id == request.user.pk:
                messages.info(request, _("You already hold this task: it is in your inbox."))
            else:
                messages.error(
                    request,
                    _("This task has already been claimed by someone else; nothing was changed."),
                )
        else:
            messages.error(request, refused.message)
        return redirect(back)
    except CaseError as refused:
        messages.error(request, refused.message)
        return redirect(back)
    messages.success(
        request, _("You claimed the task on %(reference)s.") % {"reference": case.reference}
    )
    return redirect(_task_url(task, case))


@staff_required
@require_POST
def release(request, task_id):

    task, case = _visible_task(request.user, task_id)
    back = _back(request, reverse("work:inbox"))
    try:
        process.task_release(task=task.pk, actor=request.user)
    except CaseError as refused:
        messages.error(request, refused.message)
        return redirect(back)
    messages.success(
        request,
        _("The task on %(reference)s is back in the queue.") % {"reference": case.reference},
    )
    return redirect(back)


# --- Actions on a case ---------------------------------------------------------------------


def _supervises(case: Case, roles: Roles) -> bool:
    return roles.supervises_area(case.area_id)


def _no_kwargs(case: Case, roles: Roles) -> dict:
    return {}


def _case_kwargs(case: Case, roles: Roles) -> dict:
    return {"case": case}


def _triage_kwargs(case: Case, roles: Roles) -> dict:
    return {"case": case, "area_ids": None if roles.supervises_all else roles.supervised_area_ids}


@dataclass(frozen=True)
class CaseAction:
    """One form of the case page: who sees it, the form, and the one process call it makes."""

    slug: str
    title: Any
    button: Any
    done: Any
    form_class: type[forms.WorkspaceForm]
    action: policy.Action  # shown when `casework.policy` allows it to this person
    perform: Callable[[Any, Case, Any, dict], object]
    form_kwargs: Callable[[Case, Roles], dict] = _no_kwargs
    supervision: bool = False
    # A button alone: the form's fields are optional and the page does not show them.
    one_click: bool = False

    @property
    def url_name(self) -> str:
        return self.slug.replace("-", "_")

    def form(self, case: Case, roles: Roles, data=None) -> forms.WorkspaceForm:
        return self.form_class(data, prefix=self.slug, **self.form_kwargs(case, roles))


# The forms of the case page besides the composer (`composer.MODES`: reply, note, request for
# information, resolution, hand-back and time): the one-click acknowledgement and supervision.
CASE_ACTIONS = (
    CaseAction(
        slug="acknowledge",
        title=gettext_lazy("Acknowledge"),
        button=gettext_lazy("Send the first response"),
        done=gettext_lazy("First response sent on %(reference)s."),
        form_class=forms.AcknowledgeForm,
        action=policy.Action.ACKNOWLEDGE,
        perform=lambda process, case, user, data: process.case_acknowledge(
            case=case, actor=user, body=data["body"]
        ),
        one_click=True,
    ),
    CaseAction(
        slug="triage",
        title=gettext_lazy("Triage"),
        button=gettext_lazy("Confirm the triage"),
        done=gettext_lazy("%(reference)s is triaged."),
        form_class=forms.TriageForm,
        action=policy.Action.TRIAGE,
        perform=lambda process, case, user, data: process.case_triage(
            case=case,
            actor=user,
            area=data["area"],
            specialty=data["specialty"],
            priority=data["priority"],
        ),
        form_kwargs=_triage_kwargs,
        supervision=True,
    ),
    CaseAction(
        slug="reject",
        title=gettext_lazy("Reject"),
        button=gettext_lazy("Reject the case"),
        done=gettext_lazy("%(reference)s is rejected; the cooperative is told why."),
        form_class=forms.RejectForm,
        action=policy.Action.REJECT,
        perform=lambda process, case, user, data: process.case_reject(
            case=case, actor=user, reason=data["reason"], explanation=data["explanation"]
        ),
        supervision=True,
    ),
    CaseAction(
        slug="assign",
        title=gettext_lazy("Assign or reassign"),
        button=gettext_lazy("Assign"),
        done=gettext_lazy("%(reference)s is assigned."),
        form_class=forms.AssignForm,
        action=policy.Action.ASSIGN,
        perform=lambda process, case, user, data: process.case_assign(
            case=case, actor=user, consultant=data["consultant"].user
        ),
        form_kwargs=_case_kwargs,
        supervision=True,
    ),
    CaseAction(
        slug="priority",
        title=gettext_lazy("Change priority"),
        button=gettext_lazy("Change the priority"),
        done=gettext_lazy("Priority of %(reference)s updated."),
        form_class=forms.PriorityForm,
        action=policy.Action.CHANGE_PRIORITY,
        perform=lambda process, case, user, data: process.case_change_priority(
            case=case, actor=user, priority=data["priority"]
        ),
        form_kwargs=_case_kwargs,
        supervision=True,
    ),
    CaseAction(
        slug="cancel",
        title=gettext_lazy("Cancel the case"),
        button=gettext_lazy("Cancel the case"),
        done=gettext_lazy("%(reference)s is cancelled."),
        form_class=forms.CancelForm,
        action=policy.Action.CANCEL,
        perform=lambda process, case, user, data: process.case_cancel(
            case=case, actor=user, reason=data["reason"]
        ),
        supervision=True,
    ),
)
ACTIONS_BY_SLUG = {action.slug: action for action in CASE_ACTIONS}


def _visible_case(user, case_id: int) -> Case:
    return get_object_or_404(
        cases_visible_to(user).select_related(
            "cooperative__office", "area", "specialty", "assignee", "outcome", "requester", "rating"
        ),
        pk=case_id,
    )


@staff_required
@require_POST
def case_action(request, case_id, action):
    """Run one action of the case page: one process call; a refusal is shown, never a 500."""

    spec = ACTIONS_BY_SLUG.get(action)
    if spec is None:
        raise Http404
    case = _visible_case(request.user, case_id)
    roles = roles_of(request.user)
    form = spec.form(case, roles, request.POST)
    if form.is_valid():
        try:
            spec.perform(process, case, request.user, form.cleaned_data)
        except (ConflictError, ForbiddenError, NotFoundError) as refused:
            messages.error(request, refused.message)
            return redirect("work:case", case.pk)
        except CaseError as invalid:
            # A plain CaseError is about the input (empty text, wrong outcome): shown on the form.
            form.add_error(None, invalid.message)
        else:
            messages.success(request, spec.done % {"reference": case.reference})
            return _after_action(request, case)
    return _render_case(request, case, bound={spec.slug: form})


def _after_action(request, case: Case):
    """Back to the case, or to the inbox when the action took the case out of one's sight."""
    if cases_visible_to(request.user).filter(pk=case.pk).exists():
        return redirect("work:case", case.pk)
    return redirect("work:inbox")


@staff_required
@require_POST
def compose(request, case_id, mode=None):
    """Send what the composer holds: one transaction; an error keeps the text beside its field.

    The per-action URLs of earlier pages (`reply/`, `resolve/`...) post here with their mode.
    """
    case = _visible_case(request.user, case_id)
    data = request.POST
    if mode is not None:
        data = data.copy()
        data[f"{composer.PREFIX}-mode"] = mode
    if f"{composer.PREFIX}-insert" in data:
        form = composer.with_canned_text(case, request.user, data)
        return _render_case(request, case, composer_form=form)
    form = composer.composer_form(case, request.user, data, request.FILES)
    if form.is_valid():
        try:
            sent = composer.send(form=form, case=case, user=request.user)
        except CaseError as refused:
            # Nothing was saved; the refusal (the policy's words, or the input's) is shown on
            # the composer, which keeps what was written.
            form.refuse(refused.message)
        else:
            messages.success(request, sent.done % {"reference": case.reference})
            return _after_action(request, case)
    return _render_case(request, case, composer_form=form)


@staff_required
def case_page(request, case_id):
    case = _visible_case(request.user, case_id)
    case_read_recorded(user=request.user, case=case, channel=CaseAccess.Channel.PAGE)
    # Opening the case is reading it: it is no longer unread for this person.
    mark_read(case=case, user=request.user)
    return _render_case(request, case)


# --- The timeline --------------------------------------------------------------------------


@dataclass
class Entry:
    """One row of a case's timeline: a message, an internal note, a document or an event."""

    kind: str
    at: datetime
    who: str
    title: str
    details: list[str] = field(default_factory=list)
    text: str = ""
    attachment: Any = None
    order: int = 0
    pk: int = 0
    preview: str | None = None  # "image" or "pdf": the document can be shown on the page


@dataclass
class _Names:
    """What event rows store as codes, turned into names in a few queries for the whole page."""

    users: dict[str, str]
    areas: dict[str, str]
    specialties: dict[int, str]
    outcomes: dict[str, str]
    # The PEC provider of each certified e-mail (by InboundEmail id).
    providers: dict[int, str] = field(default_factory=dict)

    @classmethod
    def for_events(cls, case: Case, events: list[CaseEvent]) -> _Names:
        usernames, area_codes, specialty_ids, outcome_codes = set(), set(), set(), set()
        for event in events:
            for values in (event.before or {}, event.after or {}):
                for key in (
                    "assignee",
                    "previous_assignee",
                    "opened_by",
                    "username",
                    "responsible",
                ):
                    if values.get(key):
                        usernames.add(values[key])
                # The routing decision names the winner and the runner-up by username.
                params = values.get("reason_params")
                if isinstance(params, dict):
                    for key in ("username", "runner_up"):
                        if isinstance(params.get(key), str):
                            usernames.add(params[key])
                if values.get("area"):
                    area_codes.add(values["area"])
                if isinstance(values.get("specialty"), int):
                    specialty_ids.add(values["specialty"])
                if event.kind == CaseEvent.Kind.RESOLVED and values.get("outcome"):
                    outcome_codes.add(values["outcome"])
        users = {}
        if usernames:
            for user in (
                get_user_model()
                .objects.filter(username__in=usernames)
                .only("username", "first_name", "last_name")
            ):
                users[user.username] = _display_name(user)
        areas = (
            dict(PracticeArea.objects.filter(code__in=area_codes).values_list("code", "name"))
            if area_codes
            else {}
        )
        specialties = (
            dict(Specialty.objects.filter(pk__in=specialty_ids).values_list("pk", "name"))
            if specialty_ids
            else {}
        )
        outcomes = {}
        if outcome_codes:
            # An outcome code is unique within an area: prefer the case's area on a clash.
            for code, label, area_id in OutcomeCode.objects.filter(
                code__in=outcome_codes
            ).values_list("code", "label", "area_id"):
                if code not in outcomes or area_id == case.area_id:
                    outcomes[code] = label
        return cls(users, areas, specialties, outcomes, mail_timeline.providers_of(events))

    def user(self, username) -> str:
        return self.users.get(username, username) if username else _("nobody")


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value or "—"))


def _instant(value) -> str:
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return formats.date_format(timezone.localtime(when), "DATETIME_FORMAT")


def _event_details(event: CaseEvent, names: _Names) -> list[str]:
    """A readable description of an event in the reader's language, from its before/after."""
    kind, before, after = event.kind, event.before or {}, event.after or {}
    K = CaseEvent.Kind
    details: list[str] = []
    if kind == K.OPENED:
        details.append(
            _("Priority %(priority)s.")
            % {"priority": _label(Priority.choices, after.get("priority"))}
        )
        if after.get("opened_by"):
            details.append(
                _("Opened by %(who)s on the cooperative's behalf (%(channel)s).")
                % {
                    "who": names.user(after["opened_by"]),
                    "channel": _label(Channel.choices, after.get("channel")),
                }
            )
        elif after.get("channel") and after["channel"] != Channel.PORTAL:
            details.append(
                _("Received through: %(channel)s.")
                % {"channel": _label(Channel.choices, after["channel"])}
            )
        suggested = after.get("suggested_priority")
        if suggested and suggested != after.get("priority"):
            details.append(
                _("The cooperative suggested %(priority)s.")
                % {"priority": _label(Priority.choices, suggested)}
            )
    elif kind == K.TRIAGED:
        if "area" in after:
            details.append(
                _("Area %(area)s, specialty %(specialty)s.")
                % {
                    "area": names.areas.get(after["area"], after["area"]),
                    "specialty": names.specialties.get(after.get("specialty"), _("none")),
                }
            )
        details.append(
            _("Priority %(priority)s.")
            % {"priority": _label(Priority.choices, after.get("priority"))}
        )
    elif kind == K.REJECTED:
        details.append(
            _("Reason: %(reason)s.")
            % {"reason": _label(Case.RejectionReason.choices, after.get("reason"))}
        )
    elif kind in (K.ROUTED, K.ASSIGNED):
        if before.get("assignee") and before["assignee"] != after.get("assignee"):
            details.append(
                _("Reassigned from %(old)s to %(new)s.")
                % {"old": names.user(before["assignee"]), "new": names.user(after.get("assignee"))}
            )
        else:
            details.append(_("Assigned to %(who)s.") % {"who": names.user(after.get("assignee"))})
    elif kind == K.CLAIMED:
        details.append(
            _("Taken from the queue by %(who)s.") % {"who": names.user(after.get("assignee"))}
        )
    elif kind in (K.RELEASED, K.HANDED_BACK) and after.get("previous_assignee"):
        details.append(
            _("It was assigned to %(who)s.") % {"who": names.user(after["previous_assignee"])}
        )
    elif kind in hours.KINDS:
        details.extend(hours.timeline_words(event))
    elif kind == K.RESOLVED:
        outcome = after.get("outcome")
        details.append(
            _("Outcome: %(outcome)s.") % {"outcome": names.outcomes.get(outcome, outcome)}
        )
        if after.get("minutes"):
            details.append(
                ngettext("%(n)d minute spent.", "%(n)d minutes spent.", after["minutes"])
                % {"n": after["minutes"]}
            )
        if after.get("confirmation_due_at"):
            details.append(
                _("The cooperative may confirm or reopen until %(when)s")
                % {"when": _instant(after["confirmation_due_at"])}
            )
    elif kind == K.RATED and after.get("score"):
        details.append(_("Score %(score)d of 5.") % {"score": after["score"]})
    elif kind == K.PRIORITY_CHANGED:
        details.append(
            _("From %(old)s to %(new)s.")
            % {
                "old": _label(Priority.choices, before.get("priority")),
                "new": _label(Priority.choices, after.get("priority")),
            }
        )
    elif kind == K.CONFIDENTIALITY_CHANGED:
        if after.get("confidential"):
            details.append(
                _(
                    "Now confidential: only its requester, the legal representatives, its "
                    "participants and staff of the area see it."
                )
            )
        else:
            details.append(_("No longer confidential."))
    elif kind == K.PARTICIPANT_ADDED and after.get("username"):
        details.append(_("%(who)s follows the case.") % {"who": names.user(after["username"])})
    elif kind == K.PARTICIPANT_REMOVED and before.get("username"):
        details.append(
            _("%(who)s no longer follows the case.") % {"who": names.user(before["username"])}
        )
    elif kind == K.COOPERATIVE_MERGED:
        details.append(
            _("%(old)s merged into %(new)s: the case moved with it.")
            % {"old": before.get("cooperative_name"), "new": after.get("cooperative_name")}
        )
    elif kind == K.SLA_PAUSED and after.get("reason"):
        details.append(_label(SlaPause.Reason.choices, after["reason"]))
    elif kind in (K.WAITING_REMINDED, K.AUTO_CLOSE_WARNED):
        details.extend(reminders.timeline_words(event))
    elif kind in deadline_words.KINDS:
        details.extend(deadline_words.timeline_words(event, names.users))
    elif kind in mail_timeline.KINDS:
        # The workspace's reader is staff of the case (its page is theirs only).
        details.extend(mail_timeline.timeline_words(event, staff=True, providers=names.providers))
    if after.get("clock") in CLOCK_LABELS:
        details.append(str(CLOCK_LABELS[after["clock"]]))
    old, new = before.get("status"), after.get("status")
    if old and new and old != new:
        details.append(
            _("Status: %(old)s → %(new)s.")
            % {"old": _label(CaseStatus.choices, old), "new": _label(CaseStatus.choices, new)}
        )
    return details


# Events that only say "this message / document was added": the message itself is the entry.
_FOLDED_INTO_MESSAGE = (CaseEvent.Kind.REPLIED, CaseEvent.Kind.NOTE_ADDED)


def timeline(user, case: Case, *, newest_first: bool = False) -> list[Entry]:
    """Messages, internal notes, documents and events in time order, in four queries or so."""
    entries: list[Entry] = []
    message_ids = set()
    for message in messages_visible_to(user, case):
        message_ids.add(message.pk)
        entries.append(
            Entry(
                kind="note" if message.internal else "message",
                at=message.created_at,
                who=_display_name(message.author, nobody=_("a former user")),
                title=_("Internal note") if message.internal else _("Message"),
                text=message.body,
                order=1,
                pk=message.pk,
            )
        )
    attachments = attachments_visible_to(user, case)
    attachment_ids = set()
    for attachment in attachments:
        attachment_ids.add(attachment.pk)
        entries.append(
            Entry(
                kind="attachment",
                at=attachment.created_at,
                who=_display_name(attachment.uploaded_by, nobody=_("a former user")),
                title=_("Internal document") if attachment.internal else _("Document"),
                attachment=attachment,
                order=2,
                pk=attachment.pk,
                preview=preview_kind(attachment.content_type),
            )
        )
    events = list(case.events.select_related("actor"))
    names = _Names.for_events(case, events)
    for event in events:
        after = event.after or {}
        if event.kind in _FOLDED_INTO_MESSAGE and after.get("message") in message_ids:
            continue
        if event.kind == CaseEvent.Kind.ATTACHMENT_ADDED and after.get("attachment") in (
            attachment_ids
        ):
            continue
        entries.append(
            Entry(
                kind="event",
                at=event.created_at,
                who=_display_name(event.actor),
                title=event.get_kind_display(),
                details=_event_details(event, names),
                text=routing.reason_text_from_event(after, names.users) or event.note,
                order=0,
                pk=event.pk,
            )
        )
    # At the same instant the event ("Information requested") reads before its message.
    entries.sort(key=lambda entry: (entry.at, entry.order, entry.pk))
    if newest_first:
        # A stable sort: what happened at one instant keeps its reading order.
        entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries


# --- The case page -------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenTask:
    task: Task
    step: str
    mine: bool
    claimable: bool
    releasable: bool
    url: str | None


def _open_tasks(user, case: Case, roles: Roles) -> list[OpenTask]:

    # Only people's tasks: "waiting for the cooperative" is a handle the process holds itself.
    tasks = list(
        Task.objects.filter(
            Q(process__caseprocess__case=case) | Q(process__followupprocess__case=case),
            status__in=ACTIVE_TASK,
            flow_task__in=HUMAN_STEPS,
        )
        .select_related("owner")
        .order_by("created", "id")
    )
    if not tasks:
        return []
    claimable = set(
        available_tasks(user).filter(pk__in=[t.pk for t in tasks]).values_list("pk", flat=True)
    )
    rows = []
    for task in tasks:
        mine = task.owner_id == roles.user_id
        review = task.flow_task is FollowUpFlow.review
        rows.append(
            OpenTask(
                task=task,
                step=str(task.flow_task.task_title),
                mine=mine,
                claimable=task.pk in claimable,
                releasable=task.owner_id is not None and (mine or _supervises(case, roles)),
                url=reverse("work:follow_up", args=[task.pk])
                if review and _supervises(case, roles)
                else None,
            )
        )
    return rows


@dataclass(frozen=True)
class ShownForm:
    action: CaseAction
    form: forms.WorkspaceForm
    url: str


def _render_case(
    request,
    case: Case,
    *,
    bound: dict | None = None,
    composer_form: composer.ComposerForm | None = None,
):
    """The case page; a form given (bound, or the composer after "Insert") is shown as it is."""
    bound = bound or {}
    roles = roles_of(request.user)
    now = timezone.now()
    if composer_form is None:
        composer_form = composer.composer_form(case, request.user)
    order = preferences_of(request.user)["timeline_order"]
    newest_first = order == UserProfile.TimelineOrder.NEWEST
    forms_shown = []
    allowed = set(policy.allowed_actions(case, request.user))
    for action in CASE_ACTIONS:
        form = bound.get(action.slug)
        if form is None and action.action in allowed:
            form = action.form(case, roles)
        if form is not None:
            url = reverse(f"work:{action.url_name}", args=[case.pk])
            forms_shown.append(ShownForm(action, form, url))
    try:
        rating = case.rating
    except Case.rating.RelatedObjectDoesNotExist:
        rating = None
    return render(
        request,
        "workspace/case.html",
        {
            "case": case,
            "rating": rating,
            "sla": sla_summary(case, now=now),
            "clocks": clock_rows(case, now=now),
            "timeline": timeline(request.user, case, newest_first=newest_first),
            "timeline_order": order,
            "timeline_orders": UserProfile.TimelineOrder.choices,
            # Back to the case page (not to the URL a form posted to) at its timeline.
            "timeline_back": reverse("work:case", args=[case.pk]) + "#timeline",
            "tasks": _open_tasks(request.user, case, roles),
            "composer": composer_form
            if composer_form.modes or composer_form.is_bound or composer_form.errors
            else None,
            "compose_url": reverse("work:compose", args=[case.pk]) + f"#{composer.ANCHOR}",
            "work_forms": [shown for shown in forms_shown if not shown.action.supervision],
            "supervision_forms": [shown for shown in forms_shown if shown.action.supervision],
            "paused_since": case.sla_paused_at,
            "sharing": sharing_of(case, request.user),
            "hours": hours.case_panel(case, request.user),
        },
        status=400 if composer_form.errors or any(form.errors for form in bound.values()) else 200,
    )


@staff_required
def attachment(request, case_id, attachment_id):
    """A case's document, served only through the same visibility check as the case page."""
    case = _visible_case(request.user, case_id)
    document = get_object_or_404(attachments_visible_to(request.user, case), pk=attachment_id)
    case_read_recorded(user=request.user, case=case, channel=CaseAccess.Channel.DOWNLOAD)
    # `?inline=1` shows an image or a PDF in the browser; any other type is still a download.
    return document_response(document, inline=wants_inline(request))


# --- Follow-up of a low rating -------------------------------------------------------------


@staff_required
def follow_up(request, task_id):
    """A supervisor of the area looks into a low rating and writes down what was done."""

    task, case = _visible_task(request.user, task_id)
    if task.flow_task is not FollowUpFlow.review:
        raise Http404
    if not roles_of(request.user).supervises_area(case.area_id):
        raise PermissionDenied
    case = _visible_case(request.user, case.pk)
    follow = task.process.followupprocess
    done = task.status not in ACTIVE_TASK
    form = forms.FollowUpForm(request.POST or None, prefix="follow-up")
    if request.method == "POST" and form.is_valid():
        try:
            process.case_follow_up(task=task.pk, actor=request.user, note=form.cleaned_data["note"])
        except (ConflictError, ForbiddenError, NotFoundError) as refused:
            messages.error(request, refused.message)
            return redirect("work:follow_up", task.pk)
        except CaseError as invalid:
            form.add_error(None, invalid.message)
        else:
            messages.success(
                request,
                _("Follow-up of %(reference)s recorded.") % {"reference": case.reference},
            )
            return redirect("work:case", case.pk)
    try:
        rating = case.rating
    except Case.rating.RelatedObjectDoesNotExist:
        rating = None
    return render(
        request,
        "workspace/follow_up.html",
        {
            "task": task,
            "case": case,
            "rating": rating,
            "follow": follow,
            "done": done,
            "form": form,
        },
        status=400 if form.errors else 200,
    )
