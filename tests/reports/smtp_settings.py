"""Settings of the Celery workers in the delivery tests: the test settings, but mail goes
out over SMTP (EMAIL_HOST / EMAIL_PORT from the environment: the test's own server on
127.0.0.1), the report lease may be shortened (REPORTS_LEASE_SECONDS) and webhooks may
go to a receiver on 127.0.0.1."""

import os

from config.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_TIMEOUT = 20
REPORTS_LEASE_SECONDS = int(os.environ.get("REPORTS_LEASE_SECONDS", "200"))
NOTIFICATIONS_WEBHOOK_ALLOW_LOCAL = True
