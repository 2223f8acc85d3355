"""Development: `make run` and any manage.py command on a developer's machine."""

import os

os.environ.setdefault("SECRET_KEY", "django-insecure-local-development-only")
os.environ.setdefault("DEBUG", "1")

from config.embedded import resolve_service_urls
from config.settings.base import *  # noqa: F403
from config.settings.base import apply_service_urls

apply_service_urls(globals(), *resolve_service_urls())

# Serve static files straight from the app folders: no collectstatic in dev.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
