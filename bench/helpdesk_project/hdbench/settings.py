"""Settings of the django-helpdesk bench project: what helpdesk 2.6.1 needs, nothing more.

INSTALLED_APPS and MIDDLEWARE follow django-helpdesk's install documentation and its demo
project, less pinax-teams (an optional extra, left out: HELPDESK_TEAMS_MODE_ENABLED is off, as
docs/teams.rst says to do without it) and bootstrap4form (no longer a dependency nor loaded by
2.6.1's templates). The REST API is helpdesk's own (HELPDESK_API_ENABLED, on by default), under
/helpdesk/api/. Production-like: DEBUG off, persistent connections, mail composed in memory.
"""

import os
from urllib.parse import unquote, urlsplit

DATABASE_URL = os.environ.get(
    "HELPDESK_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sportello_bench_helpdesk"
)
_db = urlsplit(DATABASE_URL)

SECRET_KEY = "helpdesk-bench"  # a local benchmark, never served
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",  # helpdesk builds the links of its e-mails from the Site
    "django.contrib.humanize",  # helpdesk's templates format elapsed times with it
    "rest_framework",
    "helpdesk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hdbench.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": unquote(_db.username or "postgres"),
        "PASSWORD": unquote(_db.password or ""),
        "HOST": _db.hostname or "127.0.0.1",
        "PORT": str(_db.port or 5432),
        "CONN_MAX_AGE": 600,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

REST_FRAMEWORK = {
    # DRF's defaults, written out: the bench logs in with a session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
}

SITE_ID = 1
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
MEDIA_ROOT = os.environ.get("HELPDESK_BENCH_MEDIA_ROOT", "/tmp/sportello-bench-helpdesk-media")
LOGIN_URL = "helpdesk:login"

# The "one e-mail" of a new ticket (to its submitter) is composed and kept in memory.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.com"
SERVER_EMAIL = "helpdesk@example.com"

# pinax-teams is an optional extra of django-helpdesk; without it teams mode must be off.
HELPDESK_TEAMS_MODE_ENABLED = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
