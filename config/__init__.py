"""Project configuration: settings, URL confs, Celery app, WSGI entry point."""

from config.celery import app as celery_app

__all__ = ("celery_app",)
