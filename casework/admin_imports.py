"""Cooperatives, their people and consultants imported and exported in the admin (CSV and XLSX).

django-import-export reads the file, shows what each row would change and lists each row's
errors (a bad tax code, an unknown office, a repeated e-mail); nothing is written until the
file is clean and the administrator confirms. Columns are the stable codes of the API (a file
exported in Italian imports in English). Passwords are never imported: a new person gets an
unusable password and is invited to set one.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats

from .models import (
    Consultant,
    Cooperative,
    Membership,
    Office,
    PracticeArea,
    Sector,
    Specialty,
)
from .validators import normalise_tax_code

User = get_user_model()
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
# Columns of the person, shared by the people and the consultants files.
PERSON_COLUMNS = ["email", "first_name", "last_name", "username"]
_YES = {"1", "true", "yes", "y", "si", "sì", "x"}
_NO = {"0", "false", "no", "n"}


# --- Reading cells -------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's number cell
    return str(value).strip()


class TextWidget(widgets.CharWidget):
    """Text without the spaces around it; a number cell as the digits it shows."""

    def clean(self, value, row=None, **kwargs):
        return _text(value)


class DateWidget(widgets.DateWidget):
    """A date written as ISO (2020-01-15) or as Italian spreadsheets do (15/01/2020); exported
    as ISO."""

    def __init__(self):
        super().__init__()
        self.formats = tuple(DATE_FORMATS)


class TaxCodeWidget(widgets.CharWidget):
    """A partita IVA as people write it ("IT 00488410010"); a spreadsheet that made it a number
    lost its leading zeros, which are put back."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{int(value):011d}"
        return normalise_tax_code(_text(value))


class CodeWidget(widgets.ForeignKeyWidget):
    """A registry row by its code; an unknown code is the row's error, naming the known ones."""

    def __init__(self, model, field="code", *, upper=False, **kwargs):
        super().__init__(model, field, **kwargs)
        self.upper = upper

    def clean(self, value, row=None, **kwargs):
        code = _text(value)
        if self.upper:
            code = code.upper()
        if not code:
            return None
        found = self.model.objects.filter(**{self.field: code}).first()
        if found is None:
            known = list(self.model.objects.values_list(self.field, flat=True).order_by(self.field))
            raise ValueError(
                _("unknown %(what)s “%(code)s” (known: %(known)s)")
                % {
                    "what": self.model._meta.verbose_name,
                    "code": code,
                    "known": ", ".join(known[:20]) or "—",
                }
            )
        return found


class YesNoWidget(widgets.BooleanWidget):
    """true/false, 1/0, yes/no, sì/no; empty leaves the value as it is (or the default)."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = _text(value).lower()
        if not text:
            return None
        if text in _YES:
            return True
        if text in _NO:
            return False
        raise ValueError(_("write true or false, not “%(value)s”") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else ("true" if value else "false")


class ChoiceWidget(widgets.Widget):
    """One of a model's codes; empty leaves the value as it is (or the default)."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = choices

    def clean(self, value, row=None, **kwargs):
        code = _text(value)
        if not code:
            return None
        if code not in self.choices.values:
            raise ValueError(
                _("unknown code “%(code)s” (one of: %(codes)s)")
                % {"code": code, "codes": ", ".join(self.choices.values)}
            )
        return code

    def render(self, value, obj=None, **kwargs):
        return value or ""


class CodesWidget(widgets.ManyToManyWidget):
    """Codes separated by commas; every one must exist (practice areas)."""

    def __init__(self, model, field="code", **kwargs):
        super().__init__(model, separator=",", field=field, **kwargs)

    def codes(self, value) -> list[str]:
        return [part.strip() for part in _text(value).split(",") if part.strip()]

    def clean(self, value, row=None, **kwargs):
        codes = self.codes(value)
        found = {getattr(row, self.field): row for row in self.model.objects.filter(code__in=codes)}
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise ValueError(
                _("unknown %(what)s: %(codes)s")
                % {"what": self.model._meta.verbose_name_plural, "codes": ", ".join(unknown)}
            )
        return [found[code] for code in dict.fromkeys(codes)]

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return ", ".join(getattr(item, self.field) for item in value.all())


class SpecialtiesWidget(CodesWidget):
    """Specialty codes of the row's practice areas (`area:code` where two areas share one)."""

    def __init__(self):
        super().__init__(Specialty)

    def clean(self, value, row=None, **kwargs):
        area_codes = self.codes((row or {}).get("areas"))
        candidates = defaultdict(list)
        for specialty in Specialty.objects.filter(area__code__in=area_codes).select_related("area"):
            candidates[specialty.code].append(specialty)
            candidates[f"{specialty.area.code}:{specialty.code}"].append(specialty)
        chosen, problems = [], []
        for code in self.codes(value):
            matches = candidates.get(code, [])
            if len(matches) == 1:
                chosen.append(matches[0])
            elif matches:
                problems.append(
                    _("“%(code)s” is a specialty of several of the areas: write %(choices)s")
                    % {
                        "code": code,
                        "choices": " or ".join(f"{s.area.code}:{s.code}" for s in matches),
                    }
                )
            else:
                problems.append(
                    _("“%(code)s” is not a specialty of the areas %(areas)s")
                    % {"code": code, "areas": ", ".join(area_codes) or "—"}
                )
        if problems:
            raise ValueError("; ".join(problems))
        return list(dict.fromkeys(chosen))

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        specialties = list(value.all())
        counts = defaultdict(int)
        for specialty in specialties:
            counts[specialty.code] += 1
        return ", ".join(
            f"{s.area.code}:{s.code}" if counts[s.code] > 1 else s.code for s in specialties
        )


class SpreadsheetCSV(base_formats.CSV):
    """CSV separated by commas or, as Italian spreadsheets save it, by semicolons."""

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes) and self.encoding:
            in_stream = in_stream.decode(self.encoding)
        first_line = in_stream.split("\n", 1)[0]
        if first_line.count(";") > first_line.count(","):
            kwargs.setdefault("delimiter", ";")
        return super().create_dataset(in_stream, **kwargs)


FORMATS = [SpreadsheetCSV, base_formats.XLSX]


# --- What every file of ours shares --------------------------------------------------------------


class _Resource(resources.ModelResource):
    """Every row validated by its model (the admin's own rules), refused at once if the file
    repeats a key or carries a password, and nothing skipped silently."""

    # The columns whose values identify a row; a second row with the same is refused.
    key_columns: tuple[str, ...] = ()

    def before_import(self, dataset, **kwargs):
        headers = [_text(header) for header in dataset.headers or []]
        dataset.headers = headers
        if any("password" in header.lower() for header in headers):
            raise ValueError(
                _(
                    "Passwords are never imported: remove the column “%(column)s”. New people "
                    "get an invitation to set their own."
                )
                % {"column": next(h for h in headers if "password" in h.lower())}
            )
        self._first_row_of_key = {}
        self._repeats = {}
        if self.key_columns and all(column in headers for column in self.key_columns):
            for number, values in enumerate(dataset.dict, start=1):
                key = self.row_key(values)
                if not all(key):
                    continue
                if key in self._first_row_of_key:
                    self._repeats[number] = self._first_row_of_key[key]
                else:
                    self._first_row_of_key[key] = number

    def row_key(self, row) -> tuple:
        return tuple(_text(row.get(column)).lower() for column in self.key_columns)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        # A new row is never "unchanged", even when every value it gives is a default.
        if instance.pk is None:
            return False
        return super().skip_row(instance, original, row, import_validation_errors)

    def before_import_row(self, row, row_number=None, **kwargs):
        first = getattr(self, "_repeats", {}).get(row_number)
        if first is not None:
            raise ValidationError(
                {
                    self.key_columns[-1]: _("the same %(columns)s as row %(row)d")
                    % {"columns": " + ".join(self.key_columns), "row": first}
                }
            )


# --- Cooperatives --------------------------------------------------------------------------------


class CooperativeResource(_Resource):
    tax_code = fields.Field(attribute="tax_code", column_name="tax_code", widget=TaxCodeWidget())
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    office = fields.Field(
        attribute="office", column_name="office", widget=CodeWidget(Office, upper=True)
    )
    sector = fields.Field(attribute="sector", column_name="sector", widget=CodeWidget(Sector))
    kind = fields.Field(
        attribute="kind",
        column_name="kind",
        widget=ChoiceWidget(Cooperative.Kind),
        saves_null_values=False,
    )
    membership_status = fields.Field(
        attribute="membership_status",
        column_name="membership_status",
        widget=ChoiceWidget(Cooperative.MembershipStatus),
        saves_null_values=False,
    )
    joined_on = fields.Field(attribute="joined_on", column_name="joined_on", widget=DateWidget())
    founded_on = fields.Field(attribute="founded_on", column_name="founded_on", widget=DateWidget())
    last_audit_on = fields.Field(
        attribute="last_audit_on",
        column_name="last_audit_on",
        widget=DateWidget(),
    )
    statements_approved_on = fields.Field(
        attribute="statements_approved_on",
        column_name="statements_approved_on",
        widget=DateWidget(),
    )
    city = fields.Field(attribute="city", column_name="city", widget=TextWidget())
    email = fields.Field(attribute="email", column_name="email", widget=TextWidget())

    key_columns = ("tax_code",)

    class Meta:
        model = Cooperative
        name = gettext_lazy("Cooperatives")
        import_id_fields = ["tax_code"]
        fields = [
            "tax_code",
            "name",
            "office",
            "sector",
            "kind",
            "membership_status",
            "joined_on",
            "founded_on",
            "last_audit_on",
            "statements_approved_on",
            "city",
            "email",
        ]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def row_key(self, row) -> tuple:
        return (TaxCodeWidget().clean(row.get("tax_code")),)

    def get_queryset(self):
        return Cooperative.objects.select_related("office", "sector").order_by("name")


# --- People: an account and its membership of a cooperative ----------------------------------


class _PersonResource(_Resource):
    """A row about a person: their account is found by its e-mail (or prepared), never given a
    password."""

    email = fields.Field(attribute="user__email", column_name="email", widget=TextWidget())
    first_name = fields.Field(
        attribute="user__first_name", column_name="first_name", widget=TextWidget()
    )
    last_name = fields.Field(
        attribute="user__last_name", column_name="last_name", widget=TextWidget()
    )
    # Chosen when the account is created (the e-mail when left empty), never changed after.
    username = fields.Field(attribute="user__username", column_name="username", readonly=True)

    def person_for(self, row) -> User:
        email = _text(row.get("email"))
        username = _text(row.get("username"))
        if not email:
            raise ValidationError({"email": _("required")})
        accounts = list(User.objects.filter(email__iexact=email)[:2])
        if len(accounts) > 1:
            raise ValidationError(
                {
                    "email": _(
                        "two accounts have this e-mail (%(usernames)s): correct them in the admin "
                        "first"
                    )
                    % {"usernames": ", ".join(account.get_username() for account in accounts)}
                }
            )
        if accounts:
            account = accounts[0]
            if username and username != account.get_username():
                raise ValidationError(
                    {
                        "username": _(
                            "the account with this e-mail is “%(username)s”: leave the column "
                            "empty or write that"
                        )
                        % {"username": account.get_username()}
                    }
                )
            return account
        username = username or email.lower()
        if User.objects.filter(username=username).exists():
            raise ValidationError(
                {
                    "username": _("“%(username)s” is another person's account")
                    % {"username": username}
                }
            )
        return User(username=username, email=email)

    def check_person(self, account: User, errors: dict) -> None:
        try:
            account.full_clean(exclude=["password", "last_login", "date_joined"])
        except ValidationError as invalid:
            for field_name, messages in invalid.message_dict.items():
                errors.setdefault(field_name, []).extend(messages)

    def save_person(self, account: User) -> None:
        if account.pk is None:
            # Never a password from a file: the person sets one from an invitation.
            account.set_unusable_password()
        account.save()


class MembershipResource(_PersonResource):
    """One row per person and cooperative: a person of two cooperatives has two rows."""

    cooperative = fields.Field(
        attribute="cooperative",
        column_name="cooperative_tax_code",
        widget=widgets.ForeignKeyWidget(Cooperative, "tax_code"),
    )
    cooperative_name = fields.Field(
        attribute="cooperative__name", column_name="cooperative", readonly=True
    )
    role = fields.Field(
        attribute="role",
        column_name="role",
        widget=ChoiceWidget(Membership.Role),
        saves_null_values=False,
    )
    is_active = fields.Field(
        attribute="is_active",
        column_name="is_active",
        widget=YesNoWidget(),
        saves_null_values=False,
    )

    key_columns = ("cooperative_tax_code", "email")

    class Meta:
        model = Membership
        name = gettext_lazy("People of cooperatives")
        import_id_fields = []
        fields = [
            "cooperative",
            "cooperative_name",
            *PERSON_COLUMNS,
            "role",
            "is_active",
        ]
        skip_unchanged = True
        report_skipped = True

    def row_key(self, row) -> tuple:
        return (
            TaxCodeWidget().clean(row.get("cooperative_tax_code")),
            _text(row.get("email")).lower(),
        )

    def get_queryset(self):
        return Membership.objects.select_related("user", "cooperative").order_by(
            "cooperative__name", "user__username"
        )

    def get_or_init_instance(self, instance_loader, row):
        cooperative = self.cooperative_of(row)
        account = self.person_for(row)
        membership = None
        if account.pk is not None:
            membership = Membership.objects.filter(user=account, cooperative=cooperative).first()
        if membership is not None:
            membership.user = account
            return membership, False
        return Membership(user=account, cooperative=cooperative), True

    def cooperative_of(self, row) -> Cooperative:
        tax_code = TaxCodeWidget().clean(row.get("cooperative_tax_code"))
        cooperative = Cooperative.objects.filter(tax_code=tax_code).first() if tax_code else None
        if cooperative is None:
            raise ValidationError(
                {
                    "cooperative_tax_code": _("no cooperative has the tax code “%(code)s”")
                    % {"code": tax_code}
                    if tax_code
                    else _("required")
                }
            )
        return cooperative

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.column_name == "cooperative_tax_code":
            return  # found with the row (get_or_init_instance)
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        for name in list(errors):
            # Fields of the account are reported under their column.
            errors[name.removeprefix("user__")] = errors.pop(name)
        self.check_person(instance.user, errors)
        try:
            instance.full_clean(
                exclude=["user", *errors], validate_unique=instance.user.pk is not None
            )
        except ValidationError as invalid:
            errors = invalid.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        self.save_person(instance.user)
        instance.user = instance.user  # the saved account's id
        if instance.pk is not None:
            was_active = Membership.objects.filter(pk=instance.pk).values_list(
                "is_active", flat=True
            )[0]
            if was_active and not instance.is_active:
                # Leaving a cooperative deactivates the membership, it never deletes it.
                instance.left_at = timezone.now()
            elif instance.is_active:
                instance.left_at = None


# --- Consultants ---------------------------------------------------------------------------------


class ConsultantResource(_PersonResource):
    office = fields.Field(
        attribute="office", column_name="office", widget=CodeWidget(Office, upper=True)
    )
    areas = fields.Field(attribute="areas", column_name="areas", widget=CodesWidget(PracticeArea))
    specialties = fields.Field(
        attribute="specialties", column_name="specialties", widget=SpecialtiesWidget()
    )
    capacity = fields.Field(
        attribute="capacity",
        column_name="capacity",
        widget=widgets.IntegerWidget(),
        saves_null_values=False,
    )
    absent_until = fields.Field(
        attribute="absent_until",
        column_name="absent_until",
        widget=DateWidget(),
    )
    is_active = fields.Field(
        attribute="is_active",
        column_name="is_active",
        widget=YesNoWidget(),
        saves_null_values=False,
    )

    key_columns = ("email",)

    class Meta:
        model = Consultant
        name = gettext_lazy("Consultants")
        import_id_fields = []
        fields = [
            *PERSON_COLUMNS,
            "office",
            "areas",
            "specialties",
            "capacity",
            "absent_until",
            "is_active",
        ]
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self):
        return (
            Consultant.objects.select_related("user", "office")
            .prefetch_related("areas", "specialties__area")
            .order_by("user__username")
        )

    def get_or_init_instance(self, instance_loader, row):
        account = self.person_for(row)
        consultant = (
            Consultant.objects.filter(user=account).first() if account.pk is not None else None
        )
        if consultant is not None:
            consultant.user = account
            return consultant, False
        return Consultant(user=account), True

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as invalid:
            errors = invalid.update_error_dict(errors)
        # Areas and specialties are saved after the row; their codes are checked with it.
        for name in ("areas", "specialties"):
            try:
                chosen = self.fields[name].clean(row)
            except ValueError as wrong:
                errors[name] = [str(wrong)]
                continue
            if name == "areas" and not chosen and "areas" in row:
                errors[name] = [_("A consultant needs at least one practice area.")]
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = {
            name.removeprefix("user__"): messages
            for name, messages in (import_validation_errors or {}).items()
        }
        self.check_person(instance.user, errors)
        if instance.pk is None and "areas" not in self._row_columns:
            errors.setdefault("areas", []).append(
                _("A consultant needs at least one practice area.")
            )
        try:
            instance.full_clean(
                exclude=["user", *errors], validate_unique=instance.user.pk is not None
            )
        except ValidationError as invalid:
            errors = invalid.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._row_columns = set(dataset.headers or [])

    def before_save_instance(self, instance, row, **kwargs):
        self.save_person(instance.user)
        instance.user = instance.user


# --- In the admin --------------------------------------------------------------------------------


class ImportExportAdmin(ImportExportMixin):
    """Import with a preview and a confirmation, export in CSV or XLSX, for who may edit."""

    formats = FORMATS
    # Each row's message, not a traceback: the administrator fixes the file, not the code.
    import_error_display = ("message",)

    def has_import_permission(self, request):
        opts = self.model._meta
        return all(
            request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")
            for action in ("add", "change")
        )

    def has_export_permission(self, request):
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        # A row refused at confirmation (the data changed since the preview) writes nothing.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, UnicodeDecodeError):
            message = _(
                "The file is not UTF-8 text (byte %(position)d): save it from the spreadsheet as "
                "“CSV UTF-8”, or upload the XLSX file."
            ) % {"position": e.start}
        elif isinstance(e, csv.Error | io.UnsupportedOperation | ValueError | KeyError):
            message = _("The file cannot be read as %(format)s (%(error)s).") % {
                "format": _("the format chosen"),
                "error": str(e).splitlines()[0] if str(e) else type(e).__name__,
            }
        else:
            message = _(
                "The file cannot be read (%(error)s): check that it is the format chosen."
            ) % {"error": type(e).__name__}
        form.add_error("import_file", message)

    class Media:
        css = {"all": ["css/admin-import.css"]}
