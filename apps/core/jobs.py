"""Task base classes: every task runs in its tenant's schema, and no task is lost.

**Schema.** tenant-schemas-celery stamps the sender's schema into every message (the
header ``_schema_name``; on the worker it reads back as ``request._schema_name`` and
``request.headers["_schema_name"]``). The library switches the worker's connection in a
``task_prerun`` signal handler, but Celery logs and swallows a handler's exception: with
PostgreSQL down the switch failed silently, the task ran on in the public schema and
blamed its sender with ``PublicSchemaError``. config/celery.py disconnects those
handlers; :class:`TenantTask` switches instead, inside the task call, where a failure
is the task's own exception. A message without a tenant still fails loudly
(``PublicSchemaError``); :class:`PlatformTask` runs in the public schema on purpose.

**Transient failures** (:func:`is_transient`: database, broker and SMTP connection
errors) are retried with exponential backoff and jitter, 2 s doubling to
``RETRY_MAX_SECONDS``, practically without limit; every other exception (a programming
error) fails at once, is logged and acknowledged. Celery acknowledges an ``acks_late``
message only after the retry message is published (``Retry``). If the retry cannot be
published (the broker is down too), the message is rejected *with requeue* instead of
Celery's default requeue=False, which deletes it; and if the broker cannot even take
that, the message stays in kombu's ``unacked`` hash and comes back after the visibility
timeout. Either way it is never acknowledged. Settings and figures:
docs/decisions/0006-jobs-never-lose-work.md.

**Beat** (:class:`CatchUpScheduler`): a tick that cannot be published is sent again
every ``beat_retry_seconds`` until the broker takes it, instead of waiting a whole
interval. The jobs are state-based (each run does whatever is due), so one late run
catches up any number of missed ones.
"""

from __future__ import annotations

import logging
import random
import smtplib
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import kombu.exceptions
import psycopg
import redis.exceptions
from celery.beat import PersistentScheduler, ScheduleEntry
from celery.exceptions import Reject
from django.core.exceptions import ObjectDoesNotExist
from django.db import InterfaceError, OperationalError
from django_tenants.utils import (
    get_public_schema_name,
    get_tenant_model,
    schema_context,
    tenant_context,
)
from tenant_schemas_celery.task import TenantTask as LibraryTenantTask

from apps.core.tenancy import current_schema

logger = logging.getLogger(__name__)
beat_logger = logging.getLogger("celery.beat")

SCHEMA_HEADER = "_schema_name"  # where tenant-schemas-celery puts the sender's schema
RETRY_FIRST_SECONDS = 2.0
# A retry waits in the worker's memory, un-acknowledged, until it is due; the wait plus
# the task's run must stay under the broker's visibility timeout or the message would
# be handed to a second worker (tested in tests/core/test_jobs.py against the settings).
RETRY_MAX_SECONDS = 60.0
RETRY_LIMIT = 10_000  # about a week of outage at one try a minute: work is not dropped

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,  # django.db: PostgreSQL unreachable, restarted, serialization
    InterfaceError,  # django.db: a connection that is already closed
    psycopg.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,  # publishing to the broker failed
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,  # refused, reset, aborted, broken pipe
    TimeoutError,  # socket.timeout too
    socket.gaierror,  # name resolution
)


class PublicSchemaError(RuntimeError):
    """A tenant task was about to run in the public schema."""


class UnknownTenantError(LookupError):
    """A message names a schema that no tenant has (any more)."""


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a connection failure that a later try can get past.

    SMTP replies in the 4xx range are transient by definition (RFC 5321).
    """
    if isinstance(exc, smtplib.SMTPResponseException) and 400 <= exc.smtp_code < 500:
        return True
    return isinstance(exc, TRANSIENT_ERRORS)


def retry_countdown(retries: int) -> float:
    """Seconds before try ``retries + 2``: 2, 4, 8 … capped, times a jitter of 0.5–1."""
    ceiling = min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** min(retries, 20))
    return round(ceiling * random.uniform(0.5, 1.0), 2)


def message_schema(request: Any) -> str | None:
    """The schema a worker's message was sent from (None when it carries none)."""
    headers = getattr(request, "headers", None) or {}
    return headers.get(SCHEMA_HEADER) or getattr(request, SCHEMA_HEADER, None)


class _JobTask(LibraryTenantTask):
    """What both task classes share: the schema switch and the transient-failure retry.

    This class itself runs in the public schema (that is all PlatformTask adds).
    """

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.request.called_directly:  # a plain function call: the caller's schema
            self.check_direct_call()
            return super().__call__(*args, **kwargs)
        try:
            with self.message_context():
                return super().__call__(*args, **kwargs)
        except Exception as exc:
            if not is_transient(exc) or self.request.is_eager:
                raise  # a programming error fails once (logged, acknowledged); apply() raises
            self.retry_transient(exc)

    def check_direct_call(self) -> None:
        """Refuse a direct call that the worker would refuse (TenantTask: from public)."""

    @contextmanager
    def message_context(self) -> Iterator[None]:
        """The schema the worker runs this message in."""
        with schema_context(get_public_schema_name()):
            yield

    def retry_transient(self, exc: BaseException) -> NoReturn:
        """Publish a later try, or give the message back to the broker if that fails."""
        countdown = retry_countdown(self.request.retries)
        logger.warning(
            "%s[%s] transient failure, try %d again in %.1f s: %r",
            self.name,
            self.request.id,
            self.request.retries + 2,
            countdown,
            exc,
        )
        try:
            # The retry message keeps this one's headers, the schema among them.
            raise self.retry(exc=exc, countdown=countdown, max_retries=RETRY_LIMIT)
        except Reject as not_published:
            # Celery's Reject(requeue=False) would delete the message: requeue it. A
            # short pause keeps a flapping broker from spinning the message.
            time.sleep(min(countdown, 5.0))
            raise Reject(exc, requeue=True) from not_published


class TenantTask(_JobTask):
    """The default task class (config/celery.py): runs in the schema it was sent from."""

    abstract = True

    def check_direct_call(self) -> None:
        if current_schema() == get_public_schema_name():
            raise self.public_schema_error()

    def public_schema_error(self) -> PublicSchemaError:
        return PublicSchemaError(
            f"Task {self.name} needs a tenant but was sent from the public schema; "
            "send it inside schema_context()/tenant_context()."
        )

    @contextmanager
    def message_context(self) -> Iterator[None]:
        schema = message_schema(self.request)
        if not schema or schema == get_public_schema_name():
            raise self.public_schema_error()
        with schema_context(get_public_schema_name()):
            try:  # a database error propagates: transient, retried
                tenant = get_tenant_model().objects.get(schema_name=schema)
            except ObjectDoesNotExist as exc:
                raise UnknownTenantError(f"Task {self.name}: no tenant {schema!r}") from exc
        with tenant_context(tenant):
            yield


class PlatformTask(_JobTask):
    """A task that deliberately runs in the public schema (e.g. a beat fan-out)."""

    abstract = True


class CatchUpScheduler(PersistentScheduler):
    """celery beat's scheduler, but a tick the broker refused is sent again soon.

    Celery's scheduler logs a failed publication and waits for the next interval (a
    day, for the daily close). This one keeps the refused entry and tries it again every
    ``beat_retry_seconds`` (setting ``CELERY_BEAT_RETRY_SECONDS``) until it is sent;
    an entry waits at most once, however many of its ticks were missed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.missed: dict[str, ScheduleEntry] = {}
        self.retry_at = 0.0
        super().__init__(*args, **kwargs)

    @property
    def retry_seconds(self) -> float:
        return float(self.app.conf.get("beat_retry_seconds") or 10)

    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        beat_logger.info("Scheduler: Sending due task %s (%s)", entry.name, entry.task)
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as exc:
            self.missed[entry.name] = entry
            self.retry_at = time.monotonic() + self.retry_seconds
            beat_logger.error(
                "beat: could not send %s (%r); trying again in %.0f s",
                entry.name,
                exc,
                self.retry_seconds,
            )
        else:
            if self.missed.pop(entry.name, None) is not None:
                beat_logger.info("beat: sent %s (caught up a missed tick)", entry.name)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self.missed and time.monotonic() >= self.retry_at:
            for entry in list(self.missed.values()):
                self.apply_entry(entry, producer=self.producer)
        delay = float(super().tick(*args, **kwargs))
        if self.missed:
            delay = min(delay, max(self.retry_at - time.monotonic(), 0.1))
        return delay
