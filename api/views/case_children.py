"""What hangs off one case: its messages, its documents and its timeline."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from casework.attachments import PayloadTooLarge
from casework.models import Attachment, Case, CaseEvent, Message
from casework.selectors import (
    attachments_visible_to,
    can_read_internal,
    cases_visible_to,
    events_visible_to,
    messages_visible_to,
    messages_with_attachments,
)
from workflows import process

from .. import serializers as s
from ..schema import error_responses

# Room for the multipart envelope and the form's other fields around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


class CaseChildMixin:
    """The case in the URL, looked up among those the user may see (404 otherwise)."""

    filter_backends = ()

    def get_case(self) -> Case:
        if not hasattr(self, "_case"):
            self._case = get_object_or_404(
                cases_visible_to(self.request.user).select_related("cooperative", "area"),
                pk=self.kwargs["case_id"],
            )
        return self._case

    def staff_view(self) -> bool:
        return can_read_internal(self.request.user, self.get_case())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and "case_id" in self.kwargs:
            context["staff"] = self.staff_view()
        return context


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("Messages of a case"),
        description=gettext_lazy("Internal notes are listed only for the case's staff."),
        responses={200: s.MessageSerializer(many=True), **error_responses(404)},
    ),
    create=extend_schema(
        summary=gettext_lazy("Write a message or an internal note"),
        description=gettext_lazy(
            "A member's message on a case waiting for information is their answer: the case "
            "goes back to the consultant. `internal` is for staff only (403 otherwise)."
        ),
        request=s.MessageCreateSerializer,
        responses={201: s.MessageSerializer, **error_responses(400, 403, 404, 409)},
    ),
)
class MessageViewSet(
    CaseChildMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.MessageSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Message.objects.none()
        case = self.get_case()
        return messages_with_attachments(self.request.user, case)

    def create(self, request, *args, **kwargs):
        case = self.get_case()
        data = s.MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = process.case_post_message(
            case=case,
            author=request.user,
            body=data.validated_data["body"],
            internal=data.validated_data["internal"],
        )
        message = self.get_queryset().get(pk=message.pk)
        return Response(self.get_serializer(message).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("Documents of a case"),
        description=gettext_lazy("Internal documents are listed only for the case's staff."),
        responses={200: s.AttachmentSerializer(many=True), **error_responses(404)},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("One document's details"),
        responses={200: s.AttachmentSerializer, **error_responses(404)},
    ),
    create=extend_schema(
        summary=gettext_lazy("Attach a document"),
        description=gettext_lazy(
            "Multipart upload. The type is read from the content (PDF, PNG, JPEG, plain UTF-8 "
            "text, ZIP, Word/Excel/PowerPoint OOXML) and must be one the federation accepts; the "
            "size limit is configured."
        ),
        request={"multipart/form-data": s.AttachmentUploadSerializer},
        responses={201: s.AttachmentSerializer, **error_responses(400, 403, 404, 409, 413, 415)},
    ),
    download=extend_schema(
        summary=gettext_lazy("Download a document"),
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description=gettext_lazy("The file, as an attachment."),
            ),
            **error_responses(404),
        },
    ),
)
class AttachmentViewSet(
    CaseChildMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.AttachmentSerializer
    lookup_value_regex = "[^/]+"
    parser_classes = (MultiPartParser, FormParser)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Attachment.objects.none()
        return attachments_visible_to(self.request.user, self.get_case())

    def create(self, request, *args, **kwargs):
        case = self.get_case()
        # Refuse an announced oversize body before reading (and spooling) any of it.
        try:
            announced = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            announced = 0
        if announced > settings.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD:
            raise PayloadTooLarge(
                _("The file is too large: at most %(mb).1f MB are accepted.")
                % {"mb": settings.ATTACHMENT_MAX_BYTES / 2**20}
            )
        data = s.AttachmentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = None
        message_id = data.validated_data.get("message")
        if message_id is not None:
            # Only a message the user can read on this very case can hold the document.
            message = messages_visible_to(request.user, case).filter(pk=message_id).first()
            if message is None:
                raise ValidationError({"message": [_("No such message on this case.")]})
        attachment = process.case_attach(
            case=case,
            uploaded_by=request.user,
            file=data.validated_data["file"],
            internal=data.validated_data["internal"],
            message=message,
        )
        attachment = self.get_queryset().get(pk=attachment.pk)
        return Response(self.get_serializer(attachment).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def download(self, request, case_id=None, pk=None):
        attachment = self.get_object()
        try:
            stream = attachment.file.open("rb")
        except OSError as missing:
            raise NotFound(_("The file of this document is missing.")) from missing
        return FileResponse(
            stream,
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("Timeline of a case"),
        description=gettext_lazy(
            "Every event for the case's staff; for cooperative members, the events about their "
            "request, without internal notes, routing reasons or staff values."
        ),
        responses={200: s.EventSerializer(many=True), **error_responses(404)},
    ),
)
class EventViewSet(CaseChildMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.EventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CaseEvent.objects.none()
        return events_visible_to(self.request.user, self.get_case())
