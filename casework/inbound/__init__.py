"""Mail intake's pure core: read a message, tell what it is, find its thread, open PEC.

Nothing here touches the database, a mailbox or the settings: each module takes bytes or an
`Incoming` and returns dataclasses and codes, so the intake service decides what to store.

- `parse`: raw bytes to an `Incoming` (headers, text, reply without quoted history, attachments).
- `classify`: auto-replies, bounces and Sportello's own messages, which never open a case.
- `threading`: the case reference in a subject and the ids a reply points to.
- `pec`: a PEC provider's envelope or receipt, its inner message and its `daticert.xml`.
- `signed`: what a `.p7m` (CAdES) or a signed PDF (PAdES) holds and who signed it.
- `sniff`: a document's type from its first bytes, signed envelopes included.
"""
