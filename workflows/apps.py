"""The case process on viewflow, and the Celery tasks that move it on time."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Case process")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Register the Celery tasks in every process, so that the domain can enqueue them by name
        # (and eager mode in tests runs them in-process instead of sending them to a broker).
        from . import tasks  # noqa: F401
