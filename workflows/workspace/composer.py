"""The case page's composer: one form for whatever a consultant sends, sent in one transaction.

A reply, an internal note, a request for information, a resolution, a hand-back, or minutes
alone: the person picks what to send among what `casework.policy` allows them, writes one text,
may attach documents (seen by the cooperative, or internal with what only staff read) and
records minutes once. One submit is saved whole or not at all: the documents' type and size are
checked by the form before anything is written (`casework.attachments.check_upload`, the same
check as the portal's and the API's), and every process call runs in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casework import canned, limits, policy
from casework.hours import offered_actions
from casework.mail import language_of
from casework.models import Attachment, CannedReply, Case, Message, OutcomeCode
from casework.portal.forms import MultipleFileField, MultipleFileInput, documents_help
from workflows import process

from .forms import WorkspaceForm

PREFIX = "composer"
ANCHOR = "composer"


def _reply(case, user, data) -> Message | None:
    if not data["body"]:
        return None  # documents on their own ("attach only")
    return process.case_post_message(case=case, author=user, body=data["body"])


def _note(case, user, data) -> Message | None:
    if not data["body"]:
        return None
    return process.case_post_message(case=case, author=user, body=data["body"], internal=True)


def _written_now(case: Case, user) -> Message | None:
    """The public message the action just wrote (the question, the resolution's summary).

    The case row stays locked from the action to the end of this transaction, and every message
    is written under that lock, so the person's last public message is the one just written.
    """
    return (
        Message.objects.filter(case_id=case.pk, author=user, internal=False)
        .order_by("-created_at", "-id")
        .first()
    )


def _request_info(case, user, data) -> Message | None:
    process.case_request_info(case=case, actor=user, question=data["body"])
    return _written_now(case, user)


def _resolve(case, user, data) -> Message | None:
    process.case_resolve(
        case=case,
        actor=user,
        outcome=data["outcome"],
        summary=data["body"],
        minutes_spent=data["minutes"],
    )
    return _written_now(case, user)


def _hand_back(case, user, data) -> None:
    process.case_hand_back(case=case, actor=user, reason=data["body"])


def _time(case, user, data) -> None:
    process.case_record_time(case=case, actor=user, minutes=data["minutes"], note=data["body"])


def _estimate(case, user, data) -> None:
    process.case_propose_estimate(case=case, actor=user, minutes=data["minutes"], note=data["body"])


@dataclass(frozen=True)
class Mode:
    """One thing the composer sends: who may (the policy's action), who reads it, the call."""

    slug: str
    label: Any
    action: policy.Action
    public: bool  # the cooperative reads its text and its documents
    text_label: Any
    button: Any
    done: Any
    send: Callable[[Case, Any, dict], Message | None]
    # What an empty text says; None: the text may be empty (documents or minutes instead).
    missing_text: Any = None
    text_max: int = limits.LONG_TEXT
    # The documents go in before the action: after a hand-back the consultant no longer holds it.
    documents_first: bool = False
    # The minutes are the action's own (a resolution's minutes spent, a time entry, an estimate).
    own_minutes: bool = False
    # The most minutes the mode takes (a time entry's: a day; an estimate's: more).
    minutes_max: int = limits.ENTRY_MINUTES


MODES = (
    Mode(
        slug="reply",
        label=_("Reply to the cooperative"),
        action=policy.Action.REPLY,
        public=True,
        text_label=_("Reply to the cooperative"),
        button=_("Send the reply"),
        done=_("Reply sent on %(reference)s."),
        send=_reply,
    ),
    Mode(
        slug="note",
        label=_("Internal note"),
        action=policy.Action.NOTE,
        public=False,
        text_label=_("Internal note"),
        button=_("Add the note"),
        done=_("Internal note added to %(reference)s."),
        send=_note,
    ),
    Mode(
        slug="request-info",
        label=_("Ask the cooperative for information"),
        action=policy.Action.REQUEST_INFO,
        public=True,
        text_label=_("What the cooperative should send or answer"),
        button=_("Send the request"),
        done=_("%(reference)s now waits for the cooperative's answer."),
        send=_request_info,
        missing_text=_("Write what the cooperative should send or answer."),
    ),
    Mode(
        slug="resolve",
        label=_("Resolve"),
        action=policy.Action.RESOLVE,
        public=True,
        text_label=_("Summary for the cooperative"),
        button=_("Resolve the case"),
        done=_("%(reference)s is resolved; the cooperative is asked to confirm."),
        send=_resolve,
        missing_text=_("Write the summary for the cooperative."),
        own_minutes=True,
    ),
    Mode(
        slug="hand-back",
        label=_("Hand back to a supervisor"),
        action=policy.Action.HAND_BACK,
        public=False,
        text_label=_("Why a supervisor should reassign the case"),
        button=_("Hand the case back"),
        done=_("%(reference)s is back with the supervisors for reassignment."),
        send=_hand_back,
        missing_text=_("Say why a supervisor should reassign the case."),
        text_max=limits.SHORT_NOTE,
        documents_first=True,
    ),
    Mode(
        slug="time",
        label=_("Record time only"),
        action=policy.Action.RECORD_TIME,
        public=False,
        text_label=_("What was done"),
        button=_("Record the minutes"),
        done=_("Time recorded on %(reference)s."),
        send=_time,
        text_max=limits.ENTRY_NOTE,
        documents_first=True,
        own_minutes=True,
    ),
    Mode(
        slug="estimate",
        label=_("Propose an estimate beyond the plan"),
        action=policy.Action.PROPOSE_ESTIMATE,
        public=True,
        text_label=_("What the extra hours are for"),
        button=_("Send the estimate"),
        done=_("%(reference)s now waits for the cooperative to accept or decline the estimate."),
        send=_estimate,
        missing_text=_("Say what the extra hours are for."),
        text_max=limits.REASON,
        own_minutes=True,
        minutes_max=limits.ESTIMATE_MINUTES,
    ),
)
MODES_BY_SLUG = {mode.slug: mode for mode in MODES}
# Reply and note may go without text when documents go with them; the others need their text.
_NEEDS_SOMETHING = {"reply", "note"}


def modes_for(allowed) -> list[Mode]:
    """The composer's choices among the actions the policy allows this person now."""
    return [mode for mode in MODES if mode.action in allowed]


# --- The canned replies --------------------------------------------------------------------


@dataclass(frozen=True)
class CannedText:
    pk: int
    title: str
    text: str


def _person_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def canned_texts(case: Case) -> list[CannedText]:
    """The area's canned replies (and those of every area) in the requester's language, filled.

    The requester reads the reply, so their language decides, not the consultant's. A reply
    whose text names an unknown placeholder (the admin refuses them, an old row may have one)
    is left out rather than offered half filled.
    """
    rows = CannedReply.objects.filter(
        Q(area_id=case.area_id) | Q(area__isnull=True),
        is_active=True,
        language=language_of(case.requester),
    ).order_by("position", "title", "pk")
    values = {
        "cooperative": case.cooperative.name,
        "requester": _person_name(case.requester),
        "reference": case.reference,
    }
    texts = []
    for row in rows:
        try:
            text = canned.fill(row.body, **values)
        except canned.UnknownPlaceholder:
            continue
        texts.append(CannedText(row.pk, row.title, text))
    return texts


class CannedSelect(forms.Select):
    """Each option carries its filled text, escaped like any attribute, for the page's script."""

    def __init__(self, *args, texts: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.texts = texts or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.texts:
            option["attrs"]["data-text"] = self.texts[str(value)]
        return option


class ModeSelect(forms.RadioSelect):
    """The choices offered (others stay valid so the policy's refusal is what a stale page gets),
    each with the words the page's script puts on the text's label and on the button."""

    def __init__(self, *args, shown: list[Mode] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.shown = {mode.slug: mode for mode in shown or ()}

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        return [
            (group, [option for option in options if option["value"] in self.shown], index)
            for group, options, index in groups
        ]

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        mode = self.shown.get(value)
        if mode is not None:
            option["attrs"].update(
                {
                    "data-text-label": str(mode.text_label),
                    "data-button": str(mode.button),
                    "data-public": "true" if mode.public else "false",
                }
            )
        return option


# --- The form ------------------------------------------------------------------------------


class ComposerForm(WorkspaceForm):
    """What to send, its text, a canned reply to start from, the outcome, minutes, documents."""

    mode = forms.ChoiceField(label=_("What to send"), choices=[(m.slug, m.label) for m in MODES])
    canned = forms.ChoiceField(label=_("Canned reply"), required=False)
    body = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=limits.LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_(
            "The cooperative reads a reply, a request and a resolution's summary; only the "
            "federation's staff read an internal note, a hand-back's reason and a time entry."
        ),
    )
    outcome = forms.ModelChoiceField(
        label=_("Outcome of the resolution"), queryset=OutcomeCode.objects.none(), required=False
    )
    minutes = forms.IntegerField(
        label=_("Minutes spent"),
        required=False,
        min_value=0,
        max_value=limits.ESTIMATE_MINUTES,
        help_text=_(
            "Recorded once: with a resolution as its minutes spent, otherwise as a time entry; "
            "with an estimate, the minutes it asks for beyond the plan."
        ),
    )
    documents = MultipleFileField(label=_("Documents"), widget=MultipleFileInput())

    def __init__(self, data=None, files=None, *, case: Case, allowed, texts, **kwargs):
        super().__init__(data, files, prefix=PREFIX, **kwargs)
        self.case = case
        self.modes = modes_for(allowed)
        self.texts = texts
        offered = {mode.slug for mode in self.modes}
        self.offers_outcome = "resolve" in offered
        self.offers_minutes = bool(offered & {"resolve", "time", "estimate"})
        self.offers_documents = bool(
            {policy.Action.ATTACH, policy.Action.ATTACH_INTERNAL} & set(allowed)
        )
        mode = self.fields["mode"]
        mode.widget = ModeSelect(shown=self.modes)
        mode.widget.choices = mode.choices
        if self.modes and not self.is_bound and not self.initial.get("mode"):
            self.initial["mode"] = self.modes[0].slug
        # The words of what is being sent, also without the page's script (after an error).
        self.current = MODES_BY_SLUG.get(
            self.data.get(self.add_prefix("mode")) if self.is_bound else self.initial.get("mode")
        ) or (self.modes[0] if self.modes else None)
        if self.current is not None:
            self.fields["body"].label = self.current.text_label
        canned_field = self.fields["canned"]
        canned_field.choices = [("", _("Choose a canned reply…"))] + [
            (str(text.pk), text.title) for text in texts
        ]
        canned_field.widget = CannedSelect(texts={str(text.pk): text.text for text in texts})
        canned_field.widget.choices = canned_field.choices
        self.fields["outcome"].queryset = OutcomeCode.objects.filter(
            area_id=case.area_id, is_active=True
        ).order_by("label")
        self.fields["documents"].help_text = " ".join(
            [
                str(documents_help()),
                str(
                    _(
                        "Internal with an internal note, a hand-back or time; seen by the "
                        "cooperative otherwise. Without text, they are attached on their own."
                    )
                ),
            ]
        )

    def clean(self):
        data = super().clean()
        mode = MODES_BY_SLUG.get(data.get("mode"))
        if mode is None:
            return data
        body = data.get("body") or ""
        documents = data.get("documents") or []
        minutes = data.get("minutes") or 0
        data["minutes"] = minutes
        if mode.slug in _NEEDS_SOMETHING:
            if not body and not documents and "documents" not in self.errors:
                self.add_error("body", _("Write a message or attach at least one document."))
        elif mode.missing_text is not None and not body:
            self.add_error("body", mode.missing_text)
        if len(body) > mode.text_max:
            self.add_error(
                "body",
                _("At most %(n)d characters here (this text has %(length)d).")
                % {"n": mode.text_max, "length": len(body)},
            )
        if mode.slug == "resolve" and data.get("outcome") is None and "outcome" not in self.errors:
            self.add_error("outcome", _("Choose the outcome of the resolution."))
        if mode.slug == "time" and not minutes and "minutes" not in self.errors:
            self.add_error("minutes", _("Write the minutes spent."))
        if mode.slug == "estimate" and not minutes and "minutes" not in self.errors:
            self.add_error("minutes", _("Write the minutes the estimate asks for."))
        if minutes > mode.minutes_max and "minutes" not in self.errors:
            self.add_error(
                "minutes",
                _("A time entry is at most %(n)d minutes.") % {"n": limits.ENTRY_MINUTES}
                if mode.minutes_max == limits.ENTRY_MINUTES
                else _("At most %(n)d minutes here.") % {"n": mode.minutes_max},
            )
        return data

    def refuse(self, message) -> None:
        """What the process refused, shown atop the composer; the text keeps the focus."""
        self.add_error(None, message)
        self.fields["body"].widget.attrs["autofocus"] = True

    def full_clean(self):
        super().full_clean()
        # The browser lands on the composer; the first field to fix takes the focus.
        for name in self.fields:
            if name in self._errors:
                self.fields[name].widget.attrs["autofocus"] = True
                break


def composer_form(case: Case, user, data=None, files=None, *, initial=None) -> ComposerForm:
    return ComposerForm(
        data,
        files,
        case=case,
        allowed=offered_actions(case, user),
        texts=canned_texts(case),
        initial=initial,
    )


def with_canned_text(case: Case, user, data) -> ComposerForm:
    """The composer as it was posted, with the chosen canned reply added to its text.

    What the "Insert" button does without JavaScript (the page's script does it in place):
    a fresh form, so nothing is validated yet; the chosen documents have to be picked again.
    """
    initial = {
        name: data.get(f"{PREFIX}-{name}", "") for name in ("mode", "body", "outcome", "minutes")
    }
    form = composer_form(case, user, initial=initial)
    chosen = next((t for t in form.texts if str(t.pk) == data.get(f"{PREFIX}-canned")), None)
    if chosen is None:
        # An unbound form keeps no cleaned data, which `add_error` expects to find.
        form.cleaned_data = {}
        form.add_error("canned", _("Choose a canned reply to insert."))
        form.fields["canned"].widget.attrs["autofocus"] = True
        return form
    body = initial["body"].rstrip()
    form.initial["body"] = f"{body}\n\n{chosen.text}" if body else chosen.text
    form.fields["body"].widget.attrs["autofocus"] = True
    return form


# --- Sending -------------------------------------------------------------------------------


def _discard_stored(attachments: list[Attachment]) -> None:
    """Files written before a rollback have no row any more: remove them from disk."""
    for attachment in attachments:
        attachment.file.storage.delete(attachment.file.name)


def send(*, form: ComposerForm, case: Case, user) -> Mode:
    """Everything of one valid submit, in one transaction; a refusal (CaseError) saves nothing.

    The minutes go in first (a time entry, unless they are the action's own), then the documents
    and the action in the order the action needs; documents go on the message the action wrote.
    Each process call takes the case's lock (the first one keeps it to the end), and every
    instant is read under it: two people sending at once are written one after the other.
    """
    data = form.cleaned_data
    mode = MODES_BY_SLUG[data["mode"]]
    documents = data.get("documents") or []
    stored: list[Attachment] = []

    def attach(message: Message | None) -> None:
        for upload in documents:
            stored.append(
                process.case_attach(
                    case=case,
                    uploaded_by=user,
                    file=upload,
                    internal=not mode.public,
                    message=message,
                )
            )

    try:
        with transaction.atomic():
            if data["minutes"] and not mode.own_minutes:
                process.case_record_time(case=case, actor=user, minutes=data["minutes"])
            if mode.documents_first:
                attach(None)
                mode.send(case, user, data)
            else:
                attach(mode.send(case, user, data))
    except Exception:
        _discard_stored(stored)
        raise
    return mode
