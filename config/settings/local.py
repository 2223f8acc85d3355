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
# Links in e-mails point at the development server (make run serves port 8000).
PUBLIC_URL_SCHEME = os.environ.get("PUBLIC_URL_SCHEME", "http")
PUBLIC_URL_PORT = int(os.environ.get("PUBLIC_URL_PORT", os.environ.get("PORT", "8000")))
