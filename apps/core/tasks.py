"""Diagnostic tasks: prove where a task runs and how it survives failures (health checks, tests)."""

from __future__ import annotations

import json
import os
import time

import redis
from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection

from apps.core.tenancy import current_schema

PROBE_PREFIX = "sla:probe:"


@shared_task(name="core.whereami")
def whereami() -> dict[str, object]:
    """Report the schema this task ran in and the users that schema holds.

    A tenant task (the default class): sent without a tenant it raises
    PublicSchemaError instead of reading the public schema.
    """
    usernames = sorted(get_user_model().objects.values_list("username", flat=True))
    return {"schema": current_schema(), "usernames": usernames}


def probe_redis() -> redis.Redis:
    """The Redis the probes write to (the cache's server: reachable from every process)."""
    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


@shared_task(name="core.probe")
def probe(
    key: str, label: str, fail_times: int = 0, error: str = "", sleep: float = 0
) -> dict[str, object]:
    """Record a run of ``label`` under ``sla:probe:<key>`` in Redis, then maybe fail or nap.

    Each run appends ``{label, attempt, schema, pid, at}`` to the list ``…:started``
    (``schema`` as PostgreSQL reports it, so the database is reached), then sleeps
    ``sleep`` seconds; the first ``fail_times`` runs then raise ``error``
    ("operational": a transient database error, "value": a programming error), the
    others append the same record to ``…:finished``.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        row = cursor.fetchone()
    schema = row[0] if row else None
    store = probe_redis()
    attempt = int(store.hincrby(f"{PROBE_PREFIX}{key}:attempts", label, 1))
    record = {"label": label, "attempt": attempt, "schema": schema, "pid": os.getpid()}
    store.rpush(f"{PROBE_PREFIX}{key}:started", json.dumps({**record, "at": time.time()}))
    time.sleep(sleep)
    if attempt <= fail_times:
        if error == "value":
            raise ValueError(f"probe {label}: a programming error")
        raise OperationalError(f"probe {label}: the database went away (try {attempt})")
    store.rpush(f"{PROBE_PREFIX}{key}:finished", json.dumps({**record, "at": time.time()}))
    return record
