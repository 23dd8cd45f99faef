"""Documents on a case: the one write that stores an upload (its content checked first).

The checks of what an upload is (type read from the content, size, a safe name) live in
`casework.attachments`; who may see a document, in `casework.selectors`.
"""

from __future__ import annotations

import hashlib
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events, notifications, policy
from ..attachments import TYPE_EXTENSIONS, check_upload, sanitize_filename
from ..errors import CaseError
from ..models import Attachment, Case, Message
from ..policy import Action
from .transition import _activity


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
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks() if hasattr(file, "chunks") else [file.read()]:
        digest.update(chunk)
    file.seek(0)
    attachment = Attachment(
        case=case,
        message=message,
        uploaded_by=uploaded_by,
        original_name=original_name,
        content_type=content_type,
        size=file.size,
        sha256=digest.hexdigest(),
        internal=internal,
    )
    # The stored name is random: the original name is only shown, never used as a path.
    attachment.file.save(f"{uuid.uuid4().hex}{TYPE_EXTENSIONS[content_type]}", file, save=False)
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
