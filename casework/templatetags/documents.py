"""Template filters of the case pages: whether a document can be previewed, and how; what a signed
document holds."""

from django import template
from django.utils.translation import gettext as _

from casework.downloads import preview_kind as _preview_kind
from casework.inbound.signed import PROBLEM_MESSAGES, Signer

register = template.Library()


@register.filter
def preview_kind(attachment) -> str:
    """ "image", "pdf" or "" for a document (an Attachment), from its detected type."""
    return _preview_kind(getattr(attachment, "content_type", None)) or ""


def _signer(value) -> str:
    if isinstance(value, dict):
        return str(Signer(name=value.get("name") or "?", fiscal_code=value.get("fiscal_code")))
    return str(value)


@register.filter
def signature_line(attachment) -> str:
    """What a signed document (a CAdES .p7m, a PAdES PDF) holds, from `Attachment.signature`, in
    the reader's language; "" for an ordinary document."""
    signature = getattr(attachment, "signature", None)
    if not signature or not isinstance(signature, dict):
        return ""
    if not signature.get("readable"):
        problem = signature.get("problem") or ""
        words = str(PROBLEM_MESSAGES.get(problem, problem) or _("unknown problem"))
        return _("Signed document (the envelope could not be read: %(problem)s)") % {
            "problem": words.rstrip(".")
        }
    inner = signature.get("inner_name") or getattr(attachment, "original_name", "")
    signers = ", ".join(_signer(signer) for signer in signature.get("signers") or ())
    if not signers:
        return _("Signed document: %(name)s") % {"name": inner}
    return _("Signed document: %(name)s — signed by %(signers)s") % {
        "name": inner,
        "signers": signers,
    }
