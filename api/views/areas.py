"""The practice areas a case can be opened in, with their specialties and outcomes."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from casework.models import OutcomeCode, PracticeArea

from ..schema import error_responses
from ..serializers import AreaSerializer


@extend_schema_view(
    list=extend_schema(
        summary=_("Practice areas"), responses={200: AreaSerializer(many=True), **error_responses()}
    ),
    retrieve=extend_schema(
        summary=_("One practice area"), responses={200: AreaSerializer, **error_responses(404)}
    ),
)
class AreaViewSet(viewsets.ReadOnlyModelViewSet):
    """Open practice areas: what a cooperative may ask for, and how a case can end."""

    serializer_class = AreaSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filter_backends = ()

    def get_queryset(self):
        return (
            PracticeArea.objects.filter(is_active=True)
            .order_by("position", "name")
            .prefetch_related(
                "specialties",
                Prefetch(
                    "outcomes",
                    queryset=OutcomeCode.objects.filter(is_active=True).order_by("label"),
                    to_attr="active_outcomes",
                ),
            )
        )
