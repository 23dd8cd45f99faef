"""The Celery application: workers and beat read their configuration from Django settings."""

import os

from celery import Celery
from celery.signals import setup_logging

from casework.config.logging import configure_worker_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casework.config.settings")

app = Celery("sportello")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["casework", "workflows"])
# Workers and beat log with the site's format and request ids (the task id), not Celery's.
setup_logging.connect(configure_worker_logging)
# Housekeeping's purges live apart from the domain's tasks (casework.housekeeping_tasks).
app.autodiscover_tasks(["casework"], related_name="housekeeping_tasks")
