"""Sportello settings, all driven by environment variables (see README "Configuration")."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from casework.config.logging import admins_from

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# The test suite says so itself (pyproject.toml sets it for pytest); nothing else ever sets it.
# Read before any file: a test run is configured by its environment alone.
TESTING = env.bool("SPORTELLO_TESTING", default=False)
# A local .env file (git-ignored; `make run` writes one with DEBUG=1 and a generated
# SECRET_KEY) lets `manage.py` work in a development checkout; on a server,
# SPORTELLO_ENV_FILE=/etc/sportello/env lets management commands read the services' file. The
# process environment wins over the file. The test suite never reads one, so a developer's .env
# (DEBUG=1, another DATABASE_URL) changes neither its settings nor the environment it passes on.
ENV_FILE = Path(env.str("SPORTELLO_ENV_FILE", default=str(BASE_DIR / ".env")))
if not TESTING and ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE, overwrite=False)
VAR_DIR = Path(env.str("SPORTELLO_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
# Development and tests run without configuration; production must say what it runs on.
LOCAL = DEBUG or TESTING

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not LOCAL:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "sportello-local-development-key-not-for-production-use-0123456789"
if not LOCAL and "DATABASE_URL" not in env.ENVIRON:
    raise ImproperlyConfigured("DATABASE_URL must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Names of areas, specialties, outcomes and sectors in both languages (casework/translation.py);
    # before the admin, whose forms it extends.
    "modeltranslation",
    # Django's admin, whose default site asks staff for their second factor (casework.twofactor).
    "casework.twofactor.apps.SportelloAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Full-text search and trigram lookups (registered for PostgreSQL connections only).
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    # Cooperatives, people and consultants from CSV or XLSX with a preview (casework.admin_imports).
    "import_export",
    "viewflow",
    "viewflow.workflow",
    "casework",
    "workflows.apps.WorkflowsConfig",
    "api",
    "csp",
    "casework.apps.AxesConfig",  # django-axes, with a name in the admin
    # Two-factor sign-in for staff (casework.twofactor): TOTP apps and single-use recovery codes.
    "django_otp",
    "casework.apps.TotpConfig",  # django_otp.plugins.otp_totp, named in the admin
    "casework.apps.StaticConfig",  # django_otp.plugins.otp_static, named in the admin
]

MIDDLEWARE = [
    # First: every response carries the request id, every log line of the request names it.
    "casework.config.middleware.RequestIdMiddleware",
    # Request metrics (GET /metrics): this one times the whole stack, its pair below the view.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # GET /health/ is answered here, before host validation, sessions, CSRF and login.
    "casework.config.health.HealthCheckMiddleware",
    # GET /metrics likewise (Prometheus scrapes each backend by its address); it checks who asks.
    "casework.config.metrics.MetricsMiddleware",
    "csp.middleware.CSPMiddleware",
    "casework.config.middleware.ThirdPartyPagesPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session's second factor; then staff without one go no further.
    "django_otp.middleware.OTPMiddleware",
    "casework.twofactor.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before axes rather than last, so the responses it counts include axes' lockout pages.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "casework.config.urls"
WSGI_APPLICATION = "casework.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casework.config.context_processors.roles",
            ],
        },
    },
]

# The embedded default: one SQLite file; IMMEDIATE transactions so that concurrent writers queue
# for the lock instead of failing with "database is locked" half-way through a transaction.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'sportello.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # The covering indexes are PostgreSQL's (their INCLUDE columns serve index-only scans at a
    # million cases); SQLite builds them on their keys alone, as Django's warning says at each
    # `migrate` of the embedded default: known and intended, so not repeated to every newcomer.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # Parameters bound by the server, so PostgreSQL keeps each statement a connection has run
    # DATABASE_PREPARE_THRESHOLD times prepared: an intake's ~30 statements are then neither
    # parsed nor planned again (bench/results.md, intake). DATABASE_SERVER_BINDING=0 behind a
    # pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
    if env.bool("DATABASE_SERVER_BINDING", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {
                "server_side_binding": True,
                "prepare_threshold": env.int("DATABASE_PREPARE_THRESHOLD", default=1),
            }
        )
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", env.str("TEST_DATABASE_NAME", default="test_sportello")
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache for every process of the site (the API sign-in's failure counts live there): Redis in
# production (CACHE_URL=redis://127.0.0.1:6379/1); by default files under VAR_DIR, which the
# processes of one machine share. A test run keeps to its own memory, apart from parallel runs.
CACHES = {
    "default": env.cache_url(
        "CACHE_URL", default="locmemcache://" if TESTING else f"filecache://{VAR_DIR / 'cache'}"
    ),
}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing cost is not what the tests measure.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "it"
LANGUAGES = [("it", _("Italian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Data names (practice areas, specialties, outcomes, sectors) in the reader's language; an
# English name left empty reads the Italian one.
MODELTRANSLATION_DEFAULT_LANGUAGE = "it"
MODELTRANSLATION_LANGUAGES = ("it", "en")
MODELTRANSLATION_FALLBACK_LANGUAGES = ("it",)
# Dates and times in each language's own order, 24-hour in both (casework/formats/).
FORMAT_MODULE_PATH = ["casework.formats"]
TIME_ZONE = "Europe/Rome"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded documents live outside the web root and are served only through a permission check.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "uploads")))
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_ALLOWED_TYPES = env.list(
    "ATTACHMENT_ALLOWED_TYPES",
    default=[
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/plain",
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        # Signed documents (CAdES .p7m); a PAdES signed PDF is a PDF.
        "application/pkcs7-mime",
    ],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Seconds any SMTP step may take (connecting, the greeting, each command): a mail server that
# hangs costs a delivery run this long and holds up nothing else.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Messages the outbox's delivery claims at once and sends over one SMTP connection.
EMAIL_BATCH_SIZE = env.int("EMAIL_BATCH_SIZE", default=50)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Sportello <sportello@localhost>")
SPORTELLO_BASE_URL = env.str("SPORTELLO_BASE_URL", default="http://127.0.0.1:8000")

# Celery: with no broker configured, the filesystem transport needs no server at all.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
_BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("out", "processed", "control"):
        (_BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "out"),
        "data_folder_out": str(_BROKER_DIR / "out"),
        "data_folder_processed": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
# Tests run tasks in-process unless a test starts a real worker on a real broker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# E-mail has a queue of its own, and in production a worker of its own (`mail` in the Procfile,
# deploy/systemd/sportello-mail-worker.service): a slow mail server never delays the SLA sweep.
# `make run`'s single worker listens to both queues. Time limits in seconds: the soft one raises
# SoftTimeLimitExceeded in the task (it gives back what it holds and stops), the hard one kills
# the worker's process; a task acknowledged late that ran out of time is not redelivered. These
# are the defaults; the SLA sweep and the auto-close have shorter ones (workflows/tasks.py).
CELERY_TASK_ROUTES = {"casework.tasks.deliver_notifications": {"queue": "mail"}}
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# A delivery run is a batch's SMTP steps, each within EMAIL_TIMEOUT, and its limits follow from
# them. A claimed batch outlives a worker killed mid-batch: once the claim is older than the hard
# limit, its worker is surely gone and another run takes the rows (casework/outbox.py).
EMAIL_DELIVERY_SOFT_TIME_LIMIT = EMAIL_TIMEOUT * (EMAIL_BATCH_SIZE + 6)
EMAIL_DELIVERY_TIME_LIMIT = EMAIL_DELIVERY_SOFT_TIME_LIMIT + 3 * EMAIL_TIMEOUT
EMAIL_CLAIM_SECONDS = EMAIL_DELIVERY_TIME_LIMIT + 3 * EMAIL_TIMEOUT

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's three, with a JSON parser that answers a too deeply nested body with a 400.
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env.str("LOGIN_THROTTLE_RATE", default="10/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sportello API",
    "DESCRIPTION": "Case management for a federation of cooperatives.",
    "VERSION": "1.0.0",
    # Choice sets whose field names ("status", "kind") other components use for other codes.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "casework.models.choices.CaseStatus",
        "DeadlineStatusEnum": "casework.models.deadlines.Deadline.Status",
        "DeadlineKindEnum": "casework.models.deadlines.DeadlineKind",
    },
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Security for production (DEBUG off); `manage.py check --deploy` is clean with these.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not LOCAL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        # Compressed but not renamed by hash: viewflow ships CSS that refers to font files it
        # does not include, which makes the manifest storage's collectstatic fail.
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    }
# Every page: scripts, styles, images and requests from our own origin only; no inline script
# (the pages' JavaScript lives in static/js). casework.config.middleware loosens it for the
# API docs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Login throttling (django-axes): 5 failures for one username from one address lock that pair
# out for 15 minutes; a success resets the count. The REST token endpoint has its own throttle
# of failures per address and per username (api.throttling, LOGIN_THROTTLE_RATE).
AUTHENTICATION_BACKENDS = [
    "casework.config.middleware.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner on every start; lockouts are still logged as warnings
AXES_LOCKOUT_CALLABLE = "casework.config.middleware.login_locked_out"
AXES_WHITELIST_CALLABLE = "casework.config.middleware.is_api_sign_in"
AXES_CLIENT_IP_CALLABLE = "casework.config.middleware.client_ip"
# A wrong second-factor code counts as a failed login (casework.twofactor); never stored in clear.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]

# Two-factor sign-in (casework.twofactor): consultants, supervisors and administrators give a TOTP
# code (or a single-use recovery code) after their password, on the login page, the admin and the
# API token endpoint. On in production; off by default in development (`make run`) and tests.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=not LOCAL)
OTP_TOTP_ISSUER = "Sportello"
# How many proxies of ours append to X-Forwarded-For in front of gunicorn (0: none, trust none).
SPORTELLO_TRUSTED_PROXIES = env.int("SPORTELLO_TRUSTED_PROXIES", default=0 if LOCAL else 1)

# Sportello's own knobs.
SPORTELLO_LOW_RATING = env.int("SPORTELLO_LOW_RATING", default=2)

# Health: GET /health/ (casework.config.health). Each check's clients time out after
# HEALTH_CHECK_TIMEOUT_SECONDS and the answer waits a second more at most; the SLA sweep (every
# minute) must have completed a run within HEALTH_SWEEP_MAX_AGE_MINUTES, and no e-mail may wait
# in the outbox longer than HEALTH_OUTBOX_MAX_AGE_MINUTES. A proxy probes it over plain HTTP.
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=2.0)
HEALTH_SWEEP_MAX_AGE_MINUTES = env.int("HEALTH_SWEEP_MAX_AGE_MINUTES", default=3)
HEALTH_OUTBOX_MAX_AGE_MINUTES = env.int("HEALTH_OUTBOX_MAX_AGE_MINUTES", default=10)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# Housekeeping (casework.housekeeping: nightly beat tasks and `manage.py purge`). Delivered
# e-mails hold case text and addresses: kept 90 days, long enough to answer "did you write to
# me?". Staff reads of cases are the GDPR accountability log: two years answer a member's access
# request (art. 15) or trace a breach found late, and storage limitation (art. 5(1)(e)) bounds
# them; not below six months, what the Garante asks of system administrators' access logs.
# Expired sessions, lapsed lockouts and day-old idempotency keys serve nothing and go at the
# next run. Deletes go PURGE_BATCH_SIZE rows per transaction, so no purge holds long locks.
PURGE_SENT_EMAILS_DAYS = env.int("PURGE_SENT_EMAILS_DAYS", default=90)
CASE_ACCESS_RETENTION_DAYS = env.int("CASE_ACCESS_RETENTION_DAYS", default=730)
PURGE_BATCH_SIZE = env.int("PURGE_BATCH_SIZE", default=5000)

# Metrics: GET /metrics in Prometheus' text format (casework.config.metrics). django-prometheus
# counts the requests (its two middlewares above) and the queries: its backends are Django's
# own with a counting cursor, for SQLite and PostgreSQL alike (vendor, options and tests
# unchanged); its app is not installed, it would only add a listener on a port of its own.
# Sportello's gauges are read at scrape time. Like /health/ it is answered before host validation
# and the HTTPS redirect, so Prometheus can scrape each web backend at its own address; it is
# served to the addresses (or networks) in METRICS_ALLOWED_IPS as `client_ip` sees them, or with
# `Authorization: Bearer METRICS_TOKEN` from anywhere; a wrong token is refused from any address.
DATABASES["default"]["ENGINE"] = DATABASES["default"]["ENGINE"].replace(
    "django.db.backends.", "django_prometheus.db.backends.", 1
)
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^metrics$"]

# Errors and logs. Every line says its time, level, logger and request id (the proxy's
# X-Request-ID or a new one, sent back in the response; a Celery task's id in workers, "-"
# elsewhere): casework.config.logging and RequestIdMiddleware. LOG_FORMAT=json writes one JSON
# object per line. Celery workers and beat log through the same handlers (casework.config.celery).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be text or json.")
# ADMINS="Name <a@example.org>,b@example.org": errors are e-mailed to them (never with DEBUG on).
ADMINS = admins_from(env.str("ADMINS", default=""))
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "casework.config.logging.RequestIdFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "text": {"()": "casework.config.logging.TextFormatter"},
        "json": {"()": "casework.config.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "formatter": "text",
            "filters": ["require_debug_false", "request_id"],
        },
    },
    "loggers": {
        # Django's default handlers (its own console and mail_admins) give way to the root's.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
    },
    "root": {"handlers": ["console", *(["mail_admins"] if ADMINS else [])], "level": LOG_LEVEL},
}
# Sentry, only when SENTRY_DSN is set (casework.config.sentry says what is never sent); never
# from the test suite, whose tests that need it start and stop it themselves.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN and not TESTING:
    from casework.config.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
