"""The admin's page for a merger of cooperatives (fusione per incorporazione): choose the
absorbing cooperative, see what would move, confirm. The counts of the confirmation are those of
the merger itself run and rolled back (`merge_cooperatives(dry_run=True)`), and the merger is
`services.cooperatives`'s, so the page, `manage.py merge_cooperatives` and the rules agree.
Mixed into `casework.admin.CooperativeAdmin`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from .errors import CaseError
from .models import Cooperative
from .policy import may_merge_cooperatives
from .roles import roles_of
from .services.cooperatives import merge_cooperatives

MERGE_URL_NAME = "casework_cooperative_merge"


class CooperativeMergeForm(forms.Form):
    into = forms.ModelChoiceField(
        label=_("Absorbing cooperative"),
        queryset=Cooperative.objects.none(),
        help_text=_("The cooperative that absorbs this one; ceased ones cannot absorb."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept on each moved case's timeline, e.g. the deed of the merger."),
    )

    def __init__(self, *args, absorbed: Cooperative, **kwargs):
        super().__init__(*args, **kwargs)
        # What the service would refuse is not offered (it still checks, under its locks).
        self.fields["into"].queryset = (
            Cooperative.objects.exclude(pk=absorbed.pk)
            .exclude(membership_status=Cooperative.MembershipStatus.CEASED)
            .filter(merged_into__isnull=True)
            .order_by("name")
        )


class CooperativeMergeAdmin(admin.ModelAdmin):
    """The merge page (`<id>/merge/`), its action on the list and its link on the change page,
    for administrators and supervisors of every area only (`policy.may_merge_cooperatives`)."""

    def get_urls(self):
        merge = path(
            "<int:pk>/merge/", self.admin_site.admin_view(self.merge_view), name=MERGE_URL_NAME
        )
        return [merge, *super().get_urls()]

    def _may_merge(self, request, cooperative=None) -> bool:
        return self.has_change_permission(request, cooperative) and may_merge_cooperatives(
            roles_of(request.user)
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._may_merge(request):
            actions.pop("merge_into_another", None)
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_merge": self._may_merge(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Merge into another cooperative"))
    def merge_into_another(self, request, queryset):
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(
                request,
                _("Choose one cooperative, the one that is absorbed, to merge it into another."),
                messages.ERROR,
            )
            return None
        return redirect(reverse(f"admin:{MERGE_URL_NAME}", args=[chosen[0].pk]))

    def merge_view(self, request, pk: int):
        """GET: the form; POST: the confirmation with the counts; POST with `confirm`: the
        merger, then the absorbed cooperative's page with the summary."""
        absorbed = get_object_or_404(Cooperative.objects.select_related("merged_into"), pk=pk)
        if not self._may_merge(request, absorbed):
            raise PermissionDenied
        form = CooperativeMergeForm(request.POST or None, absorbed=absorbed)
        preview = None
        if request.method == "POST" and form.is_valid():
            try:
                summary = merge_cooperatives(
                    absorbed=absorbed,
                    into=form.cleaned_data["into"],
                    actor=request.user,
                    note=form.cleaned_data["note"],
                    dry_run="confirm" not in request.POST,
                )
            except CaseError as error:
                form.add_error(None, str(error))
            else:
                if not summary.dry_run:
                    self.message_user(request, summary.text(), messages.SUCCESS)
                    return redirect(
                        reverse("admin:casework_cooperative_change", args=[absorbed.pk])
                    )
                preview = summary
        context = {
            **self.admin_site.each_context(request),
            "title": _("Merge %(name)s into another cooperative") % {"name": absorbed.name},
            "opts": self.model._meta,
            "original": absorbed,
            "form": form,
            "preview": preview,
            "into": form.cleaned_data.get("into") if preview else None,
        }
        return TemplateResponse(request, "admin/casework/cooperative/merge.html", context)
