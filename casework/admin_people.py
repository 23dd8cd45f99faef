"""The admin's part of people and accounts: invitations (sent by the add form, resent and revoked
by actions) and the memberships' "deactivate" action, all through `services.invitations`, so
the admin follows the same rules and sends the same e-mails as the portal and the workspace.
Imported by `casework.admin`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from . import models
from .errors import CaseError
from .services.invitations import (
    invitation_check,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    invitation_state,
    membership_deactivate,
)


class InvitationAddForm(forms.ModelForm):
    class Meta:
        model = models.Invitation
        fields = ["cooperative", "email", "role", "language"]

    request = None  # set by `InvitationAdmin.get_form`

    def clean(self):
        cleaned = super().clean()
        cooperative = cleaned.get("cooperative")
        if cooperative is not None and cleaned.get("email") and cleaned.get("role"):
            try:
                invitation_check(
                    by=self.request.user,
                    cooperative=cooperative,
                    email=cleaned["email"],
                    role=cleaned["role"],
                    language=cleaned.get("language"),
                )
            except CaseError as error:
                raise ValidationError(str(error), code=error.code) from error
        return cleaned

    def validate_unique(self):
        # A second invitation of a pending address is a resend (`invitation_create`), not an
        # error of the one-pending-per-address constraint.
        pass


def _each(modeladmin, request, rows, action, done) -> None:
    """Run the service on each row; one message for the successes, one per refusal."""
    count = 0
    for row in rows:
        try:
            action(row)
        except CaseError as error:
            modeladmin.message_user(request, f"{row}: {error}", messages.ERROR)
        else:
            count += 1
    if count:
        modeladmin.message_user(request, done % {"count": count}, messages.SUCCESS)


@admin.register(models.Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "cooperative",
        "role",
        "state",
        "invited_by",
        "sent_at",
        "sent_count",
        "expires_at",
    ]
    list_filter = ["status", "role", "cooperative__office"]
    search_fields = ["email", "cooperative__name", "=cooperative__tax_code"]
    list_select_related = ["cooperative", "invited_by"]
    autocomplete_fields = ["cooperative"]
    readonly_fields = [
        "cooperative",
        "email",
        "role",
        "language",
        "status",
        "invited_by",
        "created_at",
        "sent_at",
        "sent_count",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    ]
    actions = ["resend", "revoke"]

    @admin.display(description=_("status"))
    def state(self, obj):
        return {"expired": _("Expired")}.get(invitation_state(obj), obj.get_status_display())

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else InvitationAddForm.Meta.fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = type(
                "BoundInvitationAddForm", (InvitationAddForm,), {"request": request}
            )
        return super().get_form(request, obj, change=change, **kwargs)

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: the history of who was invited stays

    def save_model(self, request, obj, form, change):
        sent = invitation_create(
            by=request.user,
            cooperative=form.cleaned_data["cooperative"],
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            language=form.cleaned_data["language"],
        )
        obj.pk = sent.invitation.pk
        obj.email = sent.invitation.email

    @admin.action(description=_("Send the selected invitations again (new links)"))
    def resend(self, request, queryset):
        _each(
            self,
            request,
            queryset.select_related("cooperative"),
            lambda row: invitation_resend(by=request.user, invitation=row),
            ngettext_lazy(
                "%(count)d invitation sent again.", "%(count)d invitations sent again.", "count"
            ),
        )

    @admin.action(description=_("Revoke the selected invitations"))
    def revoke(self, request, queryset):
        _each(
            self,
            request,
            queryset.select_related("cooperative"),
            lambda row: invitation_revoke(by=request.user, invitation=row),
            ngettext_lazy(
                "%(count)d invitation revoked.", "%(count)d invitations revoked.", "count"
            ),
        )


@admin.action(description=_("Remove the selected people from their cooperative (deactivate)"))
def deactivate_memberships(modeladmin, request, queryset):
    _each(
        modeladmin,
        request,
        queryset.select_related("user", "cooperative"),
        lambda row: membership_deactivate(by=request.user, membership=row),
        ngettext_lazy(
            "%(count)d membership deactivated.", "%(count)d memberships deactivated.", "count"
        ),
    )
