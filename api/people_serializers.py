"""Serializers of a cooperative's people: its invitations and its memberships (kept apart from
`serializers.py`, which is about cases)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from casework.models import Invitation, Membership
from casework.services.invitations import invitation_state

INVITATION_STATES = ["pending", "accepted", "revoked", "expired"]


class PersonBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.SerializerMethodField()

    def get_full_name(self, user) -> str:
        return user.get_full_name()


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation as its cooperative's managers see it (never its link's secret)."""

    cooperative = serializers.IntegerField(source="cooperative_id", read_only=True)
    status = serializers.SerializerMethodField(
        help_text=_("`pending`, `accepted`, `revoked`, or `expired` (pending past its 7 days).")
    )
    invited_by = PersonBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "cooperative",
            "email",
            "role",
            "language",
            "status",
            "invited_by",
            "created_at",
            "sent_at",
            "sent_count",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_status(self, invitation) -> str:
        return invitation_state(invitation)


class InvitationRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("The language of the e-mail and of the new account (default: Italian)."),
    )


class MemberSerializer(serializers.ModelSerializer):
    """A person's membership of the cooperative; `is_active` false once they left it."""

    user = PersonBriefSerializer(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "email", "role", "is_active", "created_at", "left_at"]
        read_only_fields = fields
