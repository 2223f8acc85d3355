"""The platform's own metrics, kept where every process can add to them: Redis.

Web requests are counted by django-prometheus inside each gunicorn process (see
``views``). The metrics here are different: Celery task outcomes happen in worker
processes, evaluations in workers *and* web processes, possibly on other hosts, and
the web's ``/metrics`` must show all of them. So each event is one Redis command on
the Redis the platform already depends on (``HINCRBY`` on a hash), and a scrape
reads the hashes and the broker's queues back (``StoreCollector``):

- ``sla_celery_task_outcomes_total{task, outcome}``: counter; success, failure,
  retry, revoked (from Celery's signals, in whichever process ran the task).
- ``sla_evaluation_seconds``: histogram of ``evaluate_period`` calls (fixed buckets;
  each observation increments its bucket, the count and the sum).
- ``sla_celery_queue_length{queue}``: gauge, ``LLEN`` of each queue (with kombu's
  priority sub-queues) at scrape time; ``sla_celery_unacked_messages``: messages
  delivered to a worker and not yet acknowledged (in flight or held by a dead worker).
- ``sla_metrics_store_up``: 1 when Redis answered the scrape, else 0 (the others are
  then missing, and ``/metrics`` still answers).

Recording never raises and waits at most ``SOCKET_TIMEOUT``: a metric lost during a
Redis outage is better than a task or a request that fails because of it. Counters
live as long as Redis keeps its data; a flushed Redis is a counter reset, which
Prometheus' ``rate()`` and ``increase()`` handle.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import redis
from django.conf import settings
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

SOCKET_TIMEOUT = 0.5
EVALUATION_BUCKETS: tuple[float, ...] = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
)
# kombu's Redis transport keeps priorities 1-9 in sub-lists named <queue>\x06\x16<step>.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)

_clients: dict[str, redis.Redis] = {}


def _client(url: str) -> redis.Redis:
    """One client per URL and process (redis-py's pool is safe across forks)."""
    if url.startswith("redis+socket://"):  # kombu's spelling of a unix socket
        url = "unix://" + url.removeprefix("redis+socket://")
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(
            url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT
        )
    return _clients[url]


def store() -> redis.Redis:
    return _client(settings.CACHES["default"]["LOCATION"])


def broker() -> redis.Redis:
    return _client(getattr(settings, "CELERY_BROKER_URL", settings.CACHES["default"]["LOCATION"]))


def key(name: str) -> str:
    return f"{settings.METRICS_REDIS_PREFIX}:{name}"


def record_task_outcome(task: str, outcome: str) -> None:
    try:
        store().hincrby(key("tasks"), f"{task}|{outcome}", 1)
    except (redis.RedisError, OSError):
        logger.debug("task outcome %s %s not recorded: Redis unavailable", task, outcome)


def bucket_for(seconds: float) -> str:
    for bound in EVALUATION_BUCKETS:
        if seconds <= bound:
            return repr(bound)
    return "+Inf"


def observe_evaluation(seconds: float) -> None:
    try:
        pipe = store().pipeline(transaction=True)
        name = key("evaluation")
        pipe.hincrby(name, "count", 1)
        pipe.hincrbyfloat(name, "sum", seconds)
        pipe.hincrby(name, "le:" + bucket_for(seconds), 1)
        pipe.execute()
    except (redis.RedisError, OSError):
        logger.debug("evaluation time not recorded: Redis unavailable")


def queue_names() -> list[str]:
    """The default queue and any declared in CELERY_TASK_QUEUES (Queue objects or names)."""
    names = [settings.CELERY_TASK_DEFAULT_QUEUE]
    declared: Iterable[Any] = getattr(settings, "CELERY_TASK_QUEUES", None) or []
    for queue in declared:
        name = getattr(queue, "name", queue)
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


def _decode(raw: dict[Any, Any]) -> dict[str, str]:
    return {
        (k.decode() if isinstance(k, bytes) else str(k)): (
            v.decode() if isinstance(v, bytes) else str(v)
        )
        for k, v in raw.items()
    }


class StoreCollector(Collector):
    """Reads the Redis-kept metrics and the broker's queues at scrape time."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "sla_metrics_store_up", "1 when Redis (metrics store and broker) answered."
        )
        try:
            families = list(self._families())
        except (redis.RedisError, OSError) as exc:
            logger.warning("metrics store unavailable: %s", exc.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> Iterator[Metric]:
        client = store()
        outcomes = CounterMetricFamily(
            "sla_celery_task_outcomes",
            "Celery task outcomes by task name (success, failure, retry, revoked).",
            labels=["task", "outcome"],
        )
        for field, value in sorted(_decode(client.hgetall(key("tasks"))).items()):
            task, _, outcome = field.rpartition("|")
            outcomes.add_metric([task, outcome], float(value))
        yield outcomes

        raw = _decode(client.hgetall(key("evaluation")))
        cumulative, buckets = 0.0, []
        for bound in [*map(repr, EVALUATION_BUCKETS), "+Inf"]:
            cumulative += float(raw.get("le:" + bound, 0))
            buckets.append((bound, cumulative))
        evaluation = HistogramMetricFamily(
            "sla_evaluation_seconds",
            "Time of evaluate_period calls (one period, a set of agreements).",
            buckets=buckets,
            sum_value=float(raw.get("sum", 0.0)),
        )
        yield evaluation

        queues = GaugeMetricFamily(
            "sla_celery_queue_length",
            "Messages waiting in a Celery queue (LLEN at scrape time).",
            labels=["queue"],
        )
        link = broker()
        for name in queue_names():
            pipe = link.pipeline(transaction=False)
            pipe.llen(name)
            for step in PRIORITY_STEPS:
                pipe.llen(f"{name}{PRIORITY_SEPARATOR}{step}")
            queues.add_metric([name], float(sum(pipe.execute())))
        yield queues
        unacked = GaugeMetricFamily(
            "sla_celery_unacked_messages",
            "Messages delivered to workers and not acknowledged yet (kombu's 'unacked').",
        )
        unacked.add_metric([], float(link.hlen("unacked")))
        yield unacked
