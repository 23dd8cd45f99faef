"""Documents on a case: the one write that stores an upload (its content checked first).

The checks of what an upload is (type read from the content, size, a safe name) live in
`casework.attachments`; who may see a document, in `casework.selectors`. A signed document (a
CAdES `.p7m`, a PAdES PDF) is stored as it came, with what its envelope says in
`Attachment.signature` (`signature_of`). The whole original of an e-mail is stored apart, by
`case_attach_email`, for the staff only.
"""

from __future__ import annotations

import hashlib
import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events, notifications, policy
from ..attachments import EML, PDF, PKCS7, TYPE_EXTENSIONS, check_upload, sanitize_filename
from ..doctypes import read_all
from ..errors import CaseError
from ..inbound import signed
from ..models import Attachment, Case, Message
from ..policy import Action
from .transition import _activity

# The types whose signatures are described; any other document has an empty `signature`.
SIGNED_TYPES = frozenset({PKCS7, PDF})


def signature_of(name: str, content_type: str, content: bytes) -> dict:
    """What a signed document's envelope says, as stored in `Attachment.signature`.

    `kind` (cades, pades), `inner_name` (the signed file), `signers` ("Name (FISCALCODE)"),
    `readable`, and `problem` (a code of `inbound.signed.PROBLEM_MESSAGES`, or None). Empty for a
    document that is not signed. What it says is read, not verified (see `inbound.signed`).
    """
    if content_type not in SIGNED_TYPES:
        return {}
    described = signed.describe(name, content)
    if described is None:
        return {}
    return {
        "kind": described.kind,
        "inner_name": described.inner_name,
        "signers": [str(signer) for signer in described.signers],
        "readable": described.readable,
        "problem": described.problem,
    }


def _digest(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks() if hasattr(file, "chunks") else [file.read()]:
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _store(
    *,
    case: Case,
    message: Message | None,
    uploaded_by,
    file,
    original_name: str,
    content_type: str,
    internal: bool,
    signature: dict,
) -> Attachment:
    """The row, its file under a random name, and its event; no file is left without its row."""
    attachment = Attachment(
        case=case,
        message=message,
        uploaded_by=uploaded_by,
        original_name=original_name,
        content_type=content_type,
        size=file.size,
        sha256=_digest(file),
        internal=internal,
        signature=signature,
    )
    # The stored name is random: the original name is only shown, never used as a path.
    extension = TYPE_EXTENSIONS.get(content_type, "")
    attachment.file.save(f"{uuid.uuid4().hex}{extension}", file, save=False)
    stored = attachment.file.name
    try:
        attachment.save()
        events.record(
            events.attachment_added(
                case,
                actor=uploaded_by,
                attachment=attachment.pk,
                name=original_name,
                size=attachment.size,
                internal=internal,
            )
        )
    except Exception:
        # The row did not make it: do not leave an orphan file behind.
        attachment.file.storage.delete(stored)
        raise
    return attachment


@transaction.atomic
def case_attach(
    *,
    case: Case,
    uploaded_by,
    file,
    internal: bool = False,
    message: Message | None = None,
) -> Attachment:
    """Store a document on a case after checking who uploads it, its size and its content."""
    # A document on an internal note is as internal as the note (and only staff may add it).
    internal = internal or (message is not None and message.internal)
    action = Action.ATTACH_INTERNAL if internal else Action.ATTACH
    roles = policy.check_actor(action, case, uploaded_by)
    policy.check_state(action, case)
    if message is not None and message.case_id != case.pk:
        raise CaseError(_("The message belongs to another case."), code="message")

    content_type = check_upload(file)
    original_name = sanitize_filename(getattr(file, "name", "") or "")
    signature = (
        signature_of(original_name, content_type, read_all(file))
        if content_type in SIGNED_TYPES
        else {}
    )
    attachment = _store(
        case=case,
        message=message,
        uploaded_by=uploaded_by,
        file=file,
        original_name=original_name,
        content_type=content_type,
        internal=internal,
        signature=signature,
    )
    if message is None and not internal:
        # A public document on its own is news for the other side, as a message is (one on a
        # message travels with that message's e-mail).
        at = timezone.now()
        _activity(case, at, uploaded_by)
        Case.objects.filter(pk=case.pk).update(last_activity_at=at)
        notifications.notify_document(
            attachment=attachment, from_staff=policy.is_staff_of(case, roles)
        )
    return attachment


@transaction.atomic
def case_attach_email(
    *, case: Case, raw: bytes, name: str, uploaded_by=None, message: Message | None = None
) -> Attachment:
    """Keep the whole original of an e-mail (a PEC's envelope) on its case, for the staff only.

    Sportello stores it, not a person: no upload check (mail intake took the message within its
    own size limit, `inbound.parse.MAX_MESSAGE_BYTES`) and no policy for `uploaded_by`, who is the
    sender it came from. Always internal, so no member ever reads it through the selectors; it
    notifies nobody. Expects the case row locked (`workflows.process.case_attach_email`).
    """
    stem = sanitize_filename(name or "email")
    original_name = stem if stem.lower().endswith(".eml") else f"{stem}.eml"
    return _store(
        case=case,
        message=message,
        uploaded_by=uploaded_by,
        file=ContentFile(bytes(raw), name=original_name),
        original_name=original_name,
        content_type=EML,
        internal=True,
        signature={},
    )
