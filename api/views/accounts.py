"""Signing in for a token, and who I am."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from casework.errors import CaseError
from casework.models import PracticeArea
from casework.preferences import NAME_FIELDS, names_update, preferences_of, preferences_update
from casework.roles import roles_of
from casework.selectors import cooperatives_of
from casework.twofactor.core import code_check, has_authenticator, second_factor_required

from ..schema import ErrorSerializer, error_responses
from ..serializers import (
    MePreferencesSerializer,
    MeSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from ..throttling import begin_sign_in


class TokenView(APIView):
    """Exchange a username and password for an API token (`Authorization: Token <token>`).

    Staff accounts (consultants, supervisors, administrators) also give `otp` when two-factor
    sign-in is required (STAFF_2FA_REQUIRED): the 6-digit code of their authenticator app or one
    of their recovery codes. Without it the answer is a 401 with code `otp_required`; a wrong
    code is a 401 `invalid_otp` and counts as a failed sign-in, as a wrong password does.
    """

    # No authentication here: a stale token in the header must not stop someone signing in.
    authentication_classes = ()
    permission_classes = (AllowAny,)
    # Failed sign-ins are throttled per address and per username (api.throttling), not requests.
    throttle_classes = ()

    @extend_schema(
        operation_id="auth_token_create",
        summary=gettext_lazy("Get an API token"),
        description=gettext_lazy(
            "Exchange a username and password for a token, then send `Authorization: Token "
            "<token>`. When two-factor sign-in is required, staff accounts (consultants, "
            "supervisors, administrators) also send `otp`: the 6-digit code of their "
            "authenticator app, or one of their single-use recovery codes (set up on the "
            "website, at /account/two-factor/). Members of cooperatives never send it."
        ),
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            **error_responses(400, 429, authenticated=False),
            401: OpenApiResponse(
                response=ErrorSerializer,
                description=gettext_lazy(
                    "A staff account needs its second factor: `otp_required` (no `otp` given), "
                    "`otp_not_set_up` (no authenticator app yet: sign in on the website first) "
                    "or `invalid_otp` (wrong, expired or already used code)."
                ),
            ),
        },
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
        if second_factor_required(user):
            refusal = _second_factor_refusal(user, serializer.validated_data.get("otp", ""))
            if refusal is not None:
                if refusal["code"] != "invalid_otp":
                    attempt.refund()  # the password was right and no code was tried
                return Response(
                    refusal,
                    status=status.HTTP_401_UNAUTHORIZED,
                    headers={"WWW-Authenticate": "Token"},
                )
        attempt.refund()  # only failures spend the budget
        return Response({"token": _token_of(user).key})


def _second_factor_refusal(user, code: str) -> dict | None:
    """Why a staff account's sign-in still lacks its second factor; None when the code is good."""
    if not has_authenticator(user):
        return {
            "detail": _(
                "This account signs in with a second factor, which is not set up yet: sign in "
                "on the website once to set up an authenticator app."
            ),
            "code": "otp_not_set_up",
        }
    if not code:
        return {
            "detail": _(
                "A second factor is needed: send `otp`, the 6-digit code of your authenticator "
                "app or one of your recovery codes."
            ),
            "code": "otp_required",
        }
    check = code_check(user=user, code=code)
    if check.accepted:
        return None
    if check.wait_seconds:
        detail = _(
            "Too many wrong codes in a row: wait %(seconds)d seconds, then send the code your "
            "app shows at that moment."
        ) % {"seconds": check.wait_seconds}
    else:
        detail = _("That code is wrong, has expired or was already used.")
    return {"detail": detail, "code": "invalid_otp"}


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
            {"id": coop.pk, "name": coop.name, "role": roles.role_in(coop.pk)}
            for coop in cooperatives_of(user).order_by("name")
        ]
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "full_name": user.get_full_name(),
            "first_name": user.first_name,
            "last_name": user.last_name,
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
        """First and last name, language, e-mails for `each` message or a daily `digest`,
        timeline order."""
        serializer = MePreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        names = {field: changes.pop(field) for field in NAME_FIELDS if field in changes}
        with transaction.atomic():
            names_update(user=request.user, **names)
            preferences_update(user=request.user, **changes)
        return self.get(request)
