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
#: What a time entry's note may say (its column's length).
ENTRY_NOTE = 500
#: The minutes a resolution may add at once: they are one time entry of the day it is resolved.
RESOLUTION_MINUTES = ENTRY_MINUTES
#: The minutes one estimate of work beyond a cooperative's plan may ask for (100 hours).
ESTIMATE_MINUTES = 100 * 60
