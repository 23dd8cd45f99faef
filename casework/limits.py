"""How long each text a person writes may be: one home for the forms, the API and the services."""

#: A case's subject (also its column's length).
SUBJECT = 200
#: A case's description, a message, a question, an answer, a resolution summary.
LONG_TEXT = 20_000
#: A reason (reopening, cancelling), a rejection's explanation, a rating's comment.
REASON = 5_000
#: A short note: why a case is handed back, what a time entry was for.
SHORT_NOTE = 2_000
#: A code typed in the API (an outcome's, a specialty's).
CODE = 40
#: The minutes one time entry may record (a working day at most).
ENTRY_MINUTES = 24 * 60
#: The minutes a resolution may add at once.
RESOLUTION_MINUTES = 100_000
