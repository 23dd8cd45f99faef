"""Export everything Sportello holds about one cooperative into a ZIP (data subject requests)."""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import Case, CaseEvent, Cooperative, Membership, Message, Notification
from casework.validators import id_in, normalise_tax_code

FORMAT = "sportello-cooperative-export"
FORMAT_VERSION = 1
PROGRESS_EVERY = 100
COUNTED = ("members", "cases", "messages", "notes", "events", "ratings", "documents", "bytes")


def find_cooperative(reference: str) -> Cooperative:
    """A cooperative by its id or its tax code (partita IVA, "IT" prefix and spaces allowed)."""
    reference = (reference or "").strip()
    found = None
    cooperative_id = id_in(reference)
    if cooperative_id is not None and len(reference) < 11:
        found = Cooperative.objects.filter(pk=cooperative_id).first()
    if found is None:
        found = Cooperative.objects.filter(tax_code=normalise_tax_code(reference)).first()
    if found is None:
        raise CommandError(
            _("No cooperative with id or tax code “%(reference)s”.") % {"reference": reference}
        )
    return found


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"username": user.get_username(), "name": user.get_full_name()}


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^\w.\- ]+", "_", name or "").strip(" .") or "document"
    return cleaned[:120]


class Command(BaseCommand):
    help = _(
        "Export one cooperative's data into a ZIP file: the cooperative, its members, its cases "
        "with messages, events, ratings and documents; internal notes in a separate file."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--cooperative", required=True, help=_("The cooperative's id or tax code.")
        )
        parser.add_argument("--output", required=True, help=_("Path of the ZIP file to write."))

    def handle(self, *args, cooperative, output, **options):
        self.verbosity = options.get("verbosity", 1)
        coop = find_cooperative(cooperative)
        target = Path(output).expanduser().resolve()
        if not target.parent.is_dir():
            raise CommandError(
                _("The folder %(folder)s does not exist.") % {"folder": target.parent}
            )
        self._say(_("Exporting %(name)s (id %(id)s)…") % {"name": coop.name, "id": coop.pk})
        # Written next to the target and renamed at the end: a failed export leaves no half file.
        handle, partial = tempfile.mkstemp(prefix=".export-", suffix=".zip", dir=target.parent)
        os.close(handle)
        try:
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                counts, missing = self._write(archive, coop)
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Exported %(name)s to %(path)s. Members: %(members)d, cases: %(cases)d, "
                    "messages: %(messages)d, internal notes: %(notes)d, events: %(events)d, "
                    "ratings: %(ratings)d, documents: %(documents)d (%(bytes)d bytes)."
                )
                % {"name": coop.name, "path": target, **counts}
            )
        )
        if missing:
            self.stdout.write(
                self.style.WARNING(
                    _("Documents missing from storage: %(count)d (listed in manifest.json).")
                    % {"count": len(missing)}
                )
            )

    def _say(self, text: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(text)

    def _json(self, archive: zipfile.ZipFile, name: str, data) -> None:
        text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        archive.writestr(name, text + "\n")

    def _write(self, archive: zipfile.ZipFile, coop: Cooperative) -> tuple[Counter, list]:
        counts: Counter = Counter(dict.fromkeys(COUNTED, 0))
        self._json(
            archive,
            "cooperative.json",
            {
                "id": coop.pk,
                "name": coop.name,
                "tax_code": coop.tax_code,
                "office": coop.office.code,
                "sector": coop.sector.name,
                "membership_status": coop.membership_status,
                "joined_on": coop.joined_on,
                "city": coop.city,
                "email": coop.email,
            },
        )
        members = [
            {
                "username": m.user.get_username(),
                "first_name": m.user.first_name,
                "last_name": m.user.last_name,
                "email": m.user.email,
                "role": m.role,
                "member_since": m.created_at,
                "active": m.user.is_active,
            }
            for m in Membership.objects.filter(cooperative=coop)
            .select_related("user")
            .order_by("created_at", "pk")
        ]
        counts["members"] = len(members)
        self._json(archive, "members.json", members)
        self._say(_("Members: %(count)d.") % {"count": len(members)})

        cases = (
            Case.objects.filter(cooperative=coop)
            .select_related(
                "area", "specialty", "outcome", "assignee", "requester", "rating__rated_by"
            )
            .prefetch_related(
                Prefetch("messages", queryset=Message.objects.select_related("author")),
                Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
                "attachments",
            )
            .order_by("created_at", "pk")
        )
        total = cases.count()
        public_cases, internal = [], []
        missing: list[str] = []
        for number, case in enumerate(cases.iterator(chunk_size=PROGRESS_EVERY), start=1):
            public_cases.append(self._case(archive, case, internal, missing, counts))
            if number % PROGRESS_EVERY == 0 or number == total:
                self._say(_("Cases: %(done)d of %(total)d.") % {"done": number, "total": total})
        counts["cases"] = len(public_cases)
        self._json(archive, "cases.json", public_cases)
        self._json(archive, "internal_notes.json", internal)

        emails = [
            {
                "case": reference,
                "to": email,
                "kind": kind,
                "subject": subject,
                "status": status,
                "created_at": created_at,
                "sent_at": sent_at,
            }
            for reference, email, kind, subject, status, created_at, sent_at in (
                Notification.objects.filter(case__cooperative=coop)
                .order_by("created_at", "pk")
                .values_list(
                    "case__reference",
                    "email",
                    "kind",
                    "subject",
                    "status",
                    "created_at",
                    "sent_at",
                )
            )
        ]
        counts["emails"] = len(emails)
        self._json(archive, "emails.json", emails)
        self._json(
            archive,
            "manifest.json",
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "generated_at": timezone.now(),
                "cooperative": {"id": coop.pk, "name": coop.name, "tax_code": coop.tax_code},
                "counts": dict(sorted(counts.items())),
                "missing_documents": missing,
                "files": {
                    "cooperative.json": _("The cooperative as registered with the federation."),
                    "members.json": _("The people acting for the cooperative."),
                    "cases.json": _("The cases with replies, events, rating and documents."),
                    "internal_notes.json": _(
                        "The internal notes and documents of the federation's staff, never shown "
                        "to the cooperative."
                    ),
                    "emails.json": _("The e-mails sent about the cases."),
                    "documents/": _("The documents of the cases."),
                    "internal_documents/": _("The internal documents of the staff."),
                },
            },
        )
        return counts, missing

    def _case(self, archive, case: Case, internal: list, missing: list, counts: Counter) -> dict:
        messages, notes = [], []
        for message in case.messages.all():
            row = {
                "id": message.pk,
                "author": _person(message.author),
                "written_at": message.created_at,
                "text": message.body,
            }
            (notes if message.internal else messages).append(row)
        counts["messages"] += len(messages)
        counts["notes"] += len(notes)
        documents, internal_documents = [], []
        for attachment in case.attachments.all():
            folder = "internal_documents" if attachment.internal else "documents"
            path = (
                f"{folder}/{case.reference}/{attachment.pk}-{_safe_name(attachment.original_name)}"
            )
            row = {
                "id": attachment.pk,
                "name": attachment.original_name,
                "type": attachment.content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
                "uploaded_by": _person(attachment.uploaded_by),
                "uploaded_at": attachment.created_at,
                "message": attachment.message_id,
                "file": None,
            }
            if attachment.file:
                try:
                    with attachment.file.open("rb") as source, archive.open(path, "w") as copy:
                        while chunk := source.read(1024 * 1024):
                            copy.write(chunk)
                    row["file"] = path
                    counts["documents"] += 1
                    counts["bytes"] += attachment.size
                except (FileNotFoundError, ValueError):
                    missing.append(f"{case.reference}: {attachment.original_name}")
            (internal_documents if attachment.internal else documents).append(row)
        if notes or internal_documents:
            internal.append(
                {"case": case.reference, "notes": notes, "documents": internal_documents}
            )
        events = [
            {
                "kind": event.kind,
                "at": event.created_at,
                "actor": _person(event.actor),
                "before": event.before,
                "after": event.after,
                "note": event.note,
            }
            for event in case.events.all()
        ]
        counts["events"] += len(events)
        try:
            rating = case.rating
        except Case.rating.RelatedObjectDoesNotExist:
            rating = None
        if rating is not None:
            counts["ratings"] += 1
        return {
            "id": case.pk,
            "reference": case.reference,
            "area": case.area.code,
            "specialty": case.specialty.name if case.specialty else None,
            "subject": case.subject,
            "description": case.description,
            "priority": case.priority,
            "status": case.status,
            "requester": _person(case.requester),
            "assignee": _person(case.assignee),
            "outcome": case.outcome.code if case.outcome else None,
            "resolution_summary": case.resolution_summary,
            "rejection_reason": case.rejection_reason,
            "minutes_spent": case.minutes_spent,
            "created_at": case.created_at,
            "first_response_at": case.first_response_at,
            "resolved_at": case.resolved_at,
            "closed_at": case.closed_at,
            "sla_state": case.sla_state,
            "messages": messages,
            "documents": documents,
            "events": events,
            "rating": {
                "score": rating.score,
                "comment": rating.comment,
                "rated_by": _person(rating.rated_by),
                "rated_at": rating.created_at,
            }
            if rating
            else None,
        }
