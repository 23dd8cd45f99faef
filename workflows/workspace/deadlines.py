"""The workspace's deadlines: the Deadlines page, and adding, changing, marking done or reopening
a deadline of a case (the panel of the case page posts here; each is one service call)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from casework import deadline_agenda, deadline_words, limits, policy
from casework.errors import CaseError, ConflictError, ForbiddenError, NotFoundError
from casework.models import Case, Deadline, DeadlineKind, PracticeArea
from casework.roles import roles_of
from casework.selectors import deadlines_visible_to
from casework.services import deadlines as services

from .forms import TEXT_ROWS, WorkspaceForm
from .views import _back, _visible_case, staff_required

PREFIX = "deadline"
# A refusal of the service names the field at fault by its code.
_FIELD_OF_CODE = {
    "title": "title",
    "kind": "kind",
    "trigger_date": "trigger_date",
    "responsible": "responsible",
    "shared": "shared",
    "note": "note",
}


def responsible_candidates(case: Case):
    """Who may be made responsible for a deadline of the case: its staff (`policy.is_staff_of`:
    the area's consultants and supervisors, its assignee), active, by name."""
    return (
        get_user_model()
        .objects.filter(
            Q(consultant__is_active=True, consultant__areas=case.area_id)
            | Q(pk=case.assignee_id)
            | Q(supervisor__all_areas=True)
            | Q(supervisor__areas=case.area_id),
            is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class DeadlineForm(WorkspaceForm):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=services.TITLE_LENGTH)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=DeadlineKind.choices)
    trigger_date = forms.DateField(
        label=gettext_lazy("Trigger date"),
        help_text=gettext_lazy(
            "The day the term runs from (not counted); for a fixed date, the date itself."
        ),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    term_days = forms.IntegerField(
        label=gettext_lazy("Term in days"),
        required=False,
        min_value=1,
        max_value=services.MAX_TERM_DAYS,
        help_text=gettext_lazy("Calendar days; open days of the office for business days."),
    )
    term_months = forms.IntegerField(
        label=gettext_lazy("or term in months"),
        required=False,
        min_value=1,
        max_value=services.MAX_TERM_MONTHS,
    )
    responsible = forms.ModelChoiceField(
        label=gettext_lazy("Responsible"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=gettext_lazy("The case's assignee"),
    )
    shared = forms.BooleanField(
        label=gettext_lazy("Shared with the cooperative"),
        required=False,
        help_text=gettext_lazy("The cooperative sees it on its case and is reminded of it."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note (staff only)"),
        required=False,
        max_length=limits.SHORT_NOTE,
        widget=forms.Textarea(attrs={"rows": TEXT_ROWS}),
    )

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("prefix", PREFIX)
        super().__init__(*args, **kwargs)
        field = self.fields["responsible"]
        field.queryset = responsible_candidates(case)
        field.label_from_instance = lambda user: user.get_full_name() or user.get_username()

    @classmethod
    def of(cls, deadline: Deadline, data=None) -> DeadlineForm:
        """The form to change a deadline, filled with its values."""
        initial = {name: getattr(deadline, name) for name in services.CHANGEABLE}
        initial["responsible"] = deadline.responsible_id
        return cls(data, case=deadline.case, initial=initial, prefix=f"{PREFIX}-{deadline.pk}")

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in services.CHANGEABLE}

    def refuse(self, refusal: CaseError) -> None:
        """Show the service's refusal beside its field (the term's under the one given)."""
        name = _FIELD_OF_CODE.get(refusal.code)
        if refusal.code == "term":
            name = "term_months" if self.cleaned_data.get("term_months") else "term_days"
        self.add_error(name if name in self.fields else None, refusal.message)


def _visible_deadline(user, pk: int) -> Deadline:
    return get_object_or_404(
        deadlines_visible_to(user).select_related(
            "case__cooperative__office", "case__area", "case__assignee", "responsible", "area"
        ),
        pk=pk,
        case__isnull=False,
    )


def _case_url(case: Case) -> str:
    return reverse("work:case", args=[case.pk]) + "#deadlines"


@staff_required
def deadline_list(request):
    """The person's deadlines: missed, this week, the next 30 days (an area's, if chosen)."""
    roles = roles_of(request.user)
    areas = PracticeArea.objects.filter(is_active=True).order_by("position", "name")
    chosen = request.GET.get("area") or ""
    area = None
    if chosen:
        area = next((a for a in areas if a.code == chosen), None)
        if area is None:
            messages.error(request, _("There is no practice area “%(code)s”.") % {"code": chosen})
    today = timezone.localdate()
    return render(
        request,
        "workspace/deadlines.html",
        {
            "agenda": deadline_agenda.agenda(request.user, today=today, area=area),
            "areas": areas,
            "chosen_area": area.code if area else "",
            "supervisor": roles.is_supervisor or roles.is_admin,
        },
        status=400 if chosen and area is None else 200,
    )


def _form_page(request, *, case: Case, form: DeadlineForm, deadline: Deadline | None, status):
    return render(
        request,
        "workspace/deadline_form.html",
        {"case": case, "form": form, "deadline": deadline},
        status=status,
    )


@staff_required
def deadline_new(request, case_id):
    """Add a deadline to the case (the case page's panel posts here; a refusal shows this form
    again with its errors)."""
    case = _visible_case(request.user, case_id)
    try:
        policy.check_actor(policy.Action.MANAGE_DEADLINES, case, request.user)
    except ForbiddenError as refused:
        messages.error(request, refused.message)
        return redirect("work:case", case.pk)
    if request.method != "POST":
        return _form_page(
            request, case=case, form=DeadlineForm(case=case), deadline=None, status=200
        )
    form = DeadlineForm(request.POST, case=case)
    if form.is_valid():
        try:
            deadline = services.deadline_add(case=case, actor=request.user, **form.values())
        except (ConflictError, ForbiddenError, NotFoundError) as refused:
            messages.error(request, refused.message)
            return redirect("work:case", case.pk)
        except CaseError as invalid:
            form.refuse(invalid)
        else:
            messages.success(
                request,
                _("Deadline “%(title)s” added: due on %(date)s.")
                % {"title": deadline.title, "date": deadline_words.day(deadline.due_on)},
            )
            return redirect(_case_url(case))
    return _form_page(request, case=case, form=form, deadline=None, status=400)


@staff_required
def deadline_edit(request, pk):
    deadline = _visible_deadline(request.user, pk)
    case = deadline.case
    if request.method != "POST":
        return _form_page(
            request, case=case, form=DeadlineForm.of(deadline), deadline=deadline, status=200
        )
    form = DeadlineForm.of(deadline, request.POST)
    if form.is_valid():
        values = form.values()
        if values["responsible"] is None:
            values.pop("responsible")
        try:
            deadline = services.deadline_change(deadline=deadline, actor=request.user, **values)
        except (ConflictError, ForbiddenError, NotFoundError) as refused:
            messages.error(request, refused.message)
            return redirect("work:case", case.pk)
        except CaseError as invalid:
            form.refuse(invalid)
        else:
            messages.success(
                request,
                _("Deadline “%(title)s” saved: due on %(date)s.")
                % {"title": deadline.title, "date": deadline_words.day(deadline.due_on)},
            )
            return redirect(_back(request, _case_url(case)))
    return _form_page(request, case=case, form=form, deadline=deadline, status=400)


def _one_click(request, pk, service, done: str):
    deadline = _visible_deadline(request.user, pk)
    try:
        deadline = service(deadline=deadline, actor=request.user)
    except CaseError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done % {"title": deadline.title})
    return redirect(_back(request, _case_url(deadline.case)))


@staff_required
@require_POST
def deadline_done(request, pk):
    return _one_click(request, pk, services.deadline_mark_done, _("Deadline “%(title)s” done."))


@staff_required
@require_POST
def deadline_reopen(request, pk):
    return _one_click(request, pk, services.deadline_reopen, _("Deadline “%(title)s” reopened."))


urlpatterns = [
    path("deadlines/", deadline_list, name="deadlines"),
    path("cases/<int:case_id>/deadlines/new/", deadline_new, name="deadline_new"),
    path("deadlines/<int:pk>/edit/", deadline_edit, name="deadline_edit"),
    path("deadlines/<int:pk>/done/", deadline_done, name="deadline_done"),
    path("deadlines/<int:pk>/reopen/", deadline_reopen, name="deadline_reopen"),
]
