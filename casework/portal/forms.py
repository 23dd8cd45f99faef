"""Forms of the cooperative portal: intake, answers, confirmation, rating and the switcher."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from casework import attachments, limits
from casework.errors import CaseError
from casework.models import PracticeArea, Priority, Specialty
from casework.selectors import cooperatives_of

MAX_FILES = 10


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several documents in one field; each is checked by content before anything is saved."""

    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [super(MultipleFileField, self).clean(item, initial) for item in files]
        files = [item for item in files if item]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                _("At most %(n)d documents at a time."), params={"n": MAX_FILES}, code="too_many"
            )
        errors = []
        for item in files:
            try:
                attachments.check_upload(item)
            except CaseError as refused:
                errors.append(forms.ValidationError(str(refused), code=refused.code))
        if errors:
            raise forms.ValidationError(errors)
        return files


def documents_help() -> str:
    return _("Up to %(n)d documents of at most %(size)s each: %(kinds)s.") % {
        "n": MAX_FILES,
        "size": filesizeformat(settings.ATTACHMENT_MAX_BYTES),
        "kinds": ", ".join(attachments.allowed_type_names()),
    }


def _documents_field(label) -> MultipleFileField:
    return MultipleFileField(
        label=label,
        widget=MultipleFileInput(
            attrs={"accept": ".pdf,.png,.jpg,.jpeg,.zip,.docx,.xlsx,.pptx,.txt,.csv"}
        ),
    )


class SpecialtySelect(forms.Select):
    """Each option names its area, so the page can offer only the chosen area's specialties."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-area"] = str(instance.area_id)
        return option


class CooperativeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class CooperativeSwitchForm(forms.Form):
    """Only the user's own cooperatives are choices: a forged id is simply an invalid choice."""

    cooperative = CooperativeChoiceField(queryset=None, label=_("Cooperative"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cooperative"].queryset = cooperatives_of(user).order_by("name")


class IntakeForm(forms.Form):
    """The guided intake: area, then a specialty of that area, then what is needed."""

    cooperative = CooperativeChoiceField(queryset=None, label=_("For the cooperative"))
    area = forms.ModelChoiceField(
        queryset=PracticeArea.objects.none(),
        label=_("Practice area"),
        empty_label=_("Choose an area…"),
    )
    specialty = forms.ModelChoiceField(
        queryset=Specialty.objects.none(),
        required=False,
        label=_("Specialty (optional)"),
        empty_label=_("Not sure / other"),
        widget=SpecialtySelect,
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=limits.SUBJECT,
        help_text=_("In a few words, e.g. “Amendment of the articles of association”."),
    )
    description = forms.CharField(
        label=_("What do you need?"),
        max_length=limits.LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Describe the situation, deadlines and what you expect from the federation."),
    )
    priority = forms.ChoiceField(
        label=_("How urgent is it for you?"),
        choices=Priority.choices,
        initial=Priority.NORMAL,
        help_text=_("A suggestion: the federation confirms the priority when it triages the case."),
    )
    documents = _documents_field(_("Documents"))
    confidential = forms.BooleanField(
        label=_("Confidential"),
        required=False,
        help_text=_(
            "Only you, the cooperative's legal representatives, the people you add to the case "
            "and the federation's staff of the area will see it (e.g. a disciplinary matter)."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cooperative"].queryset = cooperatives_of(user).order_by("name")
        areas = PracticeArea.objects.filter(is_active=True).order_by("position", "name")
        self.fields["area"].queryset = areas
        self.fields["specialty"].queryset = Specialty.objects.filter(area__is_active=True).order_by(
            "area__position", "name"
        )
        self.fields["documents"].help_text = documents_help()

    def clean(self):
        cleaned = super().clean()
        area, specialty = cleaned.get("area"), cleaned.get("specialty")
        # The page filters specialties by area with a script; the server decides anyway.
        if area and specialty and specialty.area_id != area.pk:
            self.add_error("specialty", _("Choose a specialty of the area “%s”.") % area.name)
        return cleaned


class ReplyForm(forms.Form):
    """A message to the consultant, or the answer to a request for information, with documents."""

    body = forms.CharField(
        label=_("Your message"),
        required=False,
        max_length=limits.LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    documents = _documents_field(_("Documents"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].help_text = documents_help()

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("body") or "").strip() and not cleaned.get("documents"):
            if not self.errors:
                raise forms.ValidationError(
                    _("Write a message or attach at least one document."), code="empty"
                )
        return cleaned


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the problem not solved?"),
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with the assistance?"),
        choices=[
            (1, _("1 – very dissatisfied")),
            (2, _("2 – dissatisfied")),
            (3, _("3 – neither satisfied nor dissatisfied")),
            (4, _("4 – satisfied")),
            (5, _("5 – very satisfied")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
