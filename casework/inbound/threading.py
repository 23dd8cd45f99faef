"""What a reply points to: the case reference in its subject, the Message-IDs it answers.

Intake looks up the ids first (they name one outgoing e-mail, so one case) and falls back on the
bracketed reference, which survives mail programs that drop the threading headers.
"""

from __future__ import annotations

import re

from .parse import Incoming

# `[FIS-2026-000123]`: the area's prefix (2 to 5 capitals, as PracticeArea.reference_prefix),
# the year and the counter, zero-padded to 6 digits by services.intake.next_reference (more once
# a year passes a million). re.ASCII: "٣" or "２" are digits to \d otherwise, never to a reference.
_REFERENCE = re.compile(r"\[([A-Z]{2,5}-[0-9]{4}-[0-9]{6,})\]", re.ASCII)


def case_reference_in(subject: str) -> str | None:
    """The first bracketed case reference in `subject`, without brackets; None if there is none."""
    match = _REFERENCE.search(subject or "")
    return match.group(1) if match else None


def thread_ids(incoming: Incoming) -> tuple[str, ...]:
    """In-Reply-To then References, without brackets or repeats: the ids to look up, in order.

    In-Reply-To names the e-mail answered, so it is the best guess; References lists the thread
    from its root, where Sportello puts the case's own id (`mail.case_thread_id`).
    """
    ids = ([incoming.in_reply_to] if incoming.in_reply_to else []) + list(incoming.references)
    return tuple(dict.fromkeys(ids))
