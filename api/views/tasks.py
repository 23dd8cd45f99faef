"""The task queues of the process: my tasks, the ones I may claim, claim and release."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from viewflow.workflow.models import Task

from workflows import process
from workflows.selectors import (
    available_tasks,
    my_tasks,
    open_tasks_of,
    tasks_reachable_by,
    with_case,
    with_case_read_state,
)

from ..filters import TaskFilter
from ..schema import error_responses
from ..serializers import TaskSerializer


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("My task queues"),
        description=gettext_lazy(
            "`scope=mine`: the tasks I hold; `scope=available`: the unclaimed tasks of my queues "
            "(work for consultants of the area; triage, manual assignment and follow-ups for "
            "supervisors). Without `scope`, both."
        ),
        responses={200: TaskSerializer(many=True), **error_responses(400, 404)},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("One task"), responses={200: TaskSerializer, **error_responses(404)}
    ),
    claim=extend_schema(
        summary=gettext_lazy("Claim a task"),
        description=gettext_lazy("Of many people claiming at once, one gets 200, the others 409."),
        request=None,
        responses={200: TaskSerializer, **error_responses(403, 404, 409)},
    ),
    release=extend_schema(
        summary=gettext_lazy("Put a task back in its queue"),
        request=None,
        responses={200: TaskSerializer, **error_responses(403, 404, 409)},
    ),
)
class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TaskSerializer
    lookup_value_regex = "[^/]+"
    filterset_class = TaskFilter
    ordering_fields = ["created", "id"]
    ordering = ["created", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        if self.action == "list":
            # One plain queryset per scope, so the planner sees each condition once and can use
            # the partial indexes of the task table.
            scope = self.request.query_params.get("scope")
            if scope == "mine":
                return my_tasks(self.request.user)
            if scope == "available":
                return available_tasks(self.request.user)
            return open_tasks_of(self.request.user)
        return with_case_read_state(tasks_reachable_by(self.request.user), self.request.user)

    def paginate_queryset(self, queryset):
        """The page's task ids first, then those tasks with their cases.

        The ids come from the queue's partial index alone; joined whole, every matching task
        was read with its process and case before the sort picked the page.
        """
        ids = super().paginate_queryset(queryset.values_list("pk", flat=True))
        if ids is None:
            return None
        page = with_case_read_state(with_case(Task.objects.filter(pk__in=ids)), self.request.user)
        tasks = {task.pk: task for task in page}
        return [tasks[pk] for pk in ids if pk in tasks]

    def _task_response(self, task_id: int) -> Response:
        reader = self.request.user
        task = with_case_read_state(tasks_reachable_by(reader), reader).filter(pk=task_id).first()
        if task is None:
            # Released out of the user's queues (they held it from outside their areas).
            task = with_case_read_state(with_case(Task.objects.filter(pk=task_id)), reader).get()
        return Response(self.get_serializer(task).data)

    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        task = self.get_object()
        process.task_claim(task=task, actor=request.user)
        return self._task_response(task.pk)

    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        task = self.get_object()
        process.task_release(task=task, actor=request.user)
        return self._task_response(task.pk)
