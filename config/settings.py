"""Django settings, all driven by the declared schema in ``config.env``."""

from __future__ import annotations

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, check_production, load_env

ENV = load_env()
_problems = check_production(ENV)
if _problems:
    raise ImproperlyConfigured("Refusing to start outside DEBUG: " + " ".join(_problems))

DEBUG = ENV.debug
SECRET_KEY = ENV.secret_key
ALLOWED_HOSTS = ENV.allowed_hosts
CSRF_TRUSTED_ORIGINS = ENV.csrf_trusted_origins
CITYOPS_DEMO = ENV.demo
CITYOPS_REFERENCE_RECHECK_SECONDS = ENV.reference_recheck_seconds
CITYOPS_PUBLIC_FIGURES_SECONDS = ENV.public_figures_seconds
# A request's whole body: Django itself sets no limit on the files in it (cityops/core/middleware.py).
CITYOPS_MAX_REQUEST_MB = ENV.max_request_mb
# DATA_UPLOAD_MAX_NUMBER_FILES stays at Django's 100: an inspection carries one photo per failed
# checklist item and its templates are data an administrator may lengthen, while the bytes are bounded
# above and 100 open temporary files per request are well within a worker's file limit.

INSTALLED_APPS = [
    "cityops.core.admin_site.AdminConfig",  # Django's admin on cityops.core.admin_site.AdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_htmx",
    "cityops.core",
    "cityops.accounts",
    "cityops.geography",
    "cityops.organization",
    "cityops.catalog",
    "cityops.notifications",
    "cityops.cases",
    "cityops.evaluation",
    "cityops.dashboards",
    "cityops.facilities",
    "cityops.open311",
    "cityops.public",
    "cityops.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cityops.core.middleware.RequestSizeLimitMiddleware",  # before anything reads the body
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "cityops.accounts.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        # Django's, with a faster ``{% translate %}`` of plain text behind ``{% load i18n %}``
        "NAME": "django",
        "BACKEND": "cityops.core.templates.Templates",
        "DIRS": [BASE_DIR / "cityops" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cityops.core.context_processors.platform",
            ],
        },
    },
    {
        # Jinja2 for the busiest pages (the work queue, the case page): templates in each app's jinja2/
        "NAME": "jinja2",
        "BACKEND": "cityops.core.templates.Jinja2",
        "DIRS": [BASE_DIR / "cityops" / "jinja2"],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "config.jinja_env.environment",
            "context_processors": [
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cityops.core.context_processors.platform",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(ENV.database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, keeping the plans of the statements the code marks as stable
    # (cityops/core/postgresql/base.py); parameters are bound on the server, which preparing needs.
    from cityops.core.postgresql import ON_REQUEST_ONLY

    DATABASES["default"]["ENGINE"] = "cityops.core.postgresql"
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": True,
        "prepare_threshold": ON_REQUEST_ONLY if ENV.db_prepare else None,
        **DATABASES["default"].get("OPTIONS", {}),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # Django's backend plus a file lock that queues write transactions (cityops/core/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "cityops.core.sqlite"
    # Connections stay open across requests: opening one runs the pragmas below every time.
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    # Tests run on an in-memory database (said explicitly: test runners key on the stock ENGINE name).
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock up front so
        # concurrent writers queue on the busy timeout instead of failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=20000; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-64000;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Django's password check; the session's person is loaded with their memberships in one query.
AUTHENTICATION_BACKENDS = ["cityops.accounts.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese first, English complete. Times are stored in UTC and shown in Asia/Shanghai.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = ENV.time_zone

STATIC_URL = "static/"
STATIC_ROOT = ENV.static_root
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
STATICFILES_DIRS = [BASE_DIR / "cityops" / "static"]
# Front-end libraries come from npm (package-lock.json); only their dist folders are served.
_NODE = BASE_DIR / "node_modules"
for _prefix, _path in [
    ("vendor/htmx", _NODE / "htmx.org" / "dist"),
    ("vendor/leaflet", _NODE / "leaflet" / "dist"),
    ("vendor/echarts", _NODE / "echarts" / "dist"),
]:
    if _path.is_dir():
        STATICFILES_DIRS.append((_prefix, _path))
STORAGES = {
    # Django's file system storage that removes a photo half-written when the disk fills up
    "default": {"BACKEND": "cityops.core.storage.MediaStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "cityops.core.storage.StaticStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = ENV.media_root

EMAIL_BACKEND = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}.get(ENV.email_url, "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = ENV.default_from_email

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cityops.accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON through orjson (cityops/core/jsonout.py); the browsable API as before
    "DEFAULT_RENDERER_CLASSES": [
        "cityops.core.jsonout.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cityops.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "cityops staff API",
    "DESCRIPTION": "City operations management and service platform",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Database sessions (cityops/accounts/sessions.py: read with a plan PostgreSQL keeps).
SESSION_ENGINE = "cityops.accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": ENV.log_level},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
