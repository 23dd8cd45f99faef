"""What the search tests plant: one unusual word in one indexed field of a case at a time."""

from django.core.files.uploadedfile import SimpleUploadedFile

from workflows import process

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
# A word no other text of the tests uses.
WORD = "ornitorinco"
FIELDS = ["subject", "description", "public message", "internal note", "document name"]
PUBLIC_FIELDS = frozenset({"subject", "description", "public message"})


def plant(field, *, open_case, consultant, requester=None, cooperative=None):
    """A case (of the requester's cooperative) with WORD in `field` only, written the way the
    product writes it: through the process. Documents need MEDIA_ROOT pointed somewhere."""
    text = {"subject": "subject", "description": "description"}
    fields = {text[field]: f"Una domanda su {WORD}"} if field in text else {}
    case = open_case(requester, cooperative, **fields)
    author = requester or case.requester
    if field == "public message":
        process.case_post_message(case=case, author=author, body=f"Vedi {WORD}.")
    elif field == "internal note":
        process.case_post_message(
            case=case, author=consultant, body=f"Nota su {WORD}.", internal=True
        )
    elif field == "document name":
        upload = SimpleUploadedFile(f"{WORD}.pdf", PDF, content_type="application/pdf")
        process.case_attach(case=case, uploaded_by=author, file=upload)
    return case
