"""/metrics: authenticated, on the public host only, with request, task, queue and
evaluation metrics."""

from __future__ import annotations

import base64
import uuid
from datetime import date

import pytest
import redis
from celery.signals import task_failure, task_retry, task_success
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from apps.observability import metrics
from tests.conftest import TENANT_A

TOKEN = "test-metrics-token-" + "t" * 24


@pytest.fixture
def prefix():
    """A private Redis key prefix and queue per test; removed afterwards."""
    name = f"test-metrics-{uuid.uuid4().hex[:10]}"
    queue = f"{name}-queue"
    store = metrics.store()  # taken now: a test may replace metrics.store
    with override_settings(
        METRICS_REDIS_PREFIX=name,
        METRICS_TOKEN=TOKEN,
        METRICS_USER="scraper",
        METRICS_PASSWORD="scrape-pass-1234",
        CELERY_TASK_DEFAULT_QUEUE=queue,
    ):
        yield name, queue
    store.delete(f"{name}:tasks", f"{name}:evaluation", queue)


def _scrape(client: Client, **headers) -> tuple[int, str, object]:
    response = client.get("/metrics", **headers)
    return response.status_code, response.content.decode(), response


def _value(body: str, sample: str) -> float:
    for line in body.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{sample} not in metrics:\n{body[:3000]}")


def test_anonymous_gets_401_with_a_challenge(public_client, prefix):
    status, body, response = _scrape(public_client)
    assert status == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "django_http" not in body


@pytest.mark.parametrize(
    "header",
    [
        "Bearer wrong-token",
        "Token " + TOKEN,
        "Basic " + base64.b64encode(b"scraper:wrong").decode(),
        "Basic " + base64.b64encode(b"someone:scrape-pass-1234").decode(),
        "Basic not-base64!",
    ],
)
def test_wrong_credentials_get_401(public_client, prefix, header):
    status, _, _ = _scrape(public_client, HTTP_AUTHORIZATION=header)
    assert status == 401


def test_nothing_configured_means_401_for_everyone(public_client):
    with override_settings(METRICS_TOKEN="", METRICS_USER="", METRICS_PASSWORD=""):
        assert _scrape(public_client, HTTP_AUTHORIZATION="Bearer ")[0] == 401
        basic = "Basic " + base64.b64encode(b":").decode()
        assert _scrape(public_client, HTTP_AUTHORIZATION=basic)[0] == 401


def test_bearer_token_and_basic_auth_both_work(public_client, prefix):
    status, _body, response = _scrape(public_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert status == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"] == "no-store"
    basic = "Basic " + base64.b64encode(b"scraper:scrape-pass-1234").decode()
    assert _scrape(public_client, HTTP_AUTHORIZATION=basic)[0] == 200


def test_not_served_on_a_tenant_host(client_a, prefix):
    assert client_a.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_request_metrics_count_requests(public_client, client_a, prefix):
    client_a.get("/login/")
    client_a.get("/login/")
    _, body, _ = _scrape(public_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert "django_http_requests_total_by_method_total" in body
    assert "django_http_requests_latency_including_middlewares_seconds_bucket" in body
    assert 'django_http_responses_total_by_status_total{status="200"}' in body
    assert 'view="portal:login"' in body


def test_task_outcomes_from_celery_signals(public_client, prefix):
    from apps.core.tasks import whereami

    task_success.send(sender=whereami, result={})
    task_success.send(sender=whereami, result={})
    task_failure.send(sender=whereami, task_id="x", exception=RuntimeError("boom"))
    task_retry.send(sender=whereami, request=None, reason="transient")

    _, body, _ = _scrape(public_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    name = 'sla_celery_task_outcomes_total{outcome="%s",task="core.whereami"}'
    assert _value(body, name % "success") == 2
    assert _value(body, name % "failure") == 1
    assert _value(body, name % "retry") == 1
    assert _value(body, "sla_metrics_store_up") == 1


def test_queue_depth_is_read_from_the_broker_at_scrape_time(public_client, prefix):
    _, queue = prefix
    broker = metrics.broker()
    broker.rpush(queue, "a", "b", "c")
    broker.rpush(queue + metrics.PRIORITY_SEPARATOR + "6", "d")

    _, body, _ = _scrape(public_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    broker.delete(queue, queue + metrics.PRIORITY_SEPARATOR + "6")
    assert _value(body, f'sla_celery_queue_length{{queue="{queue}"}}') == 4
    assert "sla_celery_unacked_messages" in body


def test_evaluation_time_is_observed_around_every_settlement(public_client, prefix, world_a):
    from apps.calendars.periods import Period
    from apps.credits.settlement import period_settle

    with schema_context(TENANT_A.schema):
        period_settle(agreements=[world_a.agreement_x], period=Period(date(2026, 10, 1), "month"))
        period_settle(agreements=[world_a.agreement_x], period=Period(date(2026, 11, 1), "month"))

    _, body, _ = _scrape(public_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert _value(body, "sla_evaluation_seconds_count") == 2
    assert _value(body, 'sla_evaluation_seconds_bucket{le="+Inf"}') == 2
    assert _value(body, "sla_evaluation_seconds_sum") > 0


def test_a_redis_outage_leaves_metrics_answering(public_client, prefix, monkeypatch):
    dead = redis.Redis(port=1, socket_timeout=0.2, socket_connect_timeout=0.2)
    monkeypatch.setattr(metrics, "store", lambda: dead)
    monkeypatch.setattr(metrics, "broker", lambda: dead)

    metrics.record_task_outcome("core.whereami", "success")  # never raises
    metrics.observe_evaluation(0.5)
    status, body, _ = _scrape(public_client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert status == 200
    assert _value(body, "sla_metrics_store_up") == 0
    assert "django_http_requests_total_by_method_total" in body
