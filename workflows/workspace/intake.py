"""Staff intake: a case opened in the workspace for a cooperative that phoned, wrote or came by."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework import limits
from casework.errors import CaseError
from casework.models import Channel, Cooperative, Membership, PracticeArea, Priority, Specialty
from casework.policy import STAFF_INTAKE_CHANNELS
from casework.roles import Roles, roles_of
from workflows import process

from .forms import WorkspaceForm
from .views import staff_required

# The order staff meet them in: most cases come by phone.
CHANNEL_ORDER = (Channel.PHONE, Channel.DESK, Channel.EMAIL, Channel.PEC)
assert set(CHANNEL_ORDER) == STAFF_INTAKE_CHANNELS

# Which field a refusal of the intake service is about (its `code`); others go above the form.
FIELD_OF_REFUSAL = {
    "cooperative": "cooperative",
    "requester": "requester",
    "channel": "channel",
    "specialty": "specialty",
    "priority": "priority",
    # Staff of another area: the area is what they would have to change.
    "forbidden": "area",
}


class _TaggedSelect(forms.Select):
    """Each option carries an attribute naming what it belongs to (`data-cooperative="3"`), so the
    page's script can offer only the options of the choice above it."""

    def __init__(self, *, tag: str, of, attrs=None):
        super().__init__(attrs)
        self.tag, self.of = tag, of

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"][f"data-{self.tag}"] = str(self.of(instance))
        return option


class _RequesterField(forms.ModelChoiceField):
    """A person of a cooperative, as one of their memberships (a person of two cooperatives is
    listed under each)."""

    def label_from_instance(self, membership):
        person = membership.user.get_full_name() or membership.user.get_username()
        return f"{membership.cooperative.name} · {person} ({membership.get_role_display()})"


class StaffIntakeForm(WorkspaceForm):
    cooperative = forms.ModelChoiceField(
        label=gettext_lazy("Cooperative"),
        queryset=Cooperative.objects.none(),
        empty_label=gettext_lazy("Choose a cooperative…"),
    )
    requester = _RequesterField(
        label=gettext_lazy("On behalf of"),
        queryset=Membership.objects.none(),
        empty_label=gettext_lazy("Choose a person of the cooperative…"),
        help_text=gettext_lazy(
            "The person who called, wrote or came: they receive the case's e-mails and see it in "
            "the portal."
        ),
        widget=_TaggedSelect(tag="cooperative", of=lambda m: m.cooperative_id),
    )
    area = forms.ModelChoiceField(
        label=gettext_lazy("Practice area"),
        queryset=PracticeArea.objects.none(),
        empty_label=gettext_lazy("Choose an area…"),
    )
    specialty = forms.ModelChoiceField(
        label=gettext_lazy("Specialty (optional)"),
        queryset=Specialty.objects.none(),
        required=False,
        empty_label=gettext_lazy("No specialty"),
        widget=_TaggedSelect(tag="area", of=lambda s: s.area_id),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("How the case came"),
        choices=[(code.value, code.label) for code in CHANNEL_ORDER],
        initial=Channel.PHONE,
        widget=forms.RadioSelect,
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=limits.SUBJECT)
    description = forms.CharField(
        label=gettext_lazy("What the cooperative needs"),
        max_length=limits.LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("The cooperative reads it: write it as you would to them."),
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority (optional)"),
        choices=[("", gettext_lazy("Let the area's rules decide")), *Priority.choices],
        required=False,
    )
    confidential = forms.BooleanField(
        label=gettext_lazy("Confidential"),
        required=False,
        help_text=gettext_lazy(
            "Only the person above, the cooperative's legal representatives, the people added "
            "to the case and staff of the area will see it (e.g. a disciplinary matter)."
        ),
    )

    def __init__(self, *args, roles: Roles, **kwargs):
        super().__init__(*args, **kwargs)
        # Staff serve every cooperative of the federation; its people are theirs to name.
        active = Cooperative.MembershipStatus.ACTIVE
        # With its office, which routing reads.
        self.fields["cooperative"].queryset = (
            Cooperative.objects.filter(membership_status=active)
            .select_related("office")
            .order_by("name")
        )
        self.fields["requester"].queryset = (
            Membership.objects.filter(
                cooperative__membership_status=active, is_active=True, user__is_active=True
            )
            .select_related("user", "cooperative")
            .order_by("cooperative__name", "user__last_name", "user__first_name", "user__username")
        )
        # A case is opened in an area its opener works in (a supervisor of all: any).
        areas = PracticeArea.objects.filter(is_active=True).order_by("position", "name")
        if not roles.supervises_all:
            areas = areas.filter(pk__in=roles.staff_area_ids)
        self.fields["area"].queryset = areas
        specialty = self.fields["specialty"]
        specialty.queryset = (
            Specialty.objects.filter(area__in=areas)
            .select_related("area")
            .order_by("area__position", "name")
        )
        # The same specialty name can exist in two areas: say which one it belongs to.
        specialty.label_from_instance = lambda s: f"{s.area.name} · {s.name}"

    def clean(self):
        data = super().clean()
        area, specialty = data.get("area"), data.get("specialty")
        if area and specialty and specialty.area_id != area.pk:
            self.add_error("specialty", _("The specialty belongs to another area."))
        return data


def _initial(request, roles: Roles) -> dict:
    """A link may name the cooperative (`?cooperative=3`); one area of one's own is chosen."""
    initial = {}
    cooperative = request.GET.get("cooperative", "")
    if cooperative.isdigit():
        initial["cooperative"] = int(cooperative)
    if not roles.supervises_all and len(roles.staff_area_ids) == 1:
        (initial["area"],) = roles.staff_area_ids
    return initial


@staff_required
def case_new(request):
    """Open a case for a cooperative, in the name of one of its people."""
    roles = roles_of(request.user)
    if request.method == "POST":
        form = StaffIntakeForm(request.POST, roles=roles)
    else:
        form = StaffIntakeForm(roles=roles, initial=_initial(request, roles))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        requester = data["requester"].user
        try:
            case = process.case_open(
                requester=requester,
                opened_by=request.user,
                channel=data["channel"],
                cooperative=data["cooperative"],
                area=data["area"],
                specialty=data["specialty"],
                subject=data["subject"],
                description=data["description"],
                priority=data["priority"] or None,
                confidential=data["confidential"],
            )
        except CaseError as refused:
            form.add_error(FIELD_OF_REFUSAL.get(refused.code), refused.message)
        else:
            messages.success(
                request,
                _("Case %(ref)s opened for %(cooperative)s; %(person)s receives it by e-mail.")
                % {
                    "ref": case.reference,
                    "cooperative": case.cooperative.name,
                    "person": requester.get_full_name() or requester.get_username(),
                },
            )
            return redirect("work:case", case.pk)
    return render(
        request,
        "workspace/case_new.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
