"""helpdesk under /helpdesk/ as its documentation mounts it, plus an empty DRF view (the floor)."""

from django.urls import include, path
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView


class EmptyView(APIView):
    """Session authentication, helpdesk's permission (IsAdminUser), JSON, and nothing else."""

    permission_classes = [IsAdminUser]

    def post(self, request):
        return Response({}, status=201)


urlpatterns = [
    path("bench/empty/", EmptyView.as_view()),
    path("helpdesk/", include("helpdesk.urls")),
]
