"""What the API reads and writes: output representations and the input of each action."""

from __future__ import annotations

import functools
import hashlib
import json

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from casework import limits
from casework.errors import ForbiddenError
from casework.hours import offered_actions
from casework.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    Cooperative,
    Membership,
    Message,
    OutcomeCode,
    PracticeArea,
    Priority,
    SlaState,
    Specialty,
    UserProfile,
)
from casework.policy import STAFF_INTAKE_CHANNELS, Action
from casework.roles import roles_of
from casework.selectors import MEMBER_NOTE_EVENTS, can_read_internal, is_unread, participants_of
from casework.sla.clocks import clock_states
from casework.validators import id_in, validate_id_digits
from workflows.selectors import case_of

User = get_user_model()


def _user_of(context):
    request = context.get("request")
    return request.user if request is not None else None


# --- Small nested shapes -------------------------------------------------------------------


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class CooperativeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cooperative
        fields = ["id", "name"]


class SpecialtySerializer(serializers.ModelSerializer):
    class Meta:
        model = Specialty
        fields = ["id", "code", "name"]


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutcomeCode
        fields = ["code", "label"]


class AreaSerializer(serializers.ModelSerializer):
    specialties = SpecialtySerializer(many=True, read_only=True)
    outcomes = OutcomeSerializer(many=True, read_only=True, source="active_outcomes")

    class Meta:
        model = PracticeArea
        fields = [
            "code",
            "name",
            "description",
            "usual_documents",
            "confirmation_days",
            "specialties",
            "outcomes",
        ]


class MyCooperativeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.ChoiceField(
        choices=Membership.Role.choices,
        help_text=_(
            "`legal_rep` and `referent` see all the cooperative's cases (a confidential one: "
            "only the legal representatives); a `member` sees the cases they opened or follow."
        ),
    )


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    first_name = serializers.CharField(allow_blank=True)
    last_name = serializers.CharField(allow_blank=True)
    email = serializers.EmailField(allow_blank=True)
    roles = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("Any of `admin`, `supervisor`, `consultant`, `member`."),
    )
    cooperatives = MyCooperativeSerializer(many=True)
    consultant_areas = serializers.ListField(
        child=serializers.CharField(), help_text=_("Codes of the areas I work as a consultant.")
    )
    consultant_office = serializers.CharField(
        allow_null=True, help_text=_("Code of my office, as a consultant.")
    )
    supervised_areas = serializers.ListField(
        child=serializers.CharField(), help_text=_("Codes of the areas I supervise.")
    )
    supervises_all_areas = serializers.BooleanField()
    language = serializers.ChoiceField(
        choices=UserProfile._meta.get_field("language").choices,
        help_text=_("The language of my pages and e-mails."),
    )
    notify = serializers.ChoiceField(
        choices=UserProfile.Notify.choices,
        help_text=_("E-mails about new messages: `each` one, or a daily `digest`."),
    )
    timeline_order = serializers.ChoiceField(
        choices=UserProfile.TimelineOrder.choices,
        help_text=_("The order of a case's timeline: `newest` or `oldest` first."),
    )


class MePreferencesSerializer(serializers.Serializer):
    """What `PATCH /me/` changes: my name, any of my preferences; every value is checked first."""

    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    language = serializers.ChoiceField(
        choices=UserProfile._meta.get_field("language").choices, required=False
    )
    notify = serializers.ChoiceField(choices=UserProfile.Notify.choices, required=False)
    timeline_order = serializers.ChoiceField(
        choices=UserProfile.TimelineOrder.choices, required=False
    )

    def validate(self, attrs):
        fixed = sorted(set(self.initial_data) - set(self.fields))
        if fixed:
            raise serializers.ValidationError(
                {name: _("This cannot be changed here.") for name in fixed}
            )
        if not attrs:
            raise serializers.ValidationError(
                _("Give at least one of first_name, last_name, language, notify, timeline_order.")
            )
        return attrs


# --- Cases ---------------------------------------------------------------------------------


class ClockSerializer(serializers.Serializer):
    """One SLA clock (first response or resolution) as it stands now."""

    state = serializers.ChoiceField(choices=SlaState.choices, read_only=True)
    due_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ClocksSerializer(serializers.Serializer):
    first_response = ClockSerializer(read_only=True)
    resolution = ClockSerializer(read_only=True)


class CaseSlaSerializer(serializers.Serializer):
    """The SLA of a case: the stored state (what filters and counts use) and each clock's now."""

    state = serializers.ChoiceField(choices=SlaState.choices, source="sla_state", read_only=True)
    first_response_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    resolution_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    first_response_at = serializers.DateTimeField(read_only=True, allow_null=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    paused = serializers.SerializerMethodField()
    clocks = serializers.SerializerMethodField()

    def get_paused(self, case) -> bool:
        return case.sla_paused_at is not None

    @extend_schema_field(ClocksSerializer)
    def get_clocks(self, case):
        return _clocks(case, timezone.get_current_timezone())


def _datetime(value, tz):
    """A DateTimeField's output (ISO 8601 in the reader's time zone, UTC as Z), done directly."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _clocks(case, tz) -> dict:
    # Built directly (the shape of ClocksSerializer): a nested serializer per row was a large
    # share of a case list's time.
    due = {"first_response": case.first_response_due_at, "resolution": case.resolution_due_at}
    return {
        name: {"state": str(state), "due_at": _datetime(due[name], tz)}
        for name, state in clock_states(case).items()
    }


class CaseStaffSerializer(serializers.Serializer):
    """What only the federation's staff read on a case."""

    minutes_spent = serializers.IntegerField(read_only=True)
    internal_notes_count = serializers.IntegerField(read_only=True)
    sla_policy_first_response_minutes = serializers.IntegerField(
        read_only=True, allow_null=True, source="sla_policy.first_response_minutes", default=None
    )
    sla_policy_resolution_minutes = serializers.IntegerField(
        read_only=True, allow_null=True, source="sla_policy.resolution_minutes", default=None
    )


class ParticipantSerializer(serializers.Serializer):
    """A person who follows a case (`casework.models.CaseParticipant`)."""

    id = serializers.IntegerField(source="user_id", read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, link) -> str:
        return _person_name(link.user)


def _person_name(user) -> str:
    return user.get_full_name() or user.get_username()


class CaseSerializer(serializers.ModelSerializer):
    cooperative = CooperativeBriefSerializer(read_only=True)
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    specialty = SpecialtySerializer(read_only=True, allow_null=True)
    requester = UserBriefSerializer(read_only=True, allow_null=True)
    assignee = UserBriefSerializer(read_only=True, allow_null=True)
    outcome = OutcomeSerializer(read_only=True, allow_null=True)
    rejection_reason = serializers.CharField(
        read_only=True,
        help_text=_("`out_of_scope` or `duplicate` for a rejected case, else empty."),
    )
    confidential = serializers.BooleanField(
        read_only=True,
        help_text=_(
            "Seen only by its requester, the cooperative's legal representatives, its "
            "participants and staff of its area."
        ),
    )
    participants = ParticipantSerializer(
        many=True,
        read_only=True,
        source="participant_links",
        help_text=_("People of the cooperative who follow the case (besides its requester)."),
    )
    sla = CaseSlaSerializer(source="*", read_only=True)
    staff = serializers.SerializerMethodField(
        help_text=_("Only for the federation's staff of the case; null for cooperative members.")
    )
    actions = serializers.SerializerMethodField(
        help_text=_(
            "What the reader may do to the case now, as `casework.policy` decides it for the "
            "services, the workspace's buttons and this list alike."
        )
    )
    last_activity_at = serializers.DateTimeField(
        read_only=True,
        help_text=_("The last public message or change of status."),
    )
    unread = serializers.SerializerMethodField(
        help_text=_(
            "True when the reader has not opened the case since its last activity by someone "
            "else (or never opened it). `GET /cases/{id}/` marks it read."
        )
    )
    highlight = serializers.SerializerMethodField(
        help_text=_(
            "With `?q=`: the subject and description (or the best matching message) with the "
            "words found wrapped in `<mark>`, as HTML-safe text (everything else escaped). "
            "Null without a search, and on SQLite."
        )
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "cooperative",
            "area",
            "specialty",
            "subject",
            "description",
            "priority",
            "status",
            "channel",
            "requester",
            "assignee",
            "confidential",
            "participants",
            "outcome",
            "resolution_summary",
            "rejection_reason",
            "created_at",
            "updated_at",
            "closed_at",
            "confirmation_due_at",
            "last_activity_at",
            "unread",
            "sla",
            "staff",
            "actions",
            "highlight",
        ]
        read_only_fields = fields

    @extend_schema_field(CaseStaffSerializer(allow_null=True))
    def get_staff(self, case):
        user = _user_of(self.context)
        if user is None or not can_read_internal(user, case):
            return None
        if not hasattr(case, "internal_notes_count"):
            case.internal_notes_count = case.messages.filter(internal=True).count()
        policy = case.sla_policy
        return {
            "minutes_spent": case.minutes_spent,
            "internal_notes_count": case.internal_notes_count,
            "sla_policy_first_response_minutes": policy.first_response_minutes if policy else None,
            "sla_policy_resolution_minutes": policy.resolution_minutes if policy else None,
        }

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=[a.value for a in Action]))
    )
    def get_actions(self, case):
        user = _user_of(self.context)
        return [] if user is None else [str(a) for a in offered_actions(case, user)]

    def get_unread(self, case) -> bool:
        # Lists annotate it (`selectors.with_read_state`); a single case asks once.
        return is_unread(case, _user_of(self.context))

    def get_highlight(self, case) -> str | None:
        # Annotated by `casework.search.search_cases` when the list is a search.
        return getattr(case, "highlight", None)

    def to_representation(self, case):
        """The fields declared above, written out directly: the API's hottest path.

        DRF's generic walk over the nested fields was most of a list request's time. The
        declarations stay what the schema documents;
        a test holds this output to what DRF produces from them.
        """
        tz = timezone.get_current_timezone()
        return {
            "id": case.pk,
            "reference": case.reference,
            "cooperative": {"id": case.cooperative.pk, "name": case.cooperative.name},
            "area": case.area.code,
            "specialty": _specialty(case.specialty),
            "subject": case.subject,
            "description": case.description,
            "priority": case.priority,
            "status": case.status,
            "channel": case.channel,
            "requester": _user_brief(case.requester),
            "assignee": _user_brief(case.assignee),
            "confidential": case.confidential,
            "participants": [
                {"id": link.user_id, "name": _person_name(link.user)}
                for link in participants_of(case)
            ],
            "outcome": (
                {"code": case.outcome.code, "label": case.outcome.label} if case.outcome else None
            ),
            "resolution_summary": case.resolution_summary,
            "rejection_reason": case.rejection_reason,
            "created_at": _datetime(case.created_at, tz),
            "updated_at": _datetime(case.updated_at, tz),
            "closed_at": _datetime(case.closed_at, tz),
            "confirmation_due_at": _datetime(case.confirmation_due_at, tz),
            "last_activity_at": _datetime(case.last_activity_at, tz),
            "unread": self.get_unread(case),
            "sla": {
                "state": case.sla_state,
                "first_response_due_at": _datetime(case.first_response_due_at, tz),
                "resolution_due_at": _datetime(case.resolution_due_at, tz),
                "first_response_at": _datetime(case.first_response_at, tz),
                "resolved_at": _datetime(case.resolved_at, tz),
                "paused": case.sla_paused_at is not None,
                "clocks": _clocks(case, tz),
            },
            "staff": self.get_staff(case),
            "actions": self.get_actions(case),
            "highlight": self.get_highlight(case),
        }


def _user_brief(user):
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.get_full_name() or user.username}


def _specialty(specialty):
    if specialty is None:
        return None
    return {"id": specialty.pk, "code": specialty.code, "name": specialty.name}


class OpenAreaField(serializers.SlugRelatedField):
    """A practice area open for cases, by code."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", PracticeArea.objects.filter(is_active=True))
        super().__init__(slug_field="code", **kwargs)

    def to_internal_value(self, data):
        # No code has a NUL character, and PostgreSQL refuses one in a query (a 500, not a 400).
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


def _specialty_field() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=limits.CODE,
        validators=[validate_id_digits],
        help_text=_("Specialty of the area, by code or id."),
    )


def _specialty_in(area: PracticeArea, value) -> Specialty | None:
    """The specialty of `area` named by id or code; None when none is named, 400 if unknown."""
    if value in (None, ""):
        return None
    value = str(value).strip()
    condition = Q(code=value)
    specialty_id = id_in(value)
    if specialty_id is not None:
        condition |= Q(pk=specialty_id)
    specialty = Specialty.objects.filter(condition, area=area).first()
    if specialty is None:
        # A list, as field errors are, also when raised after `is_valid` (triage).
        raise serializers.ValidationError({"specialty": [_("The area has no such specialty.")]})
    return specialty


class CaseCreateSerializer(serializers.Serializer):
    cooperative = serializers.IntegerField(
        required=False,
        help_text=_(
            "Id of the cooperative. A member of exactly one cooperative may leave it out; staff "
            "opening a case on a cooperative's behalf must give it."
        ),
    )
    requester = serializers.IntegerField(
        required=False,
        help_text=_(
            "Staff only: id of the person of the cooperative the case is for (a phone call, a "
            "visit, an e-mail). Members leave it out: the case is theirs."
        ),
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text=_(
            "How the case came. Staff opening it for a cooperative give `phone`, `desk`, "
            "`email` or `pec`; a member's case opened here is `api`."
        ),
    )
    area = OpenAreaField(help_text=_("Practice area code."))
    specialty = _specialty_field()
    priority = serializers.ChoiceField(
        choices=Priority.choices,
        required=False,
        allow_null=True,
        help_text=_("A suggestion: triage rules or a supervisor decide."),
    )
    subject = serializers.CharField(max_length=limits.SUBJECT)
    description = serializers.CharField(max_length=limits.LONG_TEXT)
    confidential = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Only the requester, the cooperative's legal representatives, the case's "
            "participants and staff of its area will see the case (e.g. a disciplinary matter)."
        ),
    )

    def validate(self, attrs):
        user = _user_of(self.context)
        roles = roles_of(user)
        named = attrs.get("requester")
        if (named is not None and named != user.pk) or not roles.is_member:
            attrs.update(self._for_a_cooperative(attrs, roles))
        else:
            attrs.update(self._for_my_cooperative(attrs, user, roles))
        attrs["specialty"] = _specialty_in(attrs["area"], attrs.get("specialty"))
        return attrs

    def _for_my_cooperative(self, attrs, user, roles) -> dict:
        """A member's own case: one of their cooperatives (theirs, if they have one only)."""
        if attrs.get("channel", Channel.API) != Channel.API:
            raise serializers.ValidationError(
                {"channel": [_("A case you open through the API comes by `api`.")]}
            )
        cooperative_id = attrs.get("cooperative")
        if cooperative_id is None:
            if len(roles.cooperative_ids) > 1:
                raise serializers.ValidationError(
                    {
                        "cooperative": [
                            _(
                                "You are a member of several cooperatives: say which one the "
                                "case is for."
                            )
                        ]
                    }
                )
            (cooperative_id,) = roles.cooperative_ids
        elif not roles.is_member_of(cooperative_id):
            # The same answer for a cooperative that does not exist and for someone else's:
            # the API does not reveal which cooperatives exist.
            raise serializers.ValidationError(
                {"cooperative": [_("This is not one of your cooperatives.")]}
            )
        # With its office, which routing reads.
        cooperative = Cooperative.objects.select_related("office").get(pk=cooperative_id)
        return {"cooperative": cooperative, "requester": user, "channel": Channel.API}

    def _for_a_cooperative(self, attrs, roles) -> dict:
        """Staff intake: the cooperative, the person it is for and how it came, all named.

        Whether this person of staff may, and whether the requester is of the cooperative, is
        the intake service's to decide (`check_open_on_behalf`).
        """
        if not roles.is_staff_role:
            raise ForbiddenError(
                _("You can open cases only in your own name: leave `requester` out.")
            )
        missing = {
            "cooperative": _("Name the cooperative the case is for."),
            "requester": _("Name the person of the cooperative the case is for (a user id)."),
            "channel": _("Say how the case came: `phone`, `desk`, `email` or `pec`."),
        }
        errors = {name: [message] for name, message in missing.items() if name not in attrs}
        if not errors and attrs["channel"] not in STAFF_INTAKE_CHANNELS:
            errors["channel"] = [missing["channel"]]
        cooperative = requester = None
        if "cooperative" in attrs:
            cooperative = (
                Cooperative.objects.select_related("office").filter(pk=attrs["cooperative"]).first()
            )
            if cooperative is None:
                errors["cooperative"] = [_("No such cooperative.")]
        if "requester" in attrs:
            requester = User.objects.filter(pk=attrs["requester"], is_active=True).first()
            if requester is None:
                errors["requester"] = [_("No such person.")]
        if errors:
            raise serializers.ValidationError(errors)
        return {"cooperative": cooperative, "requester": requester}

    def fingerprint(self) -> str:
        """A hash of the request as understood, to recognise a retry with the same body."""
        data = self.validated_data
        canonical = {
            "cooperative": data["cooperative"].pk,
            "area": data["area"].code,
            "specialty": data["specialty"].pk if data["specialty"] else None,
            "priority": data.get("priority"),
            "subject": data["subject"],
            "description": data["description"],
        }
        if data.get("confidential"):
            # Only when set: the keys of cases opened before it existed keep their hash.
            canonical["confidential"] = True
        if data["requester"] != _user_of(self.context):
            # Staff intake; a member's own case keeps the hash it always had (keys stored
            # before staff could open cases still recognise their retries).
            canonical |= {"requester": data["requester"].pk, "channel": data["channel"]}
        return hashlib.sha256(
            json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()


# --- Messages, attachments, events ---------------------------------------------------------


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    uploaded_by = UserBriefSerializer(read_only=True, allow_null=True)
    message = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "name",
            "content_type",
            "size",
            "sha256",
            "internal",
            "message",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        return reverse(
            "api:case-attachment-download",
            kwargs={"case_id": attachment.case_id, "pk": attachment.pk},
        )


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=False, help_text=_("The document (PDF, image, text, ZIP, Office).")
    )
    message = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("Id of a message of the case it belongs to.")
    )
    internal = serializers.BooleanField(
        default=False, help_text=_("Visible to the federation's staff only (staff may set it).")
    )


class MessageSerializer(serializers.ModelSerializer):
    author = UserBriefSerializer(read_only=True, allow_null=True)
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "author", "body", "internal", "created_at", "attachments"]
        read_only_fields = fields

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, message):
        attachments = getattr(message, "visible_attachments", None)
        if attachments is None:
            attachments = message.attachments.none()
        return AttachmentSerializer(attachments, many=True, context=self.context).data


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=limits.LONG_TEXT)
    internal = serializers.BooleanField(
        default=False, help_text=_("An internal note, for the federation's staff only.")
    )


@functools.lru_cache(maxsize=8)
def _event_labels(language: str) -> dict[str, str]:
    # get_kind_display() rebuilds the 29 lazy choices on every call: once per language instead.
    return {code: str(label) for code, label in CaseEvent.Kind.choices}


class EventSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    actor = UserBriefSerializer(read_only=True, allow_null=True)
    note = serializers.SerializerMethodField()
    before = serializers.SerializerMethodField()
    after = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "label", "actor", "created_at", "note", "before", "after"]
        read_only_fields = fields

    @extend_schema_field(str)
    def get_label(self, event) -> str:
        return _event_labels(translation.get_language() or "it").get(event.kind, event.kind)

    def _staff(self) -> bool:
        return bool(self.context.get("staff"))

    def get_note(self, event) -> str:
        return event.note if self._staff() or event.kind in MEMBER_NOTE_EVENTS else ""

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {},
            "nullable": True,
            "description": _("Values before the change (staff only; null for members)."),
        }
    )
    def get_before(self, event):
        return event.before if self._staff() else None

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {},
            "nullable": True,
            "description": _("Values after the change (staff only; null for members)."),
        }
    )
    def get_after(self, event):
        return event.after if self._staff() else None

    def to_representation(self, event):
        """The declared fields written out directly (a timeline has hundreds of events)."""
        staff = self._staff()
        return {
            "id": event.pk,
            "kind": event.kind,
            "label": self.get_label(event),
            "actor": _user_brief(event.actor),
            "created_at": _datetime(event.created_at, timezone.get_current_timezone()),
            "note": event.note if staff or event.kind in MEMBER_NOTE_EVENTS else "",
            "before": event.before if staff else None,
            "after": event.after if staff else None,
        }


# --- Tasks ---------------------------------------------------------------------------------


class TaskCaseSlaSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=SlaState.choices, source="sla_state", read_only=True)


class TaskCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    reference = serializers.CharField(read_only=True)
    subject = serializers.CharField(read_only=True)
    area = serializers.CharField(source="area.code", read_only=True)
    cooperative = CooperativeBriefSerializer(read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    status = serializers.ChoiceField(choices=CaseStatus.choices, read_only=True)
    sla = TaskCaseSlaSerializer(source="*", read_only=True)
    last_activity_at = serializers.DateTimeField(read_only=True)
    unread = serializers.BooleanField(
        read_only=True, help_text=_("Whether I have opened the case since its last activity.")
    )


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    step = serializers.SerializerMethodField(
        help_text=_("`triage`, `assign_manually`, `work` or `review`.")
    )
    step_title = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField(
        help_text=_("`new` (unclaimed), `assigned`, `done`, `canceled`...")
    )
    owner = UserBriefSerializer(read_only=True, allow_null=True)
    created = serializers.DateTimeField(read_only=True)
    case = serializers.SerializerMethodField()

    def get_step(self, task) -> str:
        return task.flow_task.name if task.flow_task else ""

    def get_step_title(self, task) -> str:
        return str(task.flow_task.task_title) if task.flow_task else ""

    def get_status(self, task) -> str:
        return str(task.status).lower()

    @extend_schema_field(TaskCaseSerializer(allow_null=True))
    def get_case(self, task):
        case = case_of(task)
        if case is None:
            return None
        return {
            "id": case.pk,
            "reference": case.reference,
            "subject": case.subject,
            "area": case.area.code,
            "cooperative": {"id": case.cooperative.pk, "name": case.cooperative.name},
            "priority": case.priority,
            "status": case.status,
            "sla": {"state": case.sla_state},
            "last_activity_at": _datetime(case.last_activity_at, timezone.get_current_timezone()),
            # Annotated on the task by `workflows.selectors.with_case_read_state`.
            "unread": task.case_unread
            if hasattr(task, "case_unread")
            else is_unread(case, _user_of(self.context)),
        }

    def to_representation(self, task):
        """The declared fields written out directly, as the case's are (a queue's hot path)."""
        return {
            "id": task.pk,
            "step": self.get_step(task),
            "step_title": self.get_step_title(task),
            "status": self.get_status(task),
            "owner": _user_brief(task.owner),
            "created": _datetime(task.created, timezone.get_current_timezone()),
            "case": self.get_case(task),
        }


# --- Inputs of the case actions ------------------------------------------------------------


class AcknowledgeSerializer(serializers.Serializer):
    body = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=limits.LONG_TEXT,
        help_text=_("The first reply; a standard sentence if empty."),
    )


class RequestInfoSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=limits.LONG_TEXT)


class ResolveSerializer(serializers.Serializer):
    outcome = serializers.CharField(
        max_length=limits.CODE, help_text=_("Outcome code of the case's area.")
    )
    summary = serializers.CharField(max_length=limits.LONG_TEXT)
    minutes_spent = serializers.IntegerField(
        min_value=0, max_value=limits.RESOLUTION_MINUTES, default=0
    )


class RecordTimeSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=1, max_value=limits.ENTRY_MINUTES)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=limits.ENTRY_NOTE, default=""
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=limits.REASON)


class HandBackSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=limits.SHORT_NOTE)


class BodySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=limits.LONG_TEXT)


class RateSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=limits.REASON, default=""
    )


class TriageSerializer(serializers.Serializer):
    area = OpenAreaField(
        required=False,
        allow_null=True,
        help_text=_("Practice area code; the case's own if absent."),
    )
    specialty = _specialty_field()
    priority = serializers.ChoiceField(choices=Priority.choices)

    def resolve_specialty(self, area: PracticeArea) -> Specialty | None:
        return _specialty_in(area, self.validated_data.get("specialty"))


class RejectSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Case.RejectionReason.choices)
    explanation = serializers.CharField(max_length=limits.REASON)


class AssignSerializer(serializers.Serializer):
    consultant = serializers.CharField(
        max_length=150,
        validators=[validate_id_digits],
        help_text=_("The consultant's username or user id."),
    )

    def validate_consultant(self, value):
        value = value.strip()
        condition = Q(username=value)
        user_id = id_in(value)
        if user_id is not None:
            condition |= Q(pk=user_id)
        user = User.objects.filter(condition, consultant__is_active=True, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(_("There is no active consultant with this name."))
        return user


class PrioritySerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)


class _RequiredBooleanField(serializers.BooleanField):
    # DRF reads a boolean missing from a form as false; here leaving it out is an error.
    default_empty_html = serializers.empty


class ConfidentialSerializer(serializers.Serializer):
    confidential = _RequiredBooleanField(
        help_text=_("True: only its requester, legal representatives, participants and staff.")
    )


class ParticipantInputSerializer(serializers.Serializer):
    user = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text=_("Id of a person with an active membership of the case's cooperative."),
    )


# --- SLA and reports -----------------------------------------------------------------------
# They serialize the dicts of `casework.reports`; `source="*"` groups its flat figures.


class StateCountsSerializer(serializers.Serializer):
    on_track = serializers.IntegerField()
    at_risk = serializers.IntegerField()
    breached = serializers.IntegerField()
    paused = serializers.IntegerField()
    met = serializers.IntegerField()
    total = serializers.IntegerField(source="open")


class AreaStateCountsSerializer(serializers.Serializer):
    area = serializers.CharField(source="code")
    name = serializers.CharField()
    counts = StateCountsSerializer(source="*")


class OfficeStateCountsSerializer(serializers.Serializer):
    office = serializers.CharField(source="code")
    name = serializers.CharField()
    counts = StateCountsSerializer(source="*")


class SlaSummarySerializer(serializers.Serializer):
    counts = StateCountsSerializer(help_text=_("Open cases by SLA state."))
    by_area = AreaStateCountsSerializer(many=True)
    by_office = OfficeStateCountsSerializer(many=True)


class ReportQuerySerializer(serializers.Serializer):
    since = serializers.DateField(
        required=False, help_text=_("Cases opened on or after this day (YYYY-MM-DD).")
    )
    until = serializers.DateField(
        required=False, help_text=_("Cases opened on or before this day (YYYY-MM-DD).")
    )

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": _("The period ends before it starts.")})
        return attrs


class ShareField(serializers.FloatField):
    """A fraction from 0 to 1, given to four decimal places."""

    def to_representation(self, value):
        return round(float(value), 4)


class ScoreCountsField(serializers.DictField):
    """The report's list of `{score, count}` as an object keyed by score."""

    child = serializers.IntegerField()

    def to_representation(self, value):
        return super().to_representation({str(row["score"]): row["count"] for row in value})


class OutcomeCountSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class AreaReportSerializer(serializers.Serializer):
    area = serializers.CharField(source="code")
    name = serializers.CharField()
    total = serializers.IntegerField()
    outcomes = OutcomeCountSerializer(many=True)


class ReportCasesSerializer(serializers.Serializer):
    total = serializers.IntegerField(source="cases")
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_channel = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=_("Cases by how they came: every channel code, with 0 for none."),
    )
    by_area = AreaReportSerializer(many=True)


class ReportSlaSerializer(serializers.Serializer):
    responded = serializers.IntegerField(source="answered")
    responded_on_time = serializers.IntegerField(source="answered_on_time")
    first_response_compliance = ShareField(
        allow_null=True, help_text=_("Share (0–1) of first responses given on time.")
    )
    resolved = serializers.IntegerField()
    resolved_on_time = serializers.IntegerField()
    resolution_compliance = ShareField(
        allow_null=True, help_text=_("Share (0–1) of resolved cases resolved on time.")
    )


class ReportTimesSerializer(serializers.Serializer):
    median_first_response_minutes = serializers.FloatField(
        allow_null=True, help_text=_("Business minutes.")
    )
    median_resolution_minutes = serializers.FloatField(
        allow_null=True, help_text=_("Business minutes, pauses excluded.")
    )


class ReportSatisfactionSerializer(serializers.Serializer):
    ratings = serializers.IntegerField()
    average = serializers.FloatField(source="satisfaction_average", allow_null=True)
    distribution = ScoreCountsField(
        source="satisfaction_distribution", help_text=_("Number of ratings per score, 1 to 5.")
    )


class CooperativeReportSerializer(serializers.Serializer):
    cooperative = CooperativeBriefSerializer()
    since = serializers.DateField(allow_null=True)
    until = serializers.DateField(allow_null=True)
    cases = ReportCasesSerializer(source="*")
    sla = ReportSlaSerializer(source="*")
    times = ReportTimesSerializer(source="*")
    satisfaction = ReportSatisfactionSerializer(source="*")
    minutes_delivered = serializers.IntegerField(help_text=_("Minutes of consulting recorded."))


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text=_(
            "Staff only, when two-factor sign-in is required: the 6-digit code of the "
            "authenticator app, or one of the person's single-use recovery codes."
        ),
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
