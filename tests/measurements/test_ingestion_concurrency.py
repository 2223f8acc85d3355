"""Concurrent identical posts against a real gunicorn leave one row (INSERT … ON CONFLICT).

The server runs in another process on the test database, so it needs committed
data: a service and a token in tenant alpha, created by a module fixture
before any test transaction opens, and removed with every row the server
wrote once the module is done.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django_tenants.utils import schema_context

from tests.conftest import TENANT_A, _test_database_url
from tests.measurements.conftest import ticket

pytestmark = [pytest.mark.django_db, pytest.mark.integration]
THREADS = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(django_db_setup) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
    }
    log = Path(settings.BASE_DIR) / ".data" / f"gunicorn-ingest-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi"),
                *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "8"),
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                requests.get(f"{base}/healthz", headers={"Host": TENANT_A.host}, timeout=2)
                break
            except (requests.ConnectionError, requests.Timeout):  # still booting
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def committed(django_db_setup, django_db_blocker) -> Iterator[tuple[int, str, str]]:
    """(service id, token, external id prefix), committed in tenant alpha; removed after."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from apps.agreements.models import Service
    from apps.measurements.models import Ticket

    prefix = f"race-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock(), schema_context(TENANT_A.schema):
        service = Service.objects.create(name=prefix)
        user = get_user_model().objects.get(username=f"admin_{TENANT_A.slug}")
        token, created_token = Token.objects.get_or_create(user=user)
    try:
        yield service.pk, token.key, prefix
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT_A.schema):
            Ticket.objects.filter(external_id__startswith=prefix).delete()
            service.delete()
            if created_token:
                token.delete()


def _together(calls) -> list[requests.Response]:
    """Run the calls in threads released at the same moment; their responses in order."""
    barrier = threading.Barrier(len(calls))
    results: list[requests.Response | BaseException] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(r, requests.Response) for r in results), results
    return results


def _post(base: str, token: str, body) -> requests.Response:
    headers = {"Host": TENANT_A.host, "Authorization": f"Token {token}"}
    return requests.post(f"{base}/api/v1/tickets/", json=body, headers=headers, timeout=60)


def test_ten_identical_posts_leave_one_row_and_one_set_of_pauses(server, committed):
    service, token, prefix = committed
    item = ticket(f"{prefix}-same", service)
    calls = [lambda: _post(server, token, [item]) for _ in range(THREADS)]

    responses = _together(calls)

    assert [r.status_code for r in responses] == [201] * THREADS, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    assert sum(b["created"] for b in bodies) == 1
    assert sum(b["updated"] for b in bodies) == THREADS - 1
    assert len({b["ids"][0] for b in bodies}) == 1
    from apps.measurements.models import Ticket, TicketPause

    with schema_context(TENANT_A.schema):
        assert Ticket.objects.filter(external_id=item["external_id"]).count() == 1
        assert TicketPause.objects.filter(ticket__external_id=item["external_id"]).count() == 1


def test_overlapping_batches_in_any_order_neither_deadlock_nor_duplicate(server, committed):
    service, token, prefix = committed
    items = [ticket(f"{prefix}-batch-{n}", service) for n in range(200)]
    batches = [random.Random(seed).sample(items, len(items)) for seed in range(THREADS)]
    calls = [lambda batch=batch: _post(server, token, batch) for batch in batches]

    responses = _together(calls)

    assert [r.status_code for r in responses] == [201] * THREADS, [r.text for r in responses]
    assert sum(r.json()["created"] for r in responses) == len(items)
    from apps.measurements.models import Ticket

    with schema_context(TENANT_A.schema):
        assert Ticket.objects.filter(external_id__startswith=f"{prefix}-batch-").count() == len(
            items
        )
