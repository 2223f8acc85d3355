"""Development: `make run` and any manage.py command on a developer's machine."""

import os

os.environ.setdefault("SECRET_KEY", "django-insecure-local-development-only")
# Webhooks to a receiver on this machine are allowed in development, DEBUG or not.
os.environ.setdefault("NOTIFICATIONS_WEBHOOK_ALLOW_LOCAL", "1")

from config.embedded import resolve_service_urls
from config.env import env_bool
from config.settings.base import *  # noqa: F403
from config.settings.base import apply_service_urls

# manage.py commands (runserver, shell, …) debug by default. `make run` is the demo as a
# customer sees it: runstack hands its web, worker and beat DEBUG=0 (the product's own
# error pages, not Django's technical ones) unless DEBUG is set in the environment.
DEBUG = env_bool("DEBUG", default=True)

apply_service_urls(globals(), *resolve_service_urls())

# Serve static files straight from the app folders: no collectstatic in dev.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Links in e-mails point at the development server (make run serves port 8000).
PUBLIC_URL_SCHEME = os.environ.get("PUBLIC_URL_SCHEME", "http")
PUBLIC_URL_PORT = int(os.environ.get("PUBLIC_URL_PORT", os.environ.get("PORT", "8000")))
