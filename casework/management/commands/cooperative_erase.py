"""Erase one cooperative's personal data, keeping its cases' rows and figures for statistics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from casework.models import (
    Attachment,
    Case,
    CaseEvent,
    Consultant,
    Cooperative,
    Membership,
    Message,
    Notification,
    Rating,
    Supervisor,
)

from .cooperative_export import find_cooperative

# What erased text reads as, in the federation's language (stored data, not interface text).
ERASED = "[cancellato]"
ERASED_EMAIL = "cancellato@example.invalid"


@dataclass
class Erasure:
    """What an erasure touches: the figures of the preview and of the summary."""

    counts: Counter = field(default_factory=Counter)
    files: list[tuple] = field(default_factory=list)


def _members_to_anonymise(cooperative: Cooperative):
    """The cooperative's members who have no other reason to keep their account.

    A person who also acts for another cooperative, or who works for the federation, keeps the
    account as it is: only what they wrote on this cooperative's cases is erased.
    """
    users = get_user_model().objects.filter(memberships__cooperative=cooperative).distinct()
    elsewhere = Membership.objects.filter(user_id__in=users.values("pk")).exclude(
        cooperative=cooperative
    )
    return users.exclude(
        Q(pk__in=elsewhere.values("user_id"))
        | Q(is_staff=True)
        | Q(is_superuser=True)
        | Q(pk__in=Consultant.objects.values("user_id"))
        | Q(pk__in=Supervisor.objects.values("user_id"))
    )


def erasure_preview(cooperative: Cooperative) -> Counter:
    cases = Case.objects.filter(cooperative=cooperative)
    members = Membership.objects.filter(cooperative=cooperative).values("user_id").distinct()
    anonymised = _members_to_anonymise(cooperative).count()
    return Counter(
        {
            "cases": cases.count(),
            "open_cases": cases.open().count(),
            "members": members.count(),
            "anonymised": anonymised,
            "kept": members.count() - anonymised,
            "messages": Message.objects.filter(case__in=cases).exclude(body=ERASED).count(),
            "attachments": Attachment.objects.filter(case__in=cases).exclude(file="").count(),
            "ratings": Rating.objects.filter(case__in=cases).exclude(comment="").count(),
        }
    )


@transaction.atomic
def cooperative_erase(*, cooperative: Cooperative) -> Erasure:
    """Anonymise the cooperative's members and erase the texts and documents of its cases.

    Kept for the federation's statistics: the cooperative's registry row, the case rows with
    their area, priority, status, outcome, times and SLA figures, the event kinds and times,
    the rating scores and the memberships (now pointing at anonymous accounts). The documents'
    files are deleted by the caller after the commit (`erasure.files`), so that a rolled-back
    erasure never loses a file.
    """
    erasure = Erasure()
    counts = erasure.counts
    cooperative = Cooperative.objects.select_for_update().get(pk=cooperative.pk)
    # Lock the cases so that no reply lands half-way through.
    case_ids = list(
        Case.objects.select_for_update()
        .filter(cooperative=cooperative)
        .values_list("pk", flat=True)
    )
    counts["cases"] = len(case_ids)

    anonymise = list(_members_to_anonymise(cooperative))
    counts["members"] = (
        Membership.objects.filter(cooperative=cooperative).values("user_id").distinct().count()
    )
    counts["kept"] = counts["members"] - len(anonymise)
    usernames = [user.get_username() for user in anonymise]
    for user in anonymise:
        user.username = f"cancellato-{user.pk}"
        user.first_name = ""
        user.last_name = ""
        user.email = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
    counts["anonymised"] = len(anonymise)
    Token.objects.filter(user__in=anonymise).delete()
    _forget_sign_ins(usernames)

    counts["messages"] = (
        Message.objects.filter(case_id__in=case_ids).exclude(body=ERASED).update(body=ERASED)
    )
    Case.objects.filter(pk__in=case_ids).update(subject=ERASED, description=ERASED)
    Case.objects.filter(pk__in=case_ids).exclude(resolution_summary="").update(
        resolution_summary=ERASED
    )
    events = CaseEvent.objects.filter(case_id__in=case_ids)
    events.exclude(note="").update(note="")
    # The only free text events copy into their data: a document's file name.
    for event in events.filter(Q(before__has_key="name") | Q(after__has_key="name")):
        for data in (event.before, event.after):
            if "name" in data:
                data["name"] = ERASED
        event.save(update_fields=["before", "after"])
    counts["ratings"] = (
        Rating.objects.filter(case_id__in=case_ids).exclude(comment="").update(comment="")
    )
    # The workflow app keeps the supervisors' notes on low ratings (read by name: the domain
    # does not import the workflow layer).
    follow_ups = apps.get_model("workflows", "FollowUpProcess")
    follow_ups.objects.filter(case_id__in=case_ids).exclude(note="").update(note=ERASED)

    attachments = Attachment.objects.filter(case_id__in=case_ids).exclude(file="")
    erasure.files = [(row.file.storage, row.file.name) for row in attachments]
    counts["attachments"] = attachments.update(file="", size=0, sha256="", original_name=ERASED)

    e_mails = Notification.objects.filter(Q(case_id__in=case_ids) | Q(recipient__in=anonymise))
    e_mails.filter(status=Notification.Status.PENDING).update(
        status=Notification.Status.FAILED, last_error=ERASED
    )
    counts["emails"] = e_mails.exclude(body=ERASED).update(
        subject=ERASED, body=ERASED, email=ERASED_EMAIL
    )
    return erasure


def _forget_sign_ins(usernames: list[str]) -> None:
    """django-axes keeps usernames of sign-ins and failed attempts: those go too."""
    if not usernames or not apps.is_installed("axes"):
        return
    for name in ("AccessAttempt", "AccessLog", "AccessFailureLog"):
        try:
            model = apps.get_model("axes", name)
        except LookupError:
            continue
        model.objects.filter(username__in=usernames).delete()


def delete_files(files: list[tuple]) -> tuple[int, int]:
    deleted = failed = 0
    for storage, name in files:
        try:
            if storage.exists(name):
                storage.delete(name)
                deleted += 1
        except OSError:
            failed += 1
    return deleted, failed


class Command(BaseCommand):
    help = _(
        "Erase one cooperative's personal data: anonymise its members, replace the texts of its "
        "cases, delete their documents; the case rows stay for statistics. Needs --yes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--cooperative", required=True, help=_("The cooperative's id or tax code.")
        )
        parser.add_argument(
            "--yes", action="store_true", help=_("Confirm: the erasure cannot be undone.")
        )

    def handle(self, *args, cooperative, yes, **options):
        coop = find_cooperative(cooperative)
        preview = erasure_preview(coop)
        if not yes:
            self.stdout.write(
                _(
                    "Would erase %(name)s (id %(id)s). Members to anonymise: %(anonymised)d of "
                    "%(members)d; cases: %(cases)d (still open: %(open_cases)d); messages: "
                    "%(messages)d; documents: %(attachments)d; rating comments: %(ratings)d."
                )
                % {"name": coop.name, "id": coop.pk, **preview}
            )
            raise CommandError(
                _("Nothing was changed: the erasure cannot be undone. Run again with --yes.")
            )
        if preview["open_cases"]:
            self.stdout.write(
                self.style.WARNING(
                    _("Cases still open: %(count)d. Their texts are erased too.")
                    % {"count": preview["open_cases"]}
                )
            )
        erasure = cooperative_erase(cooperative=coop)
        deleted, failed = delete_files(erasure.files)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Erased %(name)s (id %(id)s). Members anonymised and deactivated: "
                    "%(anonymised)d; members kept because they act for another cooperative or work "
                    "for the federation: %(kept)d; cases kept for statistics: %(cases)d. Erased "
                    "messages: %(messages)d, documents: %(attachments)d (files deleted: "
                    "%(deleted)d), rating comments: %(ratings)d, e-mails: %(emails)d."
                )
                % {"name": coop.name, "id": coop.pk, "deleted": deleted, **erasure.counts}
            )
        )
        if failed:
            self.stdout.write(
                self.style.WARNING(
                    _("Files that could not be deleted: %(count)d. Delete them by hand.")
                    % {"count": failed}
                )
            )
