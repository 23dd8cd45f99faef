"""A cooperative's people over the API: its invitations (list, invite, resend, revoke) and its
members (list, deactivate).

The cooperative is one the caller may see (`cooperatives.cooperatives_known_to`: any for staff,
their own for members), else 404; managing its people is for staff and its legal
representatives and referents (`policy.may_manage_people`), else 403. Every write is one call of
`casework.services.invitations`, which asks the policy again for the role concerned.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from casework.cooperatives import cooperatives_known_to
from casework.errors import ForbiddenError, NotFoundError
from casework.models import Cooperative, Invitation, Membership
from casework.policy import may_manage_people
from casework.roles import roles_of
from casework.services.invitations import (
    invitation_create,
    invitation_resend,
    invitation_revoke,
    membership_deactivate,
)

from ..people_serializers import (
    InvitationRequestSerializer,
    InvitationSerializer,
    MemberSerializer,
)
from ..schema import error_responses


def _as_id(value) -> int | None:
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) < 18 else None


class _CooperativePeople(viewsets.GenericViewSet):
    """The cooperative of the URL, seen by the caller (404) and whose people they manage (403)."""

    filter_backends = ()
    lookup_value_regex = "[^/]+"

    def cooperative(self) -> Cooperative:
        if not hasattr(self, "_cooperative"):
            pk = _as_id(self.kwargs["cooperative_id"])
            cooperative = (
                cooperatives_known_to(self.request.user).filter(pk=pk).first()
                if pk is not None
                else None
            )
            if cooperative is None:
                raise NotFoundError(_("No such cooperative."))
            if not may_manage_people(roles_of(self.request.user), cooperative.pk):
                raise ForbiddenError(
                    _(
                        "Only the cooperative's legal representatives and referents, or the "
                        "federation's staff, manage its people."
                    )
                )
            self._cooperative = cooperative
        return self._cooperative

    def get_object(self):
        pk = _as_id(self.kwargs["pk"])
        found = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if found is None:
            raise NotFoundError(self.not_found)
        return found


_COOPERATIVE = OpenApiParameter("cooperative_id", int, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        operation_id="cooperative_invitations_list",
        summary=gettext_lazy("A cooperative's invitations"),
        parameters=[
            _COOPERATIVE,
            OpenApiParameter(
                "status",
                str,
                enum=["pending", "accepted", "revoked"],
                description=gettext_lazy("Only the invitations stored with this status."),
            ),
        ],
        responses={200: InvitationSerializer(many=True), **error_responses(403, 404)},
        tags=["people"],
    ),
    create=extend_schema(
        operation_id="cooperative_invitations_create",
        summary=gettext_lazy("Invite a person to a cooperative"),
        description=gettext_lazy(
            "E-mails a single-use link, valid for 7 days, that sets the password of a new "
            "account (or, for an address that has an account, adds the membership when its "
            "owner signs in and accepts). Inviting an address with a pending invitation sends "
            "it again, with a new link. A referent may not invite a legal representative."
        ),
        parameters=[_COOPERATIVE],
        request=InvitationRequestSerializer,
        responses={
            201: InvitationSerializer,
            200: OpenApiResponse(
                InvitationSerializer,
                description=gettext_lazy("The address's pending invitation, sent again."),
            ),
            **error_responses(400, 403, 404, 409),
        },
        tags=["people"],
    ),
)
class InvitationViewSet(_CooperativePeople):
    serializer_class = InvitationSerializer
    not_found = gettext_lazy("No such invitation.")

    def get_queryset(self):
        return (
            Invitation.objects.filter(cooperative=self.cooperative())
            .select_related("invited_by")
            .order_by("-created_at", "-id")
        )

    def list(self, request, cooperative_id=None):
        invitations = self.get_queryset()
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in Invitation.Status.values:
                return Response(
                    {"status": [_("Choose one of: %s.") % ", ".join(Invitation.Status.values)]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            invitations = invitations.filter(status=wanted)
        page = self.paginate_queryset(invitations)
        return self.get_paginated_response(InvitationSerializer(page, many=True).data)

    def create(self, request, cooperative_id=None):
        cooperative = self.cooperative()
        data = InvitationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sent = invitation_create(by=request.user, cooperative=cooperative, **data.validated_data)
        return Response(
            InvitationSerializer(sent.invitation).data,
            status=status.HTTP_200_OK if sent.resent else status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="cooperative_invitations_resend",
        summary=gettext_lazy("Send an invitation again"),
        description=gettext_lazy(
            "A new link, valid for 7 days from now; the previous link stops working."
        ),
        parameters=[_COOPERATIVE],
        request=None,
        responses={200: InvitationSerializer, **error_responses(403, 404, 409)},
        tags=["people"],
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, cooperative_id=None, pk=None):
        sent = invitation_resend(by=request.user, invitation=self.get_object())
        return Response(InvitationSerializer(sent.invitation).data)

    @extend_schema(
        operation_id="cooperative_invitations_revoke",
        summary=gettext_lazy("Revoke an invitation"),
        description=gettext_lazy("Its link stops working. Only a pending invitation."),
        parameters=[_COOPERATIVE],
        request=None,
        responses={200: InvitationSerializer, **error_responses(403, 404, 409)},
        tags=["people"],
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, cooperative_id=None, pk=None):
        invitation = invitation_revoke(by=request.user, invitation=self.get_object())
        return Response(InvitationSerializer(invitation).data)


@extend_schema_view(
    list=extend_schema(
        operation_id="cooperative_members_list",
        summary=gettext_lazy("A cooperative's people"),
        parameters=[
            _COOPERATIVE,
            OpenApiParameter(
                "active",
                bool,
                description=gettext_lazy(
                    "`true`: those who act for it now; `false`: those who left it."
                ),
            ),
        ],
        responses={200: MemberSerializer(many=True), **error_responses(400, 403, 404)},
        tags=["people"],
    ),
)
class MemberViewSet(_CooperativePeople):
    serializer_class = MemberSerializer
    not_found = gettext_lazy("No such person in this cooperative.")

    def get_queryset(self):
        return (
            Membership.objects.filter(cooperative=self.cooperative())
            .select_related("user")
            .order_by("user__last_name", "user__first_name", "user__username", "id")
        )

    def list(self, request, cooperative_id=None):
        members = self.get_queryset()
        active = request.query_params.get("active")
        if active is not None:
            if active not in ("true", "false"):
                return Response(
                    {"active": [_("Give `true` or `false`.")]}, status=status.HTTP_400_BAD_REQUEST
                )
            members = members.filter(is_active=active == "true")
        page = self.paginate_queryset(members)
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(
        operation_id="cooperative_members_deactivate",
        summary=gettext_lazy("Remove a person from a cooperative"),
        description=gettext_lazy(
            "The membership is deactivated, never deleted: the cases the person opened keep "
            "their requester and history. A referent may not remove a legal representative; "
            "the last legal representative may not remove themselves."
        ),
        parameters=[_COOPERATIVE],
        request=None,
        responses={200: MemberSerializer, **error_responses(403, 404, 409)},
        tags=["people"],
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, cooperative_id=None, pk=None):
        membership = membership_deactivate(by=request.user, membership=self.get_object())
        return Response(MemberSerializer(membership).data)
