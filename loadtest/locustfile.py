"""Locust users for `make loadtest` / `make scaletest` (started by loadtest/run.py).

The run writes a manifest (JSON, path in ``LOADTEST_MANIFEST``): the web servers'
base URLs, the demo password, and per tenant its host, the provider manager's API
token, a service for new tickets, its agreement references, which agreements each
customer sees, and the months with data.

- ``PortalUser`` (4 of 5 users): a customer (alice, bob or dora) of one of the two
  tenants, in turn, signs in through the login form, then reads the overview, an
  agreement page and a period page of the agreements they see.
- ``IngestUser`` (1 of 5): the provider manager's token posts batches of 50 new
  tickets (with one pause each) to ``/api/v1/tickets/``.

With several web servers, each request goes to the next one in turn (sessions live
in the tenant's database, so any server serves any signed-in user).

Every response body is searched for the *other* tenants' agreement references and
names; a hit is a failure named ``isolation`` and is counted. Every request is also
recorded (name, time, failure) and the records written as JSON to
``LOADTEST_RESULTS`` when the test stops, so the runner computes exact percentiles.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

MANIFEST: dict[str, Any] = json.loads(Path(os.environ["LOADTEST_MANIFEST"]).read_text())
TENANTS: list[dict[str, Any]] = MANIFEST["tenants"]
WEB_URLS: list[str] = MANIFEST["web_urls"]
CUSTOMERS = ["alice", "bob", "dora"]
BATCH = 50


def _foreign_pattern(tenant: dict[str, Any]) -> re.Pattern[str]:
    words = [
        re.escape(word)
        for other in TENANTS
        if other["slug"] != tenant["slug"]
        for word in [*other["references"], other["name"]]
    ]
    return re.compile(r"(?<![\w-])(?:" + "|".join(words) + r")(?![\w-])")


FOREIGN = {tenant["slug"]: _foreign_pattern(tenant) for tenant in TENANTS}

_lock = threading.Lock()
_counter = itertools.count()
_records: dict[str, list[float]] = defaultdict(list)
_failures: dict[str, int] = defaultdict(int)
_reasons: dict[str, int] = defaultdict(int)
_isolation: list[dict[str, str]] = []


@events.request.add_listener
def _record(name: str, response_time: float, exception: Any = None, **kwargs: Any) -> None:
    with _lock:
        _records[name].append(response_time)
        if exception is not None:
            _failures[name] += 1
            _reasons[f"{name}: {str(exception)[:200]}"] += 1


@events.test_stop.add_listener
def _write(**kwargs: Any) -> None:
    path = os.environ.get("LOADTEST_RESULTS")
    if not path:
        return
    with _lock:
        Path(path).write_text(
            json.dumps(
                {
                    "times": _records,
                    "failures": _failures,
                    "reasons": _reasons,
                    "isolation": _isolation,
                }
            )
        )


class _TenantUser(HttpUser):
    abstract = True
    host = WEB_URLS[0]

    def on_start(self) -> None:
        self.number = next(_counter)
        self.tenant = TENANTS[self.number % len(TENANTS)]
        self.foreign = FOREIGN[self.tenant["slug"]]
        self.turn = itertools.count(self.number)

    def url(self, path: str) -> str:
        return WEB_URLS[next(self.turn) % len(WEB_URLS)] + path

    def call(self, method: str, path: str, name: str, expect: int = 200, **kwargs: Any) -> Any:
        headers = {"Host": self.tenant["host"], **kwargs.pop("headers", {})}
        with self.client.request(
            method,
            self.url(path),
            name=name,
            headers=headers,
            catch_response=True,
            allow_redirects=False,
            **kwargs,
        ) as response:
            leak = self.foreign.search(response.text or "")
            if leak:
                with _lock:
                    _isolation.append(
                        {"tenant": self.tenant["slug"], "path": path, "found": leak.group(0)}
                    )
                response.failure(f"isolation: {leak.group(0)} on {self.tenant['slug']}")
            elif response.status_code != expect:
                error = getattr(response, "error", None)
                detail = f" ({error.__class__.__name__}: {error})" if error else ""
                response.failure(f"status {response.status_code}, expected {expect}{detail}")
            else:
                response.success()
            return response


class PortalUser(_TenantUser):
    weight = 4
    wait_time = between(1, 3)

    def on_start(self) -> None:
        super().on_start()
        self.customer = CUSTOMERS[(self.number // len(TENANTS)) % len(CUSTOMERS)]
        self.agreements: list[int] = self.tenant["agreements"][self.customer]
        self.periods: list[str] = self.tenant["periods"][1:7]  # the last six ended months
        page = self.call("GET", "/login/", "portal: sign in (form)")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text or "")
        self.call(
            "POST",
            "/login/",
            "portal: sign in",
            expect=302,
            data={
                "username": self.customer,
                "password": MANIFEST["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": f"http://{self.tenant['host']}/login/"},
        )

    def _pick(self, items: list[Any]) -> Any:
        return items[next(self.turn) % len(items)]

    @task(3)
    def overview(self) -> None:
        response = self.call("GET", "/", "portal: overview")
        prefix = self.tenant["slug"].upper() + "-"
        if response.status_code == 200 and prefix not in (response.text or ""):
            response.failure("own agreements missing from the overview")

    @task(2)
    def agreement(self) -> None:
        self.call("GET", f"/agreements/{self._pick(self.agreements)}/", "portal: agreement")

    @task(2)
    def period(self) -> None:
        agreement, period = self._pick(self.agreements), self._pick(self.periods)
        self.call("GET", f"/agreements/{agreement}/periods/{period}/", "portal: period")


class IngestUser(_TenantUser):
    weight = 1
    wait_time = between(1, 3)

    @task
    def ticket_batch(self) -> None:
        opened = datetime(2002, 1, 1, tzinfo=UTC)
        run = uuid.uuid4().hex[:12]
        items = [
            {
                "external_id": f"load-{run}-{i}",
                "service": self.tenant["service"],
                "priority": "P2",
                "opened_at": (opened + timedelta(minutes=i)).isoformat(),
                "first_response_at": (opened + timedelta(minutes=i + 30)).isoformat(),
                "resolved_at": (opened + timedelta(hours=4, minutes=i)).isoformat(),
                "pauses": [
                    {
                        "start": (opened + timedelta(hours=1, minutes=i)).isoformat(),
                        "end": (opened + timedelta(hours=2, minutes=i)).isoformat(),
                    }
                ],
            }
            for i in range(BATCH)
        ]
        self.call(
            "POST",
            "/api/v1/tickets/",
            "api: ticket batch (50)",
            expect=201,
            json=items,
            headers={"Authorization": f"Token {self.tenant['token']}"},
        )
