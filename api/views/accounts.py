"""Signing in for a token, and who I am."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from casework.errors import CaseError
from casework.models import PracticeArea
from casework.preferences import preferences_of, preferences_update
from casework.roles import roles_of
from casework.selectors import cooperatives_of

from ..schema import error_responses
from ..serializers import (
    MePreferencesSerializer,
    MeSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from ..throttling import begin_sign_in


class TokenView(APIView):
    """Exchange a username and password for an API token (`Authorization: Token <token>`)."""

    # No authentication here: a stale token in the header must not stop someone signing in.
    authentication_classes = ()
    permission_classes = (AllowAny,)
    # Failed sign-ins are throttled per address and per username (api.throttling), not requests.
    throttle_classes = ()

    @extend_schema(
        operation_id="auth_token_create",
        summary=gettext_lazy("Get an API token"),
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **error_responses(400, 429, authenticated=False)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        attempt = begin_sign_in(request, username)
        user = authenticate(
            request._request, username=username, password=serializer.validated_data["password"]
        )
        if user is None:
            raise CaseError(
                _("Unable to sign in with the username and password given."),
                code="invalid_credentials",
            )
        attempt.refund()  # only failures spend the budget
        return Response({"token": _token_of(user).key})


def _token_of(user) -> Token:
    # Two sign-ins at once both try to create the token; the second reads the first's.
    try:
        with transaction.atomic():
            return Token.objects.get_or_create(user=user)[0]
    except IntegrityError:
        return Token.objects.get(user=user)


class MeView(APIView):
    """Who I am: my roles, my cooperatives, the areas I work or supervise; my preferences."""

    @extend_schema(
        operation_id="me_retrieve",
        summary=gettext_lazy("Who I am"),
        responses={200: MeSerializer, **error_responses()},
        tags=["me"],
    )
    def get(self, request):
        user = request.user
        roles = roles_of(user)
        area_ids = roles.consultant_area_ids | roles.supervised_area_ids
        codes = dict(PracticeArea.objects.filter(pk__in=area_ids).values_list("pk", "code"))
        cooperatives = [
            {"id": coop.pk, "name": coop.name} for coop in cooperatives_of(user).order_by("name")
        ]
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "full_name": user.get_full_name(),
            "email": user.email or "",
            "roles": roles.names,
            "cooperatives": cooperatives,
            "consultant_areas": sorted(
                codes[pk] for pk in roles.consultant_area_ids if pk in codes
            ),
            "consultant_office": roles.consultant_office_code,
            "supervised_areas": sorted(
                codes[pk] for pk in roles.supervised_area_ids if pk in codes
            ),
            "supervises_all_areas": roles.supervises_all,
            **preferences_of(user),
        }
        return Response(MeSerializer(data).data)

    @extend_schema(
        operation_id="me_partial_update",
        summary=gettext_lazy("Change my preferences"),
        request=MePreferencesSerializer,
        responses={200: MeSerializer, **error_responses(400)},
        tags=["me"],
    )
    def patch(self, request):
        """Language, e-mails for `each` message or a daily `digest`, timeline order."""
        serializer = MePreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preferences_update(user=request.user, **serializer.validated_data)
        return self.get(request)
