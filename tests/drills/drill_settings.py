"""Settings of the drills' server processes: production settings, plus their own queue and mail.

Everything else comes from the environment exactly as in production (see `harness.django_env`).
The harness leaves SPORTELLO_TESTING out of these processes' environment, so they are not a test
run.
"""

import os

from casework.config.settings import *  # noqa: F403
from casework.config.settings import CELERY_TASK_ROUTES, VAR_DIR

# One queue per drill run, so that a drill's worker never takes anyone else's messages. E-mail's
# delivery, on the `mail` queue in production, comes to it too, or to a mail queue of the drill's
# own when the drill runs a mail worker (DRILL_MAIL_QUEUE).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("DRILL_QUEUE", "celery")
_MAIL_QUEUE = os.environ.get("DRILL_MAIL_QUEUE", CELERY_TASK_DEFAULT_QUEUE)
CELERY_TASK_ROUTES = {task: {"queue": _MAIL_QUEUE} for task in CELERY_TASK_ROUTES}
# No pidbox queue left behind in the broker by each drill worker.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
EMAIL_FILE_PATH = os.environ.get("DRILL_MAIL_DIR", str(VAR_DIR / "mail"))

if os.environ.get("DRILL_TASK_LOG"):
    from tests.drills import worker_hooks

    worker_hooks.connect()
