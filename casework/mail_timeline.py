"""What the timelines say about the events of mail intake: the workspace's and the portal's.

One function for both sides (`timeline_words`), so that a member and a consultant read the same
words about the same e-mail; what only the staff are told (the Message-ID, what could not be read
of a PEC envelope) is left out for the cooperative. `mail_linked` is staff-only as a whole
(`selectors.STAFF_ONLY_EVENTS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .attachments import refusal_text
from .inbound import pec
from .models import CaseEvent, InboundEmail

Kind = CaseEvent.Kind

KINDS = frozenset(
    {Kind.EMAIL_RECEIVED, Kind.ATTACHMENT_REFUSED, Kind.PEC_RECEIPT, Kind.MAIL_LINKED}
)
# What the cooperative's page lists of them.
MEMBER_KINDS = frozenset({Kind.EMAIL_RECEIVED, Kind.ATTACHMENT_REFUSED, Kind.PEC_RECEIPT})

# What each receipt of the PEC provider says about the e-mail Sportello sent.
RECEIPT_WORDS = {
    pec.ACCEPTANCE: gettext_lazy("Accepted by the sender's provider"),
    pec.NON_ACCEPTANCE: gettext_lazy("Not accepted by the sender's provider"),
    pec.TAKEN_IN_CHARGE: gettext_lazy("Taken in charge by the recipient's provider"),
    pec.DELIVERY: gettext_lazy("Delivered to %(recipient)s"),
    pec.DELIVERY_ERROR: gettext_lazy("Delivery error to %(recipient)s"),
    pec.DELIVERY_ERROR_WARNING: gettext_lazy(
        "Not yet delivered to %(recipient)s (warning of a delivery error)"
    ),
    pec.VIRUS_DETECTED: gettext_lazy("Refused: a virus was detected"),
}


def _instant(value) -> str:
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value or "—")
    if timezone.is_aware(when):
        when = timezone.localtime(when)
    return formats.date_format(when, "DATETIME_FORMAT")


def providers_of(events: Iterable[CaseEvent]) -> dict[int, str]:
    """The PEC provider who certified each e-mail of these events (by InboundEmail id), in one
    query; the events keep the certified time and id, the provider is in the e-mail's row."""
    ids = {
        (event.after or {}).get("inbound")
        for event in events
        if event.kind == Kind.EMAIL_RECEIVED and (event.after or {}).get("pec")
    }
    ids.discard(None)
    if not ids:
        return {}
    return {
        pk: (certified or {}).get("gestore_emittente") or ""
        for pk, certified in InboundEmail.objects.filter(pk__in=ids).values_list("pk", "certified")
    }


def _email_received(after: Mapping, *, staff: bool, providers: Mapping[int, str]) -> list[str]:
    words = [_("E-mail from %(sender)s.") % {"sender": after.get("from_address") or "—"}]
    kind = after.get("pec")
    if kind == pec.ANOMALY:
        words.append(_("PEC anomaly: the provider could not certify this message."))
    elif kind:
        provider = providers.get(after.get("inbound")) or _("the provider")
        words.append(
            _("PEC certified by %(provider)s at %(when)s, id %(id)s.")
            % {
                "provider": provider,
                "when": _instant(after.get("certified_at")),
                "id": after.get("certified_id") or "—",
            }
        )
    if after.get("follows"):
        words.append(
            _("It answers case %(reference)s, which was finished: this case follows it.")
            % {"reference": after["follows"]}
        )
    if staff:
        if after.get("pec_problems"):
            words.append(
                _("Parts of the PEC envelope could not be read (%(problems)s).")
                % {"problems": ", ".join(after["pec_problems"])}
            )
        if after.get("message_id"):
            words.append(_("Message-ID: %(id)s") % {"id": after["message_id"]})
    return words


def _pec_receipt(after: Mapping) -> list[str]:
    receipt = after.get("receipt")
    what = RECEIPT_WORDS.get(receipt)
    what = str(what) % {"recipient": after.get("recipient") or "—"} if what else (receipt or "—")
    words = [
        # Translators: what a PEC receipt says, e.g. "Delivered to a@pec.it at 15 Jan 2026, 10:23."
        _("%(what)s at %(when)s.") % {"what": what, "when": _instant(after.get("certified_at"))}
    ]
    if after.get("error"):
        words.append(_("The provider says: %(error)s") % {"error": after["error"]})
    return words


def timeline_words(
    event: CaseEvent, *, staff: bool, providers: Mapping[int, str] | None = None
) -> list[str]:
    """What a timeline says about an event of mail intake; [] for any other kind.

    `staff`: the reader is staff of the case (the Message-ID and the envelope's problems are
    theirs only). `providers`: `providers_of` the page's events, for the PEC certifications.
    """
    after = event.after or {}
    if event.kind == Kind.EMAIL_RECEIVED:
        return _email_received(after, staff=staff, providers=providers or {})
    if event.kind == Kind.ATTACHMENT_REFUSED:
        # The upload checks' own words name the document and say why, in the reader's language.
        params = {"name": after.get("name"), **(after.get("params") or {})}
        return [refusal_text(after.get("reason") or "", params)]
    if event.kind == Kind.PEC_RECEIPT:
        return _pec_receipt(after)
    if event.kind == Kind.MAIL_LINKED and staff:
        actor = event.actor
        who = (actor.get_full_name() or actor.get_username()) if actor else _("a former user")
        return [
            _("Linked by %(who)s from unmatched mail (the e-mail of %(sender)s).")
            % {"who": who, "sender": after.get("from_address") or "—"}
        ]
    return []
