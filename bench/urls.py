"""The project's URLs plus an empty DRF view: the floor of any API request (in-process only)."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from casework.config.urls import urlpatterns as project_urlpatterns


class EmptyView(APIView):
    """Token authentication, permission check, JSON rendering, and nothing else."""

    def get(self, request):
        return Response({})

    def post(self, request):
        return Response({}, status=201)


urlpatterns = [path("bench/empty/", EmptyView.as_view()), *project_urlpatterns]
